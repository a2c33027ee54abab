"""gatviz.forked: epochs trained in a forked child leave the parent's trainer exactly where
training them in the parent would, at every state the parent takes, paused, spoiled or killed."""
import os
import signal
import time

import pytest
import torch

from gatviz import RunConfig, forked, graphs
from gatviz.errors import GatvizError
from gatviz.training import Trainer

pytestmark = pytest.mark.skipif(forked._FORK is None, reason="training in a forked child needs Linux's fork")


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread, as the app trains (a child only trains for such a parent)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def pair(dataset: str = "karate", epochs: int = 60, **settings) -> tuple[Trainer, Trainer]:
    config = RunConfig(dataset=dataset, epochs=epochs, **settings)
    graph = graphs.load(dataset, config)
    return Trainer(graph, config), Trainer(graph, config)


def in_child(trainer: Trainer, epochs: int, pause_at: int | None = None) -> forked.Child:
    child = forked.Child(trainer, epochs)
    try:
        while not child.wait(0.02):
            if pause_at is not None and trainer.epoch >= pause_at:
                child.pause()
    finally:
        child.close()
    return child


def rows(trainer: Trainer) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in trainer.history]


def assert_same(a: Trainer, b: Trainer) -> None:
    """The same run: epoch, history, weights, Adam's state, dropout stream and snapshots."""
    assert a.epoch == b.epoch and rows(a) == rows(b)
    for (name, x), y in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(x, y), name
    sa, sb = a.optimizer.state_dict()["state"], b.optimizer.state_dict()["state"]
    assert sa.keys() == sb.keys()
    for key in sa:
        for name in sa[key]:
            assert torch.equal(sa[key][name], sb[key][name]), (key, name)
    assert torch.equal(a.model.generator.get_state(), b.model.generator.get_state())
    assert a.snapshot_every == b.snapshot_every
    assert [s.epoch for s in a.snapshots] == [s.epoch for s in b.snapshots]
    for s, t in zip(a.snapshots, b.snapshots):
        assert all(torch.equal(x, y) for x, y in zip(s.alpha, t.alpha))


@pytest.mark.parametrize("model", ["gat", "gatv2"])
def test_epochs_trained_in_a_child_are_the_epochs_the_parent_would_train(model):
    here, there = pair(model=model, epochs=80)
    here.step(3)
    there.step(3)   # a run trained partly in the parent goes on in the child
    here.step(50)
    child = in_child(there, 50)
    assert child.error is None and child.finished
    assert_same(here, there)
    # its attention (from the weights it took) and the next epochs, trained in the parent, agree too
    assert all(torch.equal(x, y) for x, y in zip(here.attention().alpha, there.attention().alpha))
    here.step(10)
    there.step(10)
    assert_same(here, there)


def test_snapshots_thinned_out_in_the_child_reach_the_parent(monkeypatch):
    from gatviz import training
    monkeypatch.setattr(training, "SNAPSHOT_BUDGET", 40_000)   # karate's alpha: ~3 KB a snapshot
    here, there = pair(epochs=200, snapshot_every=1)
    here.step(200)
    in_child(there, 200)
    assert there.snapshot_every > 1   # thinned out on the way
    assert_same(here, there)


def test_while_the_child_trains_the_parent_is_always_at_a_whole_epoch_of_it(monkeypatch):
    monkeypatch.setattr(forked, "STATE_EVERY_S", 0.02)
    here, there = pair("cora", epochs=40)
    seen = []
    child = forked.Child(there, 40)
    try:
        while not child.wait(0.01):
            with there.lock:
                seen.append(there.epoch)
                assert len(there.history) == there.epoch == there.history[-1]["epoch"] if there.epoch else True
                assert there.attention().epoch == there.epoch
    finally:
        child.close()
    assert len(set(seen)) > 2 and seen == sorted(seen)   # it followed the run, epoch after epoch
    here.step(40)
    assert_same(here, there)


def test_a_parent_slow_to_read_one_state_does_not_hold_back_the_child_s_next_ones(monkeypatch):
    # Cora's state (~1.6 MB) is larger than the pipe's buffer: the child waits until the parent
    # reads it. Counted as the cost of sending, a parent busy for 0.5 s when the first state came
    # (two tabs' Train clicks) put the next one 20 s away: the page saw that epoch to the end.
    monkeypatch.setattr(forked, "STATE_EVERY_S", 0.2)
    _, there = pair("cora", epochs=150)
    applied, apply = [], forked._apply
    monkeypatch.setattr(forked, "_apply", lambda trainer, state: applied.append(state["epoch"]) or apply(trainer, state))
    child = forked.Child(there, 150)
    try:
        time.sleep(0.5)   # the parent busy: the child's first state (after FIRST_EPOCHS) waits in the pipe
        while not child.wait(0.02):
            pass
    finally:
        child.close()
    assert child.error is None and there.epoch == 150
    assert len([e for e in applied if forked.FIRST_EPOCHS < e < 150]) >= 2, applied   # (before: none)


