import json

import pytest
import torch

from gatviz import GatvizError, RunConfig, runs
from gatviz.training import Trainer


@pytest.fixture
def saved(tmp_path, karate):
    trainer = Trainer(karate, RunConfig(epochs=8, device="cpu"))
    trainer.step(8)
    runs.save(tmp_path / "run", trainer, runs.GraphSource("karate"))
    return tmp_path / "run", trainer


def test_round_trip_restores_weights_history_and_attention(saved):
    run, trainer = saved
    loaded = runs.load(run)
    assert loaded.epoch == 8 and len(loaded.history) == 8
    a, b = trainer.attention(), loaded.attention()
    for x, y in zip(a.alpha, b.alpha):
        assert torch.allclose(x, y)
    assert torch.equal(trainer.predictions(), loaded.predictions())


def test_uploaded_inputs_are_copied_into_the_run(tmp_path):
    edges = tmp_path / "mine.csv"
    edges.write_text("a,b\nb,c\nc,a\nc,d\n")
    from gatviz.parse import load_files
    trainer = Trainer(load_files(edges), RunConfig(dataset="upload", epochs=2, heads=2, device="cpu"))
    trainer.step(2)
    run = runs.save(tmp_path / "run", trainer, runs.GraphSource("upload", str(edges)))
    edges.unlink()                                 # the run no longer needs the original
    assert runs.load(run).graph.names == ["a", "b", "c", "d"]


def test_a_model_that_does_not_match_its_config_is_a_user_error(saved):
    run, _ = saved
    config = json.loads((run / "config.json").read_text())
    config["heads"] = 4
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(GatvizError, match="does not match"):
        runs.load(run)


def test_weights_are_loaded_with_weights_only(saved, monkeypatch):
    run, _ = saved
    seen = {}
    real = torch.load

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    runs.load(run)
    assert seen.get("weights_only") is True
