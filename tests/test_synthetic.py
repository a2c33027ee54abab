import json

import numpy as np
import pytest
import torch

from gatviz import GatvizError, RunConfig, graphs
from gatviz.cli import main
from gatviz.config import recommended
from gatviz.synthetic import DICT_INSTANCES, dictionary, dictionary_match
from gatviz.training import Trainer


def instance_of(g, node):
    return node // (2 * g.num_classes)


def test_counts_names_and_features():
    g = dictionary(4, instances=6, seed=0)
    assert (g.num_nodes, g.num_edges, g.num_classes) == (6 * 8, 6 * 16, 4)
    assert g.report.directed and g.report.edges == 96 and "directed" in g.report.lines()[0]
    assert g.class_names == ["value 0", "value 1", "value 2", "value 3"]
    assert len(set(g.names)) == g.num_nodes
    assert g.names[:5] == [f"#0 key a{a}=v{int(g.data.y[a])}" for a in range(4)] + ["#0 query a0"]
    x, y = g.data.x, g.data.y
    assert x.shape == (48, 8)
    keys, queries = x[:4], x[4:8]
    assert torch.equal(keys[:, :4], torch.eye(4)) and torch.equal(queries[:, :4], torch.eye(4))
    assert torch.equal(keys[:, 4:], torch.eye(4)[y[:4]])         # one-hot value
    assert torch.equal(queries[:, 4:], torch.zeros(4, 4))        # a query has no value


def test_every_query_sees_exactly_the_keys_of_its_instance():
    g = dictionary(5, instances=7, seed=2)
    src, dst = g.data.edge_index.numpy()
    k, key_of = 5, g.data.key_of.numpy()
    is_key = key_of < 0
    assert is_key[src].all() and not is_key[dst].any()           # key -> query only
    for q in np.flatnonzero(~is_key):
        sources = np.sort(src[dst == q])
        first = instance_of(g, q) * 2 * k
        assert sources.tolist() == list(range(first, first + k))  # its k keys, nothing else
        assert instance_of(g, key_of[q]) == instance_of(g, q)
        assert g.data.y[q] == g.data.y[key_of[q]]                 # label = matching key's value
        assert g.names[key_of[q]].split()[2].split("=")[0] == g.names[q].split()[2]   # same attribute
        assert g.names[key_of[q]].endswith(f"=v{int(g.data.y[q])}")


def test_split_is_by_instance_and_queries_only():
    g = dictionary(3, instances=20, seed=1)
    masks = [g.data.train_mask, g.data.val_mask, g.data.test_mask]
    assert [int(m.sum()) for m in masks] == [12 * 3, 4 * 3, 4 * 3]
    is_query = (g.data.key_of >= 0)
    assert torch.equal(masks[0] | masks[1] | masks[2], is_query)   # every query once, no key
    assert not bool((masks[0] & masks[1]).any() | (masks[0] & masks[2]).any() | (masks[1] & masks[2]).any())
    parts = [set(instance_of(g, np.flatnonzero(m.numpy())).tolist()) for m in masks]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert len(parts[0] | parts[1] | parts[2]) == 20


def test_seeded():
    a, b, c = dictionary(6, 30, seed=4), dictionary(6, 30, seed=4), dictionary(6, 30, seed=5)
    for key in ("x", "edge_index", "y", "train_mask", "test_mask"):
        assert torch.equal(a.data[key], b.data[key])
    assert a.names == b.names
    assert not torch.equal(a.data.y, c.data.y) and not torch.equal(a.data.test_mask, c.data.test_mask)


def test_load_and_limits():
    g = graphs.load("dictionary", RunConfig(dataset="dictionary", dict_size=3, seed=7))
    assert g.name == "dictionary" and g.num_nodes == DICT_INSTANCES * 6
    assert torch.equal(g.data.y, dictionary(3, seed=7).data.y)
    with pytest.raises(GatvizError, match="dict_size must be an integer from 2 to 100, not 1"):
        RunConfig(dict_size=1)
    with pytest.raises(GatvizError, match="640,000 edges"):        # 400 * 40²
        graphs.load("dictionary", RunConfig(dict_size=40))
    with pytest.raises(GatvizError, match="not a dictionary graph"):
        dictionary_match(graphs.load("karate"), None, 0)


