"""ui.live: the end of a run is waited for in the Explorer's tick, with its curves drawn, so the
full run that draws it done starts with the run already over (nothing of the page waits undrawn:
Streamlit fades the elements a run has not reached after 0.5 s)."""
import sys
import threading
import time
import types

import pytest
import torch

from gatviz import RunConfig, graphs
from gatviz.training import Trainer
from ui import live


class Tab(dict):
    """A tab's session state: keys as attributes, as ``st.session_state``."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value


@pytest.fixture
def tab(monkeypatch):
    torch.set_num_threads(1)   # as the app trains
    state = Tab(gv_tick=live.TICK_S)
    monkeypatch.setattr(live, "st", types.SimpleNamespace(session_state=state))
    yield state
    if state.get("gv_runner") is not None:
        state.gv_runner.stop()


def training(tab, epochs: int) -> live.Runner:
    config = RunConfig(dataset="karate", epochs=epochs)
    tab.gv_trainer = Trainer(graphs.load("karate", config), config)
    tab.gv_trainer.step(1)   # a process's first step is the slow one (imports): not what is timed
    tab.gv_training = True
    live.start()
    return tab.gv_runner


def test_the_tick_waits_for_a_run_that_ends_before_the_next_and_the_full_run_finds_it_over(tab, monkeypatch):
    runner = training(tab, 150)                  # karate: well under a tick (~0.4 s)
    monkeypatch.setattr(live, "fragment_run", lambda: True)
    assert live.follow_training()                # the tick: it ends before the next one
    live.wait_end()                              # (the page has drawn its curves)
    assert runner.done.is_set() and tab.gv_trainer.remaining == 0
    monkeypatch.setattr(live, "fragment_run", lambda: False)
    waited = []
    monkeypatch.setattr(live.Runner, "wait_finish", lambda self, within: waited.append(within) or self.done.is_set())
    live.settle()                                # the full run that follows: drawn done, nothing left to wait
    assert not tab.gv_training and tab.gv_runner is None
    assert waited and all(w >= live.FINISH_WAIT_S for w in waited)


class Rerun(Exception):
    """st.rerun() in the fake Streamlit: ends the run, as Streamlit's does."""


def test_the_tick_that_saw_the_end_reruns_the_page_s_fragments_unless_the_page_has_more_to_say(tab, monkeypatch):
    reruns = []
    monkeypatch.setattr(live.st, "rerun", lambda: (_ for _ in ()).throw(Rerun()), raising=False)

    def fragments(keys):
        reruns.append(list(keys))
        raise Rerun()
    monkeypatch.setattr(live, "rerun_fragments", fragments)
    monkeypatch.setattr(live, "stop_timer", lambda: reruns.append("timer stopped"))
    keys = ["progress", "explorer", "buttons"]
    runner = training(tab, 30)
    assert runner.done.wait(30)
    with pytest.raises(Rerun):
        live.show_end(keys)
    assert reruns == ["timer stopped", keys] and not tab.gv_training and tab.gv_runner is None   # drawn done by the fragments
    for more in ("pending", "error"):   # the page's banner has news: a full run (settle() words it)
        runner = training(tab, 30)
        assert runner.done.wait(30)
        tab.gv_pending = {"lr": 0.01} if more == "pending" else None
        runner.error = "it stopped" if more == "error" else None
        with pytest.raises(Rerun):
            live.show_end(keys)
        assert reruns == ["timer stopped", keys] and tab.gv_training and tab.gv_runner is runner
        live.stop()
        tab.gv_pending = None
    runner = training(tab, 100_000)   # not over after all (slower than its epochs said): the next tick looks
    live.show_end(keys)
    assert reruns == ["timer stopped", keys] and tab.gv_training and tab.gv_runner is runner and runner.alive


