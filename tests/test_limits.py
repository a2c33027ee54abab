"""One place for every limit: RunConfig, the CLI, render.view and graphs.build all use gatviz.limits."""
import numpy as np
import pytest

from gatviz import GatvizError, RunConfig, graphs, limits, render
from gatviz.graphs import Report


@pytest.mark.parametrize("name", sorted(set(limits.INT_RANGES) & set(RunConfig.__dataclass_fields__)))
def test_run_config_uses_the_integer_ranges(name):
    lo, hi = limits.INT_RANGES[name]
    extra = {"sbm_nodes": hi} if name == "sbm_blocks" else {"sbm_blocks": 1} if name == "sbm_nodes" else {}
    RunConfig(**{name: lo}, **extra)
    RunConfig(**{name: hi}, **extra)
    for bad in (lo - 1, hi + 1):
        with pytest.raises(GatvizError, match=rf"{name} must be an integer from .* \(limit {name} in gatviz/limits.py\)"):
            RunConfig(**{name: bad})


def test_zero_epochs_is_refused_with_the_limit():
    with pytest.raises(GatvizError, match=r"epochs must be an integer from 1 to 100,000, not 0"):
        RunConfig(epochs=0)


def test_check_refuses_nan_and_bools():
    with pytest.raises(GatvizError, match="dropout"):
        limits.check("dropout", float("nan"))
    with pytest.raises(GatvizError, match="--top-k"):
        limits.check("top_k", True, label="--top-k")
    assert limits.check("top_k", 5) == 5


@pytest.mark.parametrize("kwargs,message", [
    ({"hops": 0}, "hops must be an integer from 1 to 2, not 0"),
    ({"hops": 3}, "hops must be an integer from 1 to 2, not 3"),
    ({"top_k": 0}, "top_k must be an integer from 1 to"),
    ({"top_k": -5}, "top_k must be an integer from 1 to"),
])
def test_view_validates_hops_and_top_k(karate_trainer, kwargs, message):
    with pytest.raises(GatvizError, match=message):
        render.view(karate_trainer.graph, karate_trainer.attention(), 0, 0, [0], **kwargs)


def test_undirected_edges_listed_both_ways_count_once(monkeypatch):
    monkeypatch.setattr(limits, "MAX_EDGES", 3)
    both_ways = [(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2)]   # 3 undirected edges
    g = graphs.build(both_ways, list("abcd"), name="t", report=Report("t"))
    assert g.num_edges == 6
    with pytest.raises(GatvizError, match=r"4 edges; gatviz handles at most 3 \(MAX_EDGES in gatviz/limits.py\)"):
        graphs.build([(0, 1), (1, 2), (2, 3), (3, 0)], list("abcd"), name="t", report=Report("t"))
    # directed: each direction is an edge of its own
    with pytest.raises(GatvizError, match="6 edges"):
        graphs.build(both_ways, list("abcd"), name="t", report=Report("t"), directed=True)


def test_node_cap_names_the_limit(monkeypatch):
    monkeypatch.setattr(limits, "MAX_NODES", 3)
    with pytest.raises(GatvizError, match=r"4 nodes; gatviz handles at most 3 \(MAX_NODES in gatviz/limits.py\)"):
        graphs.build(np.array([(0, 1), (2, 3)]), list("abcd"), name="t", report=Report("t"))
