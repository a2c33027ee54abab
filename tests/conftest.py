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