def test_the_browser_s_ended_draws_a_finished_run_done_in_its_own_run_of_the_page_s_fragments(tab, monkeypatch):
    """ui.live.on_ended, the callback of the progress column's "ended" (its fetch found the run
    over): a run that trained its budget is drawn done by that interaction's run, retargeted to
    the page's fragments; anything else is left to the fragment's own run (show_end)."""
    retargeted = []

    def retarget(keys):
        retargeted.append(list(keys))
        raise Rerun()
    monkeypatch.setattr(live.reruns, "retarget", retarget)
    keys = tab.gv_train_keys = ["progress", "explorer", "buttons"]
    runner = training(tab, 100_000)
    live.on_ended()                               # not over (an ended fetch from an older page): nothing
    assert retargeted == [] and tab.gv_training and runner.alive
    live.stop()
    tab.gv_runner, tab.gv_training = runner, True
    live.on_ended()                               # stopped before its budget: the fragment's own run looks
    assert retargeted == [] and tab.gv_training
    tab.gv_runner = None
    for more in ("pending", "error", None):
        runner = training(tab, 30)
        assert runner.done.wait(30)
        tab.gv_pending = {"lr": 0.01} if more == "pending" else None
        runner.error = "it stopped" if more == "error" else None
        if more:                                  # the page's banner has news: the fragment's run, then a full one
            live.on_ended()
            assert retargeted == [] and tab.gv_training and tab.gv_runner is runner
            live.stop()
        else:
            with pytest.raises(Rerun):
                live.on_ended()
            assert retargeted == [keys] and not tab.gv_training and tab.gv_runner is None   # drawn done
    tab.gv_pending = None


def test_the_tick_waits_on_while_the_run_keeps_ending_within_the_horizon(tab, monkeypatch):
    """A child's epochs, on cores shared with another run and the browser, can promise an end
    sooner than it comes: the tick waits on while the end stays within the horizon (up to twice
    the horizon and a margin), so that the page's fragments draw it done, not a full run that
    waits again."""
    done, promised = threading.Event(), []
    runner = types.SimpleNamespace(done=done, about_to_finish=lambda within: promised.append(within) or True)
    runner.wait_end = lambda horizon: live.Runner.wait_end(runner, horizon)   # (the browser's fetch waits likewise: ui.feed)
    tab.gv_runner = runner
    monkeypatch.setattr(live, "fragment_run", lambda: True)
    monkeypatch.setattr(live, "_horizon", lambda tick: 0.2)   # a wait of the horizon and 0.3 s: 0.5 s
    threading.Timer(0.7, done.set).start()                     # the end comes later than that
    live.wait_end()
    assert done.is_set() and len(promised) > 1
    tab.gv_runner = None


def test_a_new_run_whose_first_epochs_the_click_s_own_run_slowed_is_still_seen_to_end_soon():
    # karate's first epochs after a Train click, as the app's thread trained them (ms): the
    # median (5.6 ms x 194 epochs = 1.1 s) sat at the 1.3 s horizon; 7 ms read "not soon"
    first = [17.9, 7.6, 7.0, 4.1, 3.4]
    rows = [{"seconds": ms / 1000} for ms in first]
    assert live.epoch_seconds(rows) == pytest.approx(0.0041)
    runner = types.SimpleNamespace(done=threading.Event(), per_update=None, waiting=0, _child=None,
                                   trainer=types.SimpleNamespace(history=rows, remaining=194))
    assert live.Runner.about_to_finish(runner, within=live.FINISH_WAIT_S)          # 0.8 s
    runner.trainer.remaining = 2000                                              # Cora-like: 8 s
    assert not live.Runner.about_to_finish(runner, within=live.FINISH_WAIT_S)
    # steady epochs: their own time
    assert live.epoch_seconds([{"seconds": 0.014}] * 20) == 0.014


