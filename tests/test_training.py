import pytest
import torch

from gatviz import GatvizError, RunConfig, graphs, training
from gatviz.model import GAT
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
    # the eval-mode loss: the training loss carries dropout's noise from epoch to epoch
    assert t.history[-1]["val_loss"] < t.history[0]["val_loss"]


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


def test_building_a_trainer_leaves_the_global_rng_alone(karate):
    torch.manual_seed(1234)
    before = torch.get_rng_state()
    expected_next = torch.rand(3)
    torch.set_rng_state(before)
    Trainer(karate, RunConfig(epochs=2, seed=7, device="cpu"))
    assert torch.equal(torch.get_rng_state(), before)      # a notebook's own stream goes on
    assert torch.equal(torch.rand(3), expected_next)


def test_seeded_weights_are_those_of_torch_manual_seed(karate):
    # the same weights as seeding the global RNG and building the model (what Trainer did before)
    config = RunConfig(epochs=2, seed=3, device="cpu")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        reference = GAT(karate.data.x.size(1), karate.num_classes, config)
    a, b = Trainer(karate, config), Trainer(karate, config)
    for (name, w), ref in zip(a.model.state_dict().items(), reference.state_dict().values()):
        assert torch.equal(w, ref) and torch.equal(w, b.model.state_dict()[name]), name
    a.step(3)
    b.step(3)
    assert _same_but_seconds(a.history, b.history)


def _same_but_seconds(x, y):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in x] == \
           [{k: v for k, v in r.items() if k != "seconds"} for r in y]


def test_the_model_is_built_under_the_rng_lock(karate, monkeypatch):
    # Streamlit runs one thread per session: building a model (which seeds and draws from
    # torch's one global RNG) must wait while another session's chunk holds the lock
    seen = []
    real = training.GAT

    def spy(*args, **kwargs):
        seen.append(training._RNG_LOCK.locked())
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "GAT", spy)
    Trainer(karate, RunConfig(epochs=1, device="cpu"))
    assert seen == [True]


def test_a_trainer_built_between_chunks_does_not_change_another_run(karate):
    config = RunConfig(epochs=6, seed=0, device="cpu")
    alone = Trainer(karate, config)
    alone.step(6)
    mixed = Trainer(karate, config)
    mixed.step(3)
    Trainer(karate, config.replace(seed=9))                # another session starts
    torch.rand(100)                                        # and a notebook draws numbers
    mixed.step(3)
    assert _same_but_seconds(alone.history, mixed.history)


def test_two_trainers_in_threads_at_once_reproduce_their_runs_alone(karate):
    # sessions train in threads at the same time: each draws dropout from its own
    # generator, so neither run depends on the other (no global RNG lock for a whole run)
    import threading

    configs = [RunConfig(epochs=12, seed=s, device="cpu") for s in (1, 2)]
    alone = []
    for c in configs:
        t = Trainer(karate, c)
        t.step(12)
        alone.append(t.history)
    together = [Trainer(karate, c) for c in configs]
    threads = [threading.Thread(target=lambda t=t: [t.step(1) for _ in range(12)]) for t in together]
    for th in threads:
        th.start()
    torch.rand(1000)                                       # and the main thread draws meanwhile
    for th in threads:
        th.join()
    for t, history in zip(together, alone):
        assert _same_but_seconds(t.history, history)
    assert not training._RNG_LOCK.locked()


def test_training_holds_the_trainer_lock_per_epoch_and_a_copy_has_its_own(karate, monkeypatch):
    import copy

    t = Trainer(karate, RunConfig(epochs=4, device="cpu"))
    held = []
    real = t._epoch
    monkeypatch.setattr(t, "_epoch", lambda: (held.append(t.lock._is_owned()), real())[1])
    t.step(2)
    assert held == [True, True]
    monkeypatch.undo()
    twin = copy.deepcopy(t)
    assert twin.lock is not t.lock and twin.model.generator is not t.model.generator
    t.step(2)
    twin.step(2)
    assert _same_but_seconds(t.history, twin.history)


def _huge_features_graph():
    """30 nodes whose features fit a float32 but are ~1e36: outputs stop being finite numbers."""
    from gatviz.parse import parse_upload
    names = [f"n{i}" for i in range(30)]
    edges = "\n".join(f"{names[i]},{names[(i + 1) % 30]}\n{names[i]},{names[(i + 7) % 30]}" for i in range(30))
    nodes = "\n".join(f"{n},{i % 3},{i * 1e36},{(i % 5) * 1e36}" for i, n in enumerate(names))
    return parse_upload(edges.encode(), nodes.encode())


@pytest.mark.parametrize("batch_size", [0, 8])
def test_features_too_large_stop_training_in_one_line_and_nothing_shown_is_nan(batch_size):
    trainer = Trainer(_huge_features_graph(), RunConfig(dataset="upload", epochs=200, batch_size=batch_size))
    with pytest.raises(GatvizError, match=r"^training stopped at epoch \d+: .*(not finite|loss is (nan|inf)).*scale them"):
        trainer.step(200)
    shown = trainer.attention()
    assert trainer.epoch == len(trainer.history) and trainer.epoch < 200          # the epoch is not counted
    assert shown is None or all(bool(torch.isfinite(a).all()) for a in shown.alpha)
    try:                                                                          # again: no NaN either way
        rows = trainer.step(1)
        assert all(torch.isfinite(torch.tensor(r["loss"])) for r in rows)
    except GatvizError as e:
        assert "scale them" in str(e)


def test_weights_whose_outputs_are_not_finite_are_neither_shown_nor_saved(karate, tmp_path, monkeypatch):
    from gatviz import runs
    trainer = Trainer(karate, RunConfig(epochs=10))
    trainer.step(2)
    shown = trainer.attention()
    real_step = trainer.optimizer.step

    def spoil(*args, **kwargs):   # as an overflowing update would
        real_step(*args, **kwargs)
        with torch.no_grad():
            next(trainer.model.parameters()).fill_(float("inf"))
    monkeypatch.setattr(trainer.optimizer, "step", spoil)
    with pytest.raises(GatvizError, match=r"^training stopped at epoch 3: the model's outputs are no longer finite"):
        trainer.step(1)
    assert trainer.epoch == 2 and len(trainer.history) == 2 and trainer.attention() is shown
    monkeypatch.undo()
    with pytest.raises(GatvizError, match="Reset to start a new model"):
        trainer.step(1)
    with pytest.raises(GatvizError, match="no longer finite"):
        runs.save(tmp_path / "run", trainer, runs.GraphSource("karate"))


def test_a_loss_that_is_not_finite_is_never_backpropagated(karate, monkeypatch):
    trainer = Trainer(karate, RunConfig(epochs=5))
    before = [p.detach().clone() for p in trainer.model.parameters()]
    monkeypatch.setattr(training.F, "cross_entropy", lambda *a, **k: torch.tensor(float("nan"), requires_grad=True))
    with pytest.raises(GatvizError, match=r"^training stopped at epoch 1: the loss is nan \(features too large"):
        trainer.step(5)
    assert trainer.epoch == 0 and trainer.history == []
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.model.parameters()))
