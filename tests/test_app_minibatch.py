"""The sidebar's mini-batch settings, headless (AppTest): they reach RunConfig, the trainer
trains in mini-batches, the view's α is still the exact eval-mode α, links carry them."""
import numpy as np
import pytest
import torch

import ui
from gatviz import attention, limits

from streamlit.testing.v1 import AppTest

from test_app import APP, button, run, start, table, train_until_idle


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)   # what the ui package sets for the app


def captions(at) -> list[str]:
    return [c.value for c in at.sidebar.caption]


def test_mini_batch_on_cora_trains_sampled_and_the_view_stays_exact():
    at = start(gv_dataset="cora", gv_epochs=3, gv_per_update=3)
    assert "Training: full batch (every node and edge each step)." in captions(at)
    assert at.session_state["gv_trainer"].batches is None
    low, high = limits.INT_RANGES["batch_size"]
    size = at.number_input(key="gv_batch_size")
    assert (size.min, size.max) == (low, high) and "0 = full batch" in size.help
    run(size.set_value(256))
    run(at.text_input(key="gv_fanout").set_value("5,5"))
    trainer = at.session_state["gv_trainer"]        # untrained: the new settings apply at once
    assert trainer.config.batch_size == 256 and trainer.config.fanout == "5,5"
    assert trainer.batches is not None and trainer.batches.batch_size == 256 and trainer.batches.fanout == [5, 5]
    assert "Training: mini-batch, 256 seeds per step, fan-out 5,5." in captions(at)

    run(button(at, "Train").click())
    train_until_idle(at)
    assert at.session_state["gv_trainer"] is trainer and trainer.epoch == 3 and not at.error
    # the view's α: the library's eval-mode α of this trainer, over the full in-neighbourhood
    graph = at.session_state["gv_graph"]
    center = graph.index(at.session_state["gv_center"])
    rows = table(at)
    rows = rows.assign(source=[graph.index(n) for n in rows["name"]]).sort_values("source")
    assert abs(rows["alpha"].sum() - 1) < 1e-5
    _, reference = attention.extract(trainer.model, trainer.x, trainer.edge_index)
    incoming = reference.incoming(center)
    order = np.argsort(reference.edge_index[0, incoming].numpy())
    expected = reference.alpha[0][incoming][order].numpy()                # (inputs, H)
    assert rows["source"].tolist() == reference.edge_index[0, incoming][order].tolist()
    heads = rows[[f"head {h}" for h in range(expected.shape[1])]].to_numpy()
    np.testing.assert_allclose(heads, expected, atol=1e-6)
    np.testing.assert_allclose(heads.sum(axis=0), 1, atol=1e-5)


def test_a_bad_fanout_is_one_line_and_keeps_the_model():
    at = start(gv_epochs=2, gv_per_update=2)
    run(button(at, "Train").click())
    train_until_idle(at)
    trainer = at.session_state["gv_trainer"]
    run(at.text_input(key="gv_fanout").set_value("x"))
    assert [e.value for e in at.sidebar.error] == [
        ui.plain("fanout must be whole numbers separated by commas, like 10,10, not 'x'")]
    assert at.session_state["gv_trainer"] is trainer and trainer.epoch == 2 and not at.exception
    assert not at.warning                                     # nothing to apply, nothing to ask
    run(at.text_input(key="gv_fanout").set_value("3,3,3"))    # three numbers for two layers
    assert len(at.sidebar.error) == 1 and "gives 3 numbers for 2 layers" in at.sidebar.error[0].value
    run(at.text_input(key="gv_fanout").set_value("10"))
    assert not at.sidebar.error and at.session_state["gv_trainer"] is trainer


def test_a_link_carries_batch_size_and_fanout():
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in {"batch_size": "8", "fanout": "4,3,2", "layers": "3", "trained": "2"}.items():
        at.query_params[key] = value
    run(at)
    trainer = at.session_state["gv_trainer"]
    assert not at.warning and trainer.epoch == 2
    assert trainer.config.batch_size == 8 and trainer.batches.fanout == [4, 3, 2]
    assert at.text_input(key="gv_fanout").value == "4,3,2" and at.number_input(key="gv_batch_size").value == 8
    params = {k: v[0] if isinstance(v, list) else v for k, v in dict(at.query_params).items()}
    assert params["batch_size"] == "8" and params["fanout"] == "4,3,2"    # the address bar keeps them
    bad = AppTest.from_file(APP, default_timeout=60)
    bad.query_params["fanout"] = "x"
    run(bad)
    (warning,) = [w.value for w in bad.warning]
    assert "fanout must be whole numbers" in warning and bad.session_state["gv_trainer"].config.fanout == "10"


def test_the_mode_line_names_automatic_mini_batch(karate, monkeypatch):
    from gatviz import RunConfig, minibatch
    from gatviz.training import Trainer
    from ui import batching
    monkeypatch.setattr(limits, "MAX_NODES", 10)          # karate (34 nodes) is past the full-batch caps
    trainer = Trainer(karate, RunConfig(device="cpu"))
    assert batching.mode_text(trainer) == (f"Training: mini-batch (the graph is past the full-batch caps), "
                                           f"{minibatch.DEFAULT_BATCH_SIZE:,} seeds per step, fan-out 10,10.")