def test_a_new_run_is_timed_over_epochs_that_no_script_run_slowed():
    # The first five epochs as the click's own script run slowed them (ms): alone they read
    # 200 karate epochs as 2.3 s, not soon. The probe waits for PROBE_EPOCHS epochs, the later
    # ones trained while the script run waits (2.5 ms), and sees the run end within 0.5 s.
    rows = [{"seconds": ms / 1000} for ms in (18.0, 12.5, 12.0, 13.1, 12.2)]
    runner = types.SimpleNamespace(done=threading.Event(), per_update=None, waiting=0, _child=None,
                                   trainer=types.SimpleNamespace(history=rows, remaining=195))

    def train():
        for _ in range(20):
            time.sleep(0.0025)
            rows.append({"seconds": 0.0025})
            runner.trainer.remaining -= 1
    threading.Thread(target=train, daemon=True).start()
    assert live.Runner.about_to_finish(runner, within=live.FINISH_WAIT_S)
    assert len(rows) >= live.PROBE_EPOCHS
    # a run that cannot end in time even at its fastest epoch is not probed further
    slow = types.SimpleNamespace(done=threading.Event(), per_update=None, waiting=0, _child=None,
                                 trainer=types.SimpleNamespace(history=rows[:5], remaining=2000))
    start = time.monotonic()
    assert not live.Runner.about_to_finish(slow, within=live.FINISH_WAIT_S)
    assert time.monotonic() - start < live.PROBE_S


def test_the_tick_does_not_wait_for_a_long_run_nor_does_a_full_run_wait_in_wait_end(tab, monkeypatch):
    runner = training(tab, 100_000)
    monkeypatch.setattr(live, "fragment_run", lambda: True)
    assert not live.follow_training()
    monkeypatch.setattr(live, "fragment_run", lambda: False)
    live.wait_end()                              # only a tick waits there
    assert runner.alive and not runner.done.is_set()
    live.stop()
    assert not runner.alive


def test_a_new_run_of_the_same_model_takes_the_view_s_feed_over(tab):
    """A run that stopped while the tab was away starts again when it comes back; the view's
    feed (made in the same script run, maybe before) follows the new run, not the ended one."""
    from ui import feed
    runner = training(tab, 100_000)
    tab.gv_live = feed.Tab()
    tab.gv_live.feed = feed.Feed("key", dict, done=runner.done, trainer=tab.gv_trainer, epoch=lambda: 0,
                                 every=lambda: live.TICK_S, words=dict)
    live.stop()
    assert runner.done.is_set() and feed.answer(tab.gv_live.token, None) is None   # the browser stops asking
    live.start()
    assert feed.answer(tab.gv_live.token, None) is not None                       # ... or goes on, the run back
    other = feed.Feed("key", dict, done=threading.Event(), trainer=object(), epoch=lambda: 0,
                      every=lambda: live.TICK_S, words=dict)
    tab.gv_live.feed = other
    live.stop()
    live.start()
    assert other.done is not tab.gv_runner.done                                    # another model's: left alone


def test_a_run_training_on_its_own_has_no_timer_one_stepping_through_epochs_has(tab):
    tab.gv_training = True
    assert live.tick() is None and live.follows()           # the browser fetches (ui.feed, ui.curves)
    tab.gv_per_update = 5
    assert live.tick() == live.TICK_S and not live.follows()   # each tick grants the next step
    tab.gv_training = False
    assert live.tick() is None and not live.follows()


def test_a_timer_made_while_its_run_trained_alone_slows_once_another_tab_trains(tab, monkeypatch):
    # the browser keeps a fragment's timer; an auto-rerun message for that fragment gives it a new interval
    sent, runs = [], [1]
    monkeypatch.setattr(live, "get_script_run_ctx", lambda: types.SimpleNamespace(enqueue=sent.append))
    monkeypatch.setattr(live, "ThreadState", types.SimpleNamespace(
        get=lambda: types.SimpleNamespace(fragment_id="the-timer")))
    monkeypatch.setattr(live, "training_now", lambda: runs[0])
    tab.gv_training, tab.gv_per_update = True, 5            # (a timer: stepping through epochs)
    assert live.tick() == live.TICK_S                      # made while this tab's run trains alone
    live.retime()
    assert not sent                                         # nothing has changed
    runs[0] = 2                                             # another tab's run starts
    live.retime()
    (msg,) = sent
    assert msg.auto_rerun.fragment_id == "the-timer"
    assert msg.auto_rerun.interval == pytest.approx(2 * live.TICK_S) == tab.gv_tick
    live.retime()
    assert len(sent) == 1                                   # once
    assert live.tick() == 2 * live.TICK_S                  # a timer made now: its own interval
    live.retime()
    assert len(sent) == 1
    runs[0] = 1                                             # the other run ends: back to a tick per run
    live.retime()
    assert sent[-1].auto_rerun.interval == pytest.approx(live.TICK_S)
    tab.gv_training, runs[0] = False, 2                     # this tab's run is over: no timer to retime
    live.retime()
    assert len(sent) == 2