@pytest.mark.parametrize("model", ["gat", "gcn"])
def test_the_parent_reads_the_child_s_last_eval_pass_instead_of_doing_it_again(model, monkeypatch):
    from gatviz import attention, training
    parent, calls = os.getpid(), []
    real_extract = attention.extract

    def extract(*args, **kwargs):   # counted in the parent only (the child trains with it)
        if os.getpid() == parent:
            calls.append(args[-1])
        return real_extract(*args, **kwargs)
    monkeypatch.setattr(training.attention, "extract", extract)
    real_eval = training.Trainer._eval_logits

    def eval_logits(self):   # (the model without attention: its logits alone)
        if os.getpid() == parent:
            calls.append("eval")
        return real_eval(self)
    monkeypatch.setattr(training.Trainer, "_eval_logits", eval_logits)
    _, there = pair("cora", epochs=30, model=model)
    in_child(there, 30)
    before = list(calls)
    logits = there.logits()
    assert calls == before   # the parent ran no forward of its own
    assert torch.equal(logits, real_eval(there))   # and it is the weights' own eval pass
    if model == "gat":
        table = there.attention()
        again = real_extract(there.model, there.x, there.edge_index, there.epoch)[1]
        assert table.epoch == there.epoch == 30 and torch.equal(table.edge_index, again.edge_index)
        assert all(torch.equal(x, y) for x, y in zip(table.alpha, again.alpha))
        assert all(torch.equal(x, y) for x, y in zip(table.score, again.score))


def test_a_paused_child_leaves_a_whole_epoch_that_trains_on_alike():
    here, there = pair(epochs=100_000)
    in_child(there, 100_000, pause_at=1)
    assert 1 <= there.epoch < 100_000 and len(there.history) == there.epoch
    here.step(there.epoch)
    assert_same(here, there)
    in_child(there, 7)   # and a second child goes on from there
    here.step(7)
    assert_same(here, there)


def test_a_run_spoiled_in_the_child_is_spoiled_in_the_parent_with_the_last_good_outputs(monkeypatch):
    here, there = pair(epochs=10)
    for trainer in (here, there):
        real_step = trainer.optimizer.step

        def spoil(*args, trainer=trainer, real_step=real_step, **kwargs):   # as an overflowing update would
            real_step(*args, **kwargs)
            if trainer.epoch == 4:
                with torch.no_grad():
                    next(trainer.model.parameters()).fill_(float("inf"))
        monkeypatch.setattr(trainer.optimizer, "step", spoil)
    with pytest.raises(GatvizError) as raised:
        here.step(10)
    child = in_child(there, 10)   # (the fork takes the patched optimizer along)
    assert isinstance(child.error, GatvizError) and str(child.error) == str(raised.value)
    assert there.spoiled == here.spoiled and there.epoch == here.epoch == 4 and rows(there) == rows(here)
    assert all(torch.equal(x, y) for x, y in zip(here.attention().alpha, there.attention().alpha))
    assert torch.equal(here.logits(), there.logits())
    assert not forked.can_fork(there)
    with pytest.raises(GatvizError, match="Reset to start a new model"):
        there.step(1)


def signalled(trainer: Trainer, signum: int) -> forked.Child:
    """A child training ``trainer`` on and on, sent ``signum`` once the trainer has its first state."""
    child = forked.Child(trainer, 100_000)
    try:
        while trainer.epoch == 0:
            assert not child.wait(0.02)
        os.kill(child.process.pid, signum)
        deadline = time.monotonic() + 10
        while not child.wait(0.05):
            assert time.monotonic() < deadline
    finally:
        child.close()
    return child


def test_a_child_killed_says_so_in_one_line_and_leaves_its_last_state_to_look_at():
    here, there = pair("cora", epochs=100_000)
    child = signalled(there, signal.SIGKILL)
    assert isinstance(child.error, GatvizError)
    assert str(child.error).startswith("the training process ended unexpectedly (exit code -9")
    assert "\n" not in str(child.error)
    # the weights and history of its last state, consistent; no training on (Adam's state died with it)
    here.step(there.epoch)
    assert rows(here) == rows(there)
    assert all(torch.equal(x, y) for x, y in zip(here.model.parameters(), there.model.parameters()))
    assert there.attention().epoch == there.epoch
    with pytest.raises(GatvizError, match="not trained on; Reset to start a new model"):
        there.step(1)


def test_a_signal_ends_the_child_and_never_runs_the_parent_s_handler(tmp_path):
    """A web server's SIGTERM/SIGINT handler stops the server: the child's copy must not run it."""
    ran = tmp_path / "handler ran"
    before = signal.signal(signal.SIGTERM, lambda *_: ran.write_text(str(os.getpid())))
    try:
        child = signalled(pair("cora", epochs=100_000)[1], signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, before)
    assert "exit code -15" in str(child.error) and not ran.exists()


def test_only_a_trainer_the_child_would_train_alike_is_forked():
    trainer, _ = pair()
    assert forked.can_fork(trainer)
    torch.set_num_threads(2)   # the child trains on one thread: its sums would differ
    assert not forked.can_fork(trainer)
    torch.set_num_threads(1)
    batched, _ = pair(batch_size=8)   # mini-batches draw from the process's global RNG
    assert batched.batches is not None and not forked.can_fork(batched)
    with pytest.raises(ValueError):
        forked.Child(batched, 1)
