import pytest
import torch

from gatviz import GatvizError, RunConfig, graphs
from gatviz.training import Trainer, resolve_device


def test_seeded_runs_are_identical_and_chunking_does_not_matter(karate):
    config = RunConfig(epochs=20, device="cpu")
    a = Trainer(karate, config)
    a.step(20)
    b = Trainer(karate, config)
    for chunk in (3, 7, 10):
        torch.rand(5)    # other work touching the global RNG between chunks must not matter
        b.step(chunk)
    assert [r["loss"] for r in a.history] == [r["loss"] for r in b.history]
    assert a.metrics()["test_acc"] == b.metrics()["test_acc"]


def test_history_and_resume(karate):
    t = Trainer(karate, RunConfig(epochs=10, device="cpu"))
    t.step(4)
    assert t.epoch == 4 and t.remaining == 6
    t.step(6)
    assert [r["epoch"] for r in t.history] == list(range(1, 11))
    assert set(t.history[0]) >= {"loss", "val_loss", "train_acc", "val_acc", "test_acc"}
    assert t.history[-1]["loss"] < t.history[0]["loss"]


def test_snapshots_every_k_epochs_in_float16(karate):
    t = Trainer(karate, RunConfig(epochs=12, snapshot_every=5, device="cpu"))
    t.step(12)
    assert [s.epoch for s in t.snapshots] == [5, 10, 12]    # and the last epoch
    assert all(a.dtype == torch.float16 for s in t.snapshots for a in s.alpha)
    table = t.snapshot_table(t.snapshots[0])
    assert table.epoch == 5 and table.alpha[0].shape == (156 + 34, 8)


def test_snapshot_budget_is_never_exceeded(karate, monkeypatch):
    import gatviz.training as training
    one = (156 + 34) * (8 + 1) * 2      # bytes of one float16 snapshot of karate
    monkeypatch.setattr(training, "SNAPSHOT_BUDGET", one * 10)
    t = Trainer(karate, RunConfig(epochs=40, snapshot_every=1, device="cpu"))
    held = []
    for _ in range(40):
        t.step(1)
        held.append(t.snapshot_bytes)
    assert max(held) <= one * 10
    assert t.snapshots[-1].epoch == 40 and t.snapshots[0].epoch < 10   # still spans the run
    assert t.snapshot_every > 1


def test_sparse_features_and_gatv2_learn_cora():
    g = graphs.load("cora")
    t = Trainer(g, RunConfig(dataset="cora", model="gatv2", epochs=30, device="cpu"))
    assert t.x.layout == torch.sparse_csr
    t.step(30)
    assert t.metrics()["val_acc"] > 0.6


def test_cuda_request_without_gpu_is_a_user_error():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present, so device cuda is valid here")
    with pytest.raises(GatvizError, match="no CUDA"):
        resolve_device("cuda")
    assert resolve_device("auto").type == "cpu"


def test_gpu_out_of_memory_falls_back_to_cpu(karate, monkeypatch):
    t = Trainer(karate, RunConfig(epochs=5, device="cpu"))
    real_step, calls = t._step, []

    def flaky(epochs):
        calls.append(t.device.type)
        if len(calls) == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")
        return real_step(epochs)

    monkeypatch.setattr(t, "_step", flaky)
    t.device = torch.device("cuda")          # pretend the run was on a GPU
    rows = t.step(2)
    assert calls == ["cuda", "cpu"] and len(rows) == 2
    assert t.device.type == "cpu" and "out of memory" in t.notice