def test_a_run_alone_in_its_thread_goes_to_a_child_as_soon_as_another_starts(monkeypatch):
    """Its thread's slot would keep it in-process, sharing the server's GIL with the other run's
    Train click: the next epoch goes to a child instead."""
    torch.set_num_threads(1)
    monkeypatch.setattr(live.shared, "MAX_TRAININGS", 2)
    monkeypatch.setattr(live, "SLOT_S", 30.0)
    config = RunConfig(dataset="karate", epochs=100_000)
    graph = graphs.load("karate", config)
    first, second = (Trainer(graph, config.replace(seed=seed)) for seed in (1, 2))
    runners = [live.Runner(first, "tab-0")]
    try:
        while first.epoch < 20:
            assert not runners[0].done.wait(0.01)
        assert runners[0]._child is None and runners[0].forks == 0   # alone: in its thread
        runners.append(live.Runner(second, "tab-1"))
        deadline = time.monotonic() + 10
        while not runners[0].forks:
            assert time.monotonic() < deadline, "the first run stayed in its thread"
            time.sleep(0.005)
    finally:
        for runner in runners:
            runner.stop()
    assert [r.error for r in runners] == [None, None]


def test_runs_training_at_once_train_in_child_processes_and_end_as_if_trained_alone(monkeypatch):
    """Two runs at once: each trains in a forked child (no GIL between them: gatviz.forked),
    the parent's trainers follow, and end exactly where training in-process ends. A hold (a
    page reading the model) stops the child with its state taken, and the run goes on after."""
    torch.set_num_threads(1)
    monkeypatch.setattr(live.shared, "MAX_TRAININGS", 2)
    config = RunConfig(dataset="cora", epochs=120)
    graph = graphs.load("cora", config)
    runs = [Trainer(graph, config.replace(seed=seed)) for seed in (1, 2)]
    alone = [Trainer(graph, config.replace(seed=seed)) for seed in (1, 2)]
    runners = [live.Runner(trainer, f"tab-{k}") for k, trainer in enumerate(runs)]
    try:
        while runners[0]._child is None or runs[0].epoch < 40:   # (a run alone at first trains in its thread)
            assert not runners[0].done.wait(0.01)
        runners[0].hold()
        held = (runs[0].epoch, len(runs[0].history))
        assert runners[0]._child is None and held[0] == held[1] < 120
        time.sleep(0.3)
        assert (runs[0].epoch, len(runs[0].history)) == held   # nothing moves while held
        runners[0].look()
        for runner in runners:
            assert runner.done.wait(120)
    finally:
        for runner in runners:
            runner.stop()
    assert [r.error for r in runners] == [None, None]
    assert all(r.forks for r in runners)
    for here, there in zip(alone, runs):
        here.step(120)
        assert there.epoch == 120 and [dict(r, seconds=0) for r in there.history] == [
            dict(r, seconds=0) for r in here.history]
        assert all(torch.equal(x, y) for x, y in zip(here.model.parameters(), there.model.parameters()))


def test_runs_counted_while_other_tabs_start_theirs():
    """Every tick counts the server's runs while other tabs' threads start new ones: the count
    never fails ("Set changed size during iteration", a few per thousand before the lock)."""
    class Run:
        alive = True

    stop, started, failures, calls = threading.Event(), [], [], 0

    def other_tabs():
        while not stop.is_set():
            started.append(Run())
            live._enlist(started[-1])
            del started[:-30]   # older runs are collected and leave the set

    interval = sys.getswitchinterval()
    thread = threading.Thread(target=other_tabs)
    try:
        sys.setswitchinterval(1e-6)
        thread.start()
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            try:
                assert live.training_now() >= 1
            except RuntimeError as e:
                failures.append(str(e))
            calls += 1
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)
    assert calls > 1000
    assert not failures, f"{len(failures)} of {calls} counts: {failures[0]}"
