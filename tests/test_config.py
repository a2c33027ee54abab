import pytest

from gatviz import GatvizError, RunConfig


def test_defaults_are_the_paper_settings():
    c = RunConfig()
    assert (c.layers, c.heads, c.hidden, c.out_heads) == (2, 8, 8, 1)
    assert (c.dropout, c.lr, c.weight_decay) == (0.6, 0.005, 5e-4)


def test_json_round_trip():
    c = RunConfig(dataset="cora", model="gatv2", heads=4, lr=0.01, directed=True)
    assert RunConfig.from_json(c.to_json()) == c


def test_query_round_trip_keeps_only_changes():
    c = RunConfig(model="gatv2", seed=3, dropout=0.5, directed=True)
    q = c.to_query()
    assert q == {"model": "gatv2", "seed": "3", "dropout": "0.5", "directed": "true"}
    assert RunConfig.from_query({**q, "node": "ignored"}) == c


@pytest.mark.parametrize("bad", [{"model": "gin"}, {"heads": 0}, {"dropout": 1.5}, {"layers": 2.5},
                                 {"seed": -1}, {"device": "tpu"}, {"epochs": True}])
def test_bad_values_name_the_setting(bad):
    with pytest.raises(GatvizError, match=next(iter(bad))):
        RunConfig(**bad)


def test_bad_query_and_json():
    with pytest.raises(GatvizError, match="heads"):
        RunConfig.from_query({"heads": "many"})
    with pytest.raises(GatvizError, match="JSON"):
        RunConfig.from_json("{nope")
    with pytest.raises(GatvizError, match="unknown setting"):
        RunConfig.from_dict({"colour": "red"})