def test_recommended_settings_are_valid_and_only_for_dictionary():
    assert recommended("cora") == {} and recommended("karate") == {}
    advised = recommended("dictionary")
    assert advised["layers"] == 1 and advised["weight_decay"] == 0.0
    RunConfig(dataset="dictionary", **advised)       # every value passes validation
    advised["layers"] = 3
    assert recommended("dictionary")["layers"] == 1  # a copy: callers cannot change the table


def train(graph, model, **changes):
    config = RunConfig(dataset="dictionary", model=model, device="cpu",
                       **{**recommended("dictionary"), **changes})
    trainer = Trainer(graph, config)
    trainer.step(config.epochs)
    return trainer


def top_share(trainer, graph):
    """Fraction of test queries whose largest α (head mean, the only layer) is on the matching key."""
    table = dictionary_match(graph, trainer.attention(), 0, "mean")
    test = graph.data.test_mask.numpy()[table.index]
    return float(table["top"][test].mean())


@pytest.fixture(scope="module")
def small():
    """GATv2 and GAT on a smaller dictionary (k = 8, 100 instances) with the recommended settings."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)    # 2 threads on 2 busy cores: ~10x slower here
    try:
        g = dictionary(8, instances=100, seed=0)
        return g, train(g, "gatv2"), train(g, "gat")
    finally:
        torch.set_num_threads(threads)


def test_gatv2_looks_up_and_gat_cannot(small):
    g, v2, v1 = small
    assert v2.metrics()["test_acc"] >= 0.95
    assert v1.metrics()["test_acc"] <= 0.5
    assert top_share(v2, g) >= 0.9
    assert top_share(v1, g) <= 0.3


def test_gat_ranks_the_keys_alike_for_every_query_and_gatv2_does_not(small):
    """Static attention: per GAT head, every query of an instance attends most to the same key."""
    g, v2, v1 = small
    instance = instance_of(g, np.flatnonzero(g.data.key_of >= 0))
    for head in range(8):
        table = dictionary_match(g, v1.attention(), 0, head)
        assert (table.groupby(instance)["top_key"].nunique() == 1).all()
    table = dictionary_match(g, v2.attention(), 0, "mean")
    assert table.groupby(instance)["top_key"].nunique().mean() >= 0.9 * 8


def test_dictionary_match_numbers(small):
    g, v2, _ = small
    att = v2.attention()
    table = dictionary_match(g, att, 0, 2)
    assert len(table) == 100 * 8 and (table.index.to_numpy() == np.flatnonzero(g.data.key_of >= 0)).all()
    q = int(np.flatnonzero(g.data.test_mask)[0])
    edges = att.incoming(q)
    alpha = att.alpha[0][edges, 2].numpy()
    sources = att.edge_index[0].numpy()[edges]
    hit = sources == int(g.data.key_of[q])
    assert table.loc[q, "match"] == pytest.approx(float(alpha[hit][0]))
    assert table.loc[q, "best_other"] == pytest.approx(float(alpha[~hit].max()))
    keys = sources != q
    assert table.loc[q, "top_key"] == sources[keys][np.argmax(alpha[keys])]
    assert table.loc[q, "uniform"] == pytest.approx(1 / 9)
    assert (table["match"] + table["best_other"] <= 1 + 1e-6).all()


@pytest.mark.slow
def test_default_dictionary_with_recommended_settings():
    """The claim for the real default: k = 10, 400 instances, the recommended settings."""
    g = graphs.load("dictionary", RunConfig(dataset="dictionary"))
    torch.set_num_threads(1)    # restored by conftest's fixture
    v2, v1 = train(g, "gatv2"), train(g, "gat")
    assert v2.metrics()["test_acc"] >= 0.95
    assert v1.metrics()["test_acc"] <= 0.5
    assert top_share(v2, g) >= 0.9
    assert top_share(v1, g) <= 0.3


def test_cli_applies_recommended_settings_unless_given(tmp_path, capsys):
    run = tmp_path / "D"
    assert main(["train", "--dataset", "dictionary", "--dict-size", "5", "--epochs", "5",
                 "--out", str(run)]) == 0
    config = json.loads((run / "config.json").read_text())
    assert (config["dict_size"], config["epochs"], config["layers"], config["lr"]) == (5, 5, 1, 0.02)
    assert "recommended for dictionary" in capsys.readouterr().err
    assert main(["train", "--dataset", "karate", "--epochs", "1", "--layers", "3",
                 "--out", str(tmp_path / "K")]) == 0
    config = json.loads((tmp_path / "K" / "config.json").read_text())
    assert (config["layers"], config["dropout"], config["lr"]) == (3, 0.6, 0.005)   # RunConfig's defaults
