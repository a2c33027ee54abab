import json

import pytest
import torch

from gatviz import GatvizError, RunConfig, runs
from gatviz.training import Trainer


@pytest.fixture(scope="module")
def _pristine(tmp_path_factory, karate):
    trainer = Trainer(karate, RunConfig(epochs=8, device="cpu"))
    trainer.step(8)
    run = runs.save(tmp_path_factory.mktemp("pristine") / "run", trainer, runs.GraphSource("karate"))
    return run, trainer


@pytest.fixture
def saved(tmp_path, _pristine):
    """A fresh copy of a saved 8-epoch karate run, free to damage."""
    import shutil
    run, trainer = _pristine
    return shutil.copytree(run, tmp_path / "run"), trainer


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


class _Payload:
    """Unpickling this would run code: what a hostile model.pt carries."""

    def __reduce__(self):
        import os
        return os.system, ("echo pwned",)


def _corrupt_model(path):
    good = path.read_bytes()
    return {
        "truncated": lambda: path.write_bytes(good[: len(good) // 2]),
        "empty": lambda: path.write_bytes(b""),
        "random bytes": lambda: path.write_bytes(bytes(range(256)) * 40),
        "pickle payload": lambda: torch.save({"state_dict": _Payload()}, path),
        "not a dict": lambda: torch.save([1, 2, 3], path),
        "state_dict 5": lambda: torch.save({"state_dict": 5}, path),
        "state_dict of strings": lambda: torch.save({"state_dict": {"w": "x"}}, path),
        "epoch not a number": lambda: torch.save({**torch.load(path, weights_only=True), "epoch": "x"}, path),
        "a directory": lambda: (path.unlink(), path.mkdir()),
    }


MODEL_CASES = ["truncated", "empty", "random bytes", "pickle payload", "not a dict", "state_dict 5",
               "state_dict of strings", "epoch not a number", "a directory"]


def _one_line_error(run, *names):
    with pytest.raises(GatvizError) as err:
        runs.load(run)
    text = str(err.value)
    assert "\n" not in text and "\r" not in text and all(n in text for n in names), text
    assert "weights_only" not in text and "Traceback" not in text, text
    return text


@pytest.mark.parametrize("case", MODEL_CASES)
def test_a_broken_model_file_is_one_line_naming_it(saved, case, capfd):
    run, _ = saved
    _corrupt_model(run / "model.pt")[case]()
    _one_line_error(run, "model.pt")
    assert "pwned" not in capfd.readouterr().out


@pytest.mark.parametrize("graph,message", [
    ({"dataset": "upload", "edges": 5}, "edges must be a path"),
    ({"dataset": "upload", "edges": "/etc/passwd"}, "outside the run directory"),
    ({"dataset": "upload", "edges": "../outside.csv"}, "outside the run directory"),
    ({"dataset": "karate", "colour": "red"}, "unknown key"),
    ({"dataset": "karate", "\r": 1, "a\nb": 2}, "unknown key"),   # keys with line breaks: still one line
    ({"dataset": 5}, "dataset must be"),
    ({"format": 99, "dataset": "karate"}, "format 99"),
    ([], "must be a JSON object"),
    ("{nope", "not valid JSON"),
])
def test_a_broken_graph_json_is_refused(saved, graph, message):
    run, _ = saved
    (run.parent / "outside.csv").write_text("a,b\n")
    (run / "graph.json").write_text(graph if isinstance(graph, str) else json.dumps(graph))
    _one_line_error(run, "graph.json", message)


@pytest.mark.parametrize("metrics,message", [
    ([], "must be a JSON object"),
    ({"history": 5}, "history must be a list"),
    ({"history": [1]}, "history row 1"),
    ({"history": [{"epoch": 1}]}, "history row 1"),
    ("", "not valid JSON"),
])
def test_a_broken_metrics_json_is_refused(saved, metrics, message):
    run, _ = saved
    (run / "metrics.json").write_text(metrics if isinstance(metrics, str) else json.dumps(metrics))
    _one_line_error(run, "metrics.json", message)


@pytest.mark.parametrize("config,message", [
    ("[]", "must be a JSON object"),
    ('{"heads": "x"}', "heads must be an integer"),
    ('{"colour": 1}', "unknown setting"),
    ('{"\\r": 1, "a\\nb": 2}', "unknown setting"),   # keys with line breaks: still one line
    ('{"directed": "yes"}', "directed must be true or false"),
    ('{"dataset": 5}', "dataset must be"),
    ("\xff", "not valid JSON"),
])
def test_a_broken_config_json_is_refused(saved, config, message):
    run, _ = saved
    (run / "config.json").write_text(config)
    _one_line_error(run, "config.json", message)


def test_runs_carry_a_format_version_and_old_runs_still_load(saved):
    run, trainer = saved
    stored = json.loads((run / "graph.json").read_text())
    assert stored["format"] == runs.FORMAT == 1
    del stored["format"]                           # written before the version existed: read as 1
    (run / "graph.json").write_text(json.dumps(stored))
    assert runs.load(run).epoch == trainer.epoch


def test_loaded_history_without_validation_keeps_nan(tmp_path):
    edges, nodes = tmp_path / "e.csv", tmp_path / "n.csv"
    edges.write_text("a,b\nb,c\n")
    nodes.write_text("a,x\nb,y\nc,z\n")            # one node per class: no validation nodes
    from gatviz.parse import load_files
    trainer = Trainer(load_files(edges, nodes), RunConfig(dataset="upload", epochs=2, heads=1, device="cpu"))
    trainer.step(2)
    run = runs.save(tmp_path / "run", trainer, runs.GraphSource("upload", str(edges), str(nodes)))
    metrics = runs.load(run).metrics()
    assert metrics["best_val_epoch"] is None and metrics["test_acc_at_best_val"] is None
