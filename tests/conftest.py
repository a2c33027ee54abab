import pytest
import torch

from gatviz import RunConfig, graphs
from gatviz.training import Trainer


@pytest.fixture(scope="session")
def karate():
    return graphs.load("karate")


@pytest.fixture(scope="session")
def karate_trainer(karate):
    trainer = Trainer(karate, RunConfig(epochs=30, device="cpu"))
    trainer.step(30)
    return trainer


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def _widget_runs_as_in_the_browser(monkeypatch):
    """Streamlit's AppTest runs every widget's interaction as a full run; the browser runs a
    widget in a fragment as a run of that fragment alone. A callback that reruns other
    fragments (ui.reruns.retarget) lets a full run go on: under AppTest it reads a full run as
    the widget's own, as in the browser (tests/test_reruns.py covers the full run's case)."""
    from ui import reruns
    monkeypatch.setattr(reruns, "_carried", lambda ctx: ctx.fragment_ids_this_run or [])
