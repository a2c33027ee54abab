"""A closed tab's memory is released (ui/release.py): finalised trainers ask for one throttled
release; sessions gone past the TTL are cleared. No timing asserts (bench/release.py measures)."""
import gc
import threading

import pytest

from gatviz import RunConfig
from gatviz.training import Trainer
from ui import release


@pytest.fixture
def releases(monkeypatch):
    """Release calls, made at once (no timer) and recorded instead of collecting and trimming."""
    calls = []
    monkeypatch.setattr(release, "THROTTLE_S", 0.0)
    monkeypatch.setattr(release, "release", lambda: (calls.append(threading.get_ident()),
                                                     setattr(release, "_pending", False)))
    monkeypatch.setattr(release, "_pending", False)
    monkeypatch.setattr(release, "ON", True)
    monkeypatch.setattr(release, "stats", {"finalised": 0, "releases": 0, "sessions": 0})
    return calls


def wait_for(calls, n):
    for _ in range(200):
        if len(calls) >= n:
            return
        threading.Event().wait(0.01)


def test_a_dropped_trainer_asks_for_a_release(karate, releases):
    trainer = Trainer(karate, RunConfig(epochs=1, device="cpu"))
    release.track(trainer)
    release.track(trainer)               # one finaliser per trainer
    trainer.step(1)
    assert release.stats["finalised"] == 0
    del trainer                          # the last reference: finalised now, by refcount
    assert release.stats["finalised"] == 1
    wait_for(releases, 1)
    assert len(releases) == 1


def test_many_finalised_at_once_release_once(karate, releases, monkeypatch):
    monkeypatch.setattr(release, "_pending", True)     # a release is already scheduled
    gc.collect()
    before = release.stats["finalised"]
    trainers = [Trainer(karate, RunConfig(epochs=1, device="cpu", seed=s)) for s in range(3)]
    for trainer in trainers:
        release.track(trainer)
    del trainer
    trainers.clear()
    gc.collect()
    # at least these 3 (an earlier test's trainer may be let go meanwhile, e.g. when its
    # training thread ends), and no release call of their own: the scheduled one covers them
    assert release.stats["finalised"] - before >= 3 and releases == []


def test_a_finaliser_run_where_its_thread_holds_the_lock_does_not_wait_for_itself(releases):
    """A collection may run a trainer's finaliser in any thread, also one inside ``_lock`` (the
    janitor's sweep, a script run's watch): it must not wait there for its own thread."""
    done = threading.Event()

    def holder():
        with release._lock:
            release.request_release()   # what the finaliser does, a collection run at this point
        done.set()

    threading.Thread(target=holder, daemon=True).start()
    assert done.wait(10), "the thread waited for the lock it holds"
    wait_for(releases, 1)
    assert release.stats["finalised"] == 1 and len(releases) == 1


def test_the_real_release_collects_and_trims(capsys):
    release.release()
    line = capsys.readouterr().out
    assert line.startswith("gatviz: released memory")
    assert ("malloc_trim ran" in line) == (release.TRIM and release._malloc_trim is not None)


class FakeState(dict):
    """What a Session State offers the janitor: filtered_state and deletion."""

    @property
    def filtered_state(self):
        return dict(self)


def test_sessions_gone_longer_than_the_ttl_are_cleared(karate, releases, monkeypatch):
    monkeypatch.setattr(release, "_sessions", {})
    trainer = Trainer(karate, RunConfig(epochs=1, device="cpu"))
    release.track(trainer)
    open_tab, closed_tab = FakeState(gv_trainer=trainer, gv_seed=0), FakeState(gv_trainer=None, gv_epochs=5)
    release._sessions.update({"open": [open_tab, 0.0], "closed": [FakeState(gv_trainer=trainer), 0.0],
                              "just-closed": [closed_tab, 9.0]})
    del trainer
    active = {"open"}.__contains__
    forgotten = []
    assert release.sweep(active, ttl=2.0, now=10.0, on_gone=forgotten.append) == 1
    assert forgotten == ["closed"] and set(release._sessions) == {"open", "just-closed"}
    assert release.stats["finalised"] == 0          # the open tab still holds the trainer
    assert release.sweep(active, ttl=2.0, now=11.5, on_gone=forgotten.append) == 1
    assert forgotten == ["closed", "just-closed"] and closed_tab == {}
    del open_tab["gv_trainer"]                      # the open tab applies new settings
    assert release.stats["finalised"] == 1
    wait_for(releases, 1)
    assert releases


def test_watch_without_a_streamlit_runtime_only_tracks(karate, releases, monkeypatch):
    monkeypatch.setattr(release, "_sessions", {})
    trainer = Trainer(karate, RunConfig(epochs=1, device="cpu"))
    release.watch(trainer)
    assert release._sessions == {} and trainer in release._tracked
