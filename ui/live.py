"""Live training: a tab's run trains in a background thread; the page's browser follows it.

While other runs train on the server at the same time, the thread has the epochs trained in a
forked child process (gatviz.forked) and the trainer follows it: runs in threads of one
process share its GIL, and slowed each other (two Cora runs at once: 1.25× a run alone in
threads, 1.10× in children; ``python -m bench --only together``). A run alone trains in the
thread itself: no fork, nothing to send back.

The thread trains epoch after epoch (the trainer's lock is held one epoch at a time, so
the view reads a consistent model between epochs) while the Explorer's browser fetches its
progress column and its view every tick (TICK_S per run training at once: :func:`tick_seconds`),
outside script runs (ui.feed, ui.curves); stepping through epochs, a timer reruns the column
instead (:func:`tick`), each tick granting a step. The page no longer waits for the training
nor the training for the page: the run takes about the library's own time. A run that ends
before the next tick is waited for (:func:`settle`; the column's fetch: :meth:`Runner.wait_end`;
the timer's tick: :func:`wait_end`), and one script run draws it done at once: the Explorer's
fragments (:func:`on_ended`, :func:`show_end`, :func:`settle_fragments`), else the whole page. At most
``shared.MAX_TRAININGS`` threads train at once; the others wait in a FIFO queue, asking
again every 50 ms ("waiting: N ahead of you").

A thread stops at the end of the budget, on Stop / Reset / new settings, when the tab
has not looked (nor fetched) for ABANDONED_S (closed), and holds (between two epochs) while the tab
shows a page that reads the model directly (Explain, Compare).
"""
from __future__ import annotations

import threading
import time
import traceback
import uuid
import weakref

import streamlit as st
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState

from gatviz import forked

from . import reruns, shared
from .i18n import t
from .text import USER_ERRORS

TICK_S = 1.2            # the Explorer redraws this often while training, per run training on the server
TICK_MAX_S = 4.8        # (well under ABANDONED_S: a tab that ticks is never taken for gone)
SLOT_S = 0.4            # a thread gives its training slot back this often (queue fairness)
ABANDONED_S = 15.0      # no tick for this long: the tab is gone, the thread stops
FINISH_WAIT_S = 1.3     # a run that ends within this (or the next tick) is waited for: drawn done at once
PROBE_S = 0.25          # a new run is timed over a few epochs (at most this long) to know that
PROBE_EPOCHS = 10       # ... over this many


_alive: "weakref.WeakSet[Runner]" = weakref.WeakSet()   # training threads of this server
# (a WeakSet's iteration is Python code: a run started meanwhile in another tab's thread
# raised "Set changed size during iteration" in the reading tab without it)
_alive_lock = threading.Lock()


def _enlist(runner: "Runner") -> None:
    with _alive_lock:
        _alive.add(runner)


def training_now() -> int:
    """Runs training on this server at the moment."""
    with _alive_lock:
        runners = list(_alive)
    return sum(1 for r in runners if r.alive)


def _interval(runs: int) -> float:
    return min(TICK_S * max(1, min(runs, shared.MAX_TRAININGS)), TICK_MAX_S)


def tick_seconds() -> float:
    """TICK_S per run training at once on this server (the queued ones take no core), at most
    TICK_MAX_S: several tabs training at once leave the cores to their runs."""
    return _interval(training_now())


class Runner:
    """Trains ``trainer`` in a daemon thread until its budget, ``stop()`` or an error.

    ``per_update``: None trains continuously; n trains n epochs per :meth:`look`
    (the sidebar's "epochs per update", to watch every epoch).
    """

    def __init__(self, trainer, sid: str, per_update: int | None = None):
        self.trainer, self.sid, self.per_update = trainer, sid, per_update
        self.waiting = 0                    # trainings ahead of this one in the queue
        self.error: str | None = None       # why it stopped early (the page words it)
        self.seen = self.started = time.monotonic()   # the tab's last look; the run's start
        self.done = threading.Event()
        self._stop = threading.Event()
        self._hold = threading.Event()
        self._granted = threading.Semaphore(0)
        self._forking = threading.Lock()    # a child is not started once a hold has begun
        self._idle = threading.Event()      # no child trains (its last state is applied)
        self._idle.set()
        self._child: forked.Child | None = None   # the child process training the run now, if any
        self.forks = 0                            # children that trained some of the run
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"gatviz-train-{sid[:8]}")
        self.thread.start()
        _enlist(self)

    # ------------------------------------------------------------ the page's side
    def look(self, grant: bool = True) -> None:
        """The tab is alive and shows the Explorer: train on (``grant``: n more epochs if stepping)."""
        self.seen = time.monotonic()
        self._hold.clear()
        if self.per_update and grant:
            self._granted.release()

    def hold(self) -> None:
        """Pause between two epochs; returns once no epoch is running (nor a child training)."""
        self._hold.set()
        with self._forking:
            pass
        self._idle.wait()
        with self.trainer.lock:
            pass

    def stop(self, wait: float = 5.0) -> None:
        self._stop.set()
        self._granted.release()
        if threading.current_thread() is not self.thread:
            self.thread.join(wait)

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def about_to_finish(self, within: float = FINISH_WAIT_S) -> bool:
        """True when the run has ended or will ``within`` seconds (never while stepping: the
        tab asks for each step). The time of an epoch: :func:`epoch_seconds`; a new model is
        given up to PROBE_S for PROBE_EPOCHS epochs to time."""
        if self.done.is_set():
            return True
        if self.per_update or self.waiting:
            return False   # (in the queue: it ends when it gets a slot, not within a moment)
        trainer = self.trainer
        if len(trainer.history) < PROBE_EPOCHS:   # a new model: time its first epochs
            # The first ones share the GIL with the Train click's own script run (karate: 5-18 ms
            # against 2.5 ms): with 5 of them, one karate run in eight was taken to end in 1.3 s
            # or more, not waited for, and drawn done a tick later. A run that would not end in
            # time even at its fastest epoch so far is not probed further (Cora's).
            def too_long() -> bool:   # even at its fastest epoch of the last 5
                rows = trainer.history[-5:]
                return len(rows) == 5 and trainer.remaining * min(r["seconds"] for r in rows) > within

            end = time.monotonic() + PROBE_S
            while (len(trainer.history) < PROBE_EPOCHS and time.monotonic() < end
                   and not self.done.wait(0.005) and not too_long()):
                pass
            if self.done.is_set():
                return True
            if len(trainer.history) < 2:
                return False   # not started yet (in the queue): no estimate
        per_epoch = epoch_seconds(trainer.history[-20:])
        child = self._child   # (its epochs since the trainer took its state are not in the history)
        behind = time.monotonic() - child.state_at if child is not None and not child.finished else 0.0
        return trainer.remaining * per_epoch - behind <= within

    def wait_end(self, horizon: float) -> None:
        """Wait for the run's end for as long as it keeps ending within ``horizon`` s: its
        epochs' own times (a child's, on cores shared with another run and the browser) can
        promise an end sooner than it comes. (One wait gave up there, and a full run waited
        again, the whole page sent.) At most twice the horizon and a margin."""
        deadline = time.monotonic() + 2 * (horizon + 0.3)   # (a Stop clicked meanwhile waits for this)
        while not self.done.is_set() and time.monotonic() < deadline and self.about_to_finish(horizon):
            self.done.wait(0.1)

    def seen_now(self) -> None:
        """The tab is alive (its page's fetch): the run is not abandoned."""
        self.seen = time.monotonic()

    def wait_finish(self, within: float = FINISH_WAIT_S) -> bool:
        """Wait for a run that finishes ``within`` seconds (and a margin); True once it has."""
        if self.about_to_finish(within):
            self.done.wait(within + 0.3)
        return self.done.is_set()

    # ------------------------------------------------------------ the thread
    def _run(self) -> None:
        trainer = self.trainer
        try:
            while trainer.remaining > 0 and not self._stop.is_set():
                if time.monotonic() - self.seen > ABANDONED_S:
                    return
                if self._hold.is_set():
                    time.sleep(0.05)
                    continue
                if self.per_update and not self._granted.acquire(timeout=0.25):
                    continue
                self.waiting = shared.try_slot(self.sid)
                if self.waiting:
                    if self.per_update:
                        self._granted.release()
                    time.sleep(0.05)
                    continue
                try:
                    self._train(self.per_update or trainer.remaining)
                finally:
                    shared.release(self.sid)
        except USER_ERRORS as e:   # (the page words it: this thread has no session for t())
            self.error = str(e)
        except Exception as e:   # never silent: the page says it, the log has the traceback
            traceback.print_exc()
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.done.set()

    def _train(self, epochs: int) -> None:
        """Up to ``epochs`` epochs, one at a time, within SLOT_S (then the slot goes back)."""
        if not self.per_update and shared.running() > 1 and forked.can_fork(self.trainer):
            self._train_in_child(epochs)   # (alone, a thread: no fork, nothing to send back)
            return
        end = time.monotonic() + SLOT_S
        to_child = not self.per_update and forked.can_fork(self.trainer)
        for _ in range(min(epochs, self.trainer.remaining)):
            if self._stop.is_set() or self._hold.is_set():
                return
            self.trainer.step(1)
            if time.monotonic() > end and not self.per_update:
                return
            if to_child and shared.running() > 1:
                return   # another run has started: the next epochs go to a child at once

    def _train_in_child(self, epochs: int) -> None:
        """Up to ``epochs`` epochs in a forked child (gatviz.forked): the trainer follows it. The
        child goes on past SLOT_S while no other run waits for a slot; it stops, its last state
        applied, on Stop, hold, a closed tab, or for a run in the queue."""
        with self._forking:
            if self._stop.is_set() or self._hold.is_set():
                return
            self._idle.clear()
            try:
                child = self._child = forked.Child(self.trainer, epochs)
                self.forks += 1
            except BaseException:
                self._idle.set()
                raise
        try:
            end = time.monotonic() + SLOT_S
            while not child.wait(0.05):
                now = time.monotonic()
                if (self._stop.is_set() or self._hold.is_set() or now - self.seen > ABANDONED_S
                        or (now > end and shared.queued())):
                    child.pause()
        finally:
            child.close()
            self._child = None
            self._idle.set()
        if child.error is not None:
            raise child.error


def epoch_seconds(rows: list[dict]) -> float:
    """An epoch's time from the last epochs' rows: their lower quartile. A new run's first
    epochs share the GIL with the Train click's own script run (karate: 4-20 ms against 2.7 ms
    after), so their median read a 200-epoch karate run (0.55 s) as 1.2-1.6 s, and one click in
    eight was drawn done a tick late (1.5 s instead of 0.7 s)."""
    seconds = sorted(r["seconds"] for r in rows)
    return seconds[len(seconds) // 4]


def tick_span() -> str:
    """How often the view follows a training run, as words for the page: "1.2", or "1.2–2.4"
    where other runs training on this server slow the tick (the browser's fetch follows it:
    ui.feed answers the interval of the moment)."""
    slowest = _interval(shared.MAX_TRAININGS)
    return f"{TICK_S:.1f}" if slowest == TICK_S else f"{TICK_S:.1f}–{slowest:.1f}"


def tick() -> float | None:
    """The interval of the Explorer's timer while the tab's run steps through its epochs
    ("epochs per update": each tick grants the next step), set where the timer's fragment is
    made (a full run, or the Train click's run of the page's fragments), else None (no timer:
    a run training on its own is followed by the browser's fetches, :func:`follows`): TICK_S
    per run training at once on this server, at most TICK_MAX_S. The timer follows the runs
    that start or end later: :func:`retime`."""
    ss = st.session_state
    ss.gv_tick = tick_seconds() if ss.gv_training and _per_update() else None
    return ss.gv_tick


def follows() -> bool:
    """True while the tab's run trains on its own: the browser fetches its curves and view
    (ui.feed) every tick, no timer."""
    ss = st.session_state
    return bool(ss.get("gv_training")) and _per_update() is None


def retime() -> None:
    """In the run of the Explorer's timer: when the runs training on the server call for
    another interval than the timer's (another tab's run has started or ended since the timer
    was made), the timer takes it from now on. A tab whose run started alone ticked every 1.2 s
    all along its run, beside the 2.4 s of the tab that started a moment later: twice the
    ticks, each a script run and a redraw in the browser, on the cores both runs share.
    The browser keeps a fragment's timer and takes a new interval from an auto-rerun message
    for that fragment, which Streamlit sends where a timer's fragment is made (not in the
    timer's own runs): one is sent here."""
    ss = st.session_state
    ctx, fragment = get_script_run_ctx(), ThreadState.get().fragment_id
    if not ss.get("gv_training") or ss.get("gv_tick") is None or ctx is None or fragment is None:
        return
    want = tick_seconds()
    if want == ss.gv_tick:
        return
    msg = ForwardMsg()
    msg.auto_rerun.interval, msg.auto_rerun.fragment_id = want, fragment
    ctx.enqueue(msg)
    ss.gv_tick = want


def _horizon(tick_s: float | None) -> float:
    """A run ending within this is waited for: before the next tick, or FINISH_WAIT_S."""
    return max(FINISH_WAIT_S, (tick_s or 0) + 0.1)


def horizon() -> float:
    """A run that ends within this is waited for by the browser's fetch (ui.feed.Curves): before
    its next tick at the interval of the moment."""
    return _horizon(tick_seconds())


def _per_update() -> int | None:
    value = st.session_state.get("gv_per_update", "auto")
    return None if value == "auto" else int(value)


def start() -> None:
    """Train the tab's trainer in the background (Train pressed); a runner already there goes on."""
    ss = st.session_state
    runner = ss.get("gv_runner")
    if (runner is not None and runner.alive and runner.trainer is ss.gv_trainer
            and runner.per_update == _per_update()):
        runner.look()
        return
    stop()
    sid = ss.setdefault("gv_sid", uuid.uuid4().hex)
    ss.gv_runner = Runner(ss.gv_trainer, sid, _per_update())
    ss.gv_runner.look()
    ss.gv_runner_fresh = True   # this script run's tick grants no second step
    follows = ss.get("gv_live")   # the view's feed of this model follows the new run (ui.feed)
    if follows is not None and follows.feed is not None and follows.feed.trainer is ss.gv_trainer:
        follows.feed.done = ss.gv_runner.done


def stop() -> None:
    """Stop the tab's training thread (Stop, Reset, new settings); returns once it has."""
    runner = st.session_state.get("gv_runner")
    if runner is not None:
        runner.stop()
        st.session_state.gv_runner = None


def hold() -> None:
    """A page that reads the model directly: training pauses between two epochs."""
    runner = st.session_state.get("gv_runner")
    if runner is not None and runner.alive:
        runner.hold()


def _ended(runner: Runner) -> None:
    """The tab's run has ended: the page draws it done (or says why it stopped)."""
    ss = st.session_state
    if runner.error:
        ss.gv_message = t("training.stopped", error=runner.error)
    ss.gv_training, ss.gv_runner = False, None


def settle() -> None:
    """At the start of a full run, before anything is drawn, or of the fragments a Train click
    reruns (:func:`settle_fragments`): a run about to finish (before the next tick, at least
    FINISH_WAIT_S) is waited for, so that the one script run that follows draws it done: the
    page, the sidebar's buttons and the final view at once, without another tick and rerun.
    A karate run (0.5 s) is done in the script run of its Train click."""
    ss = st.session_state
    runner = ss.get("gv_runner")
    if (not ss.get("gv_training") or runner is None or runner.trainer is not ss.get("gv_trainer")
            or runner._hold.is_set()):
        return
    if runner.done.is_set() and not runner.error and runner.trainer.remaining:
        return   # it stopped while the tab was away: follow_training() starts it again
    if runner.wait_finish(_horizon(tick_seconds())):
        _ended(runner)


def settle_fragments() -> None:
    """At the start of the first fragment a Train click reruns (the Explorer's progress, ahead
    of its explorer and buttons): :func:`settle`, so that this run of the fragments draws a
    run that ends within a moment done. A run that failed meanwhile: the whole page, whose
    banner says why."""
    if not fragment_run():
        return   # (a full run has settled in ui.frame already)
    settle()
    if st.session_state.get("gv_message"):
        st.rerun()


def wait_end() -> None:
    """The Explorer's tick, its curves drawn, when :func:`follow_training` said the run ends
    before the next tick: wait for the end here, so that the run of the page's fragments that
    follows (:func:`show_end`) draws it done at once. Not in that run itself: there every
    element it draws waits undrawn meanwhile, and Streamlit fades the elements a run has not
    reached after 0.5 s (repainted on every frame of the fade)."""
    runner = st.session_state.get("gv_runner")
    if runner is None or not fragment_run():
        return
    runner.wait_end(_horizon(st.session_state.get("gv_tick")))


def show_end(keys) -> None:
    """The Explorer's tick, once :func:`wait_end` has seen the run end: the page's fragments
    named in ``keys`` (its progress, its explorer, the sidebar's buttons) rerun and draw it
    done, as a Train click's run started it (ui.sidebar._on_train). Not a full run: the
    sidebar's ~55 elements, the title and the rest were not drawn again for the Train click
    and have nothing new now; each element sent is more of the browser's work at the end, on
    the cores another tab's run trains on. A full run instead when there is more to say than
    the fragments show: an error (the page's banner says why the run stopped), settings
    waiting to be applied (the banner's words change). A run not over yet after all: nothing,
    the timer's next tick looks again."""
    ss = st.session_state
    runner = ss.get("gv_runner")
    if runner is not None and runner.trainer is ss.get("gv_trainer"):
        if not runner.done.is_set():
            return   # not over after all (slower than its epochs said): the next tick looks again
        if keys and not runner.error and not ss.get("gv_pending"):
            _ended(runner)
            stop_timer()
            rerun_fragments(keys)
    st.rerun()


def on_ended() -> None:
    """The callback of the progress column's "ended" (its fetch found the tab's run over:
    ui.curves): a run that has trained its budget is drawn done by this interaction's run of
    the page's fragments (``gv_train_keys``: the progress, the explorer, the sidebar's buttons),
    at once. Anything else (an error, settings waiting, a run stopped early, another run now) is
    left to the fragment's own run: :func:`follow_training` and :func:`show_end` look."""
    ss = st.session_state
    runner, keys = ss.get("gv_runner"), ss.get("gv_train_keys")
    if (runner is None or runner.trainer is not ss.get("gv_trainer") or not runner.done.is_set()
            or runner.error or runner.trainer.remaining or ss.get("gv_pending") or not keys
            or not ss.get("gv_training")):
        return
    _ended(runner)
    reruns.retarget(keys)   # (it ends the callback; a full run goes on as it is)


def stop_timer() -> None:
    """In the run of the Explorer's timer: the browser stops that timer. A timer's fragment
    made again without run_every (the progress column's, once no run trains) keeps the
    browser's timer: an idle tab would rerun its curves every tick for good. A full run clears
    every timer the run does not make again; a run of fragments only those it no longer makes.
    (The timer's fragment is made again, not dropped: its elements stay in place, and the
    browser keeps the curves' Vega view from one run to the next.)"""
    ctx = get_script_run_ctx()
    fragment = ThreadState.get().fragment_id if ctx is not None else None
    if fragment is not None:
        msg = ForwardMsg()
        msg.stop_auto_rerun.fragment_ids.append(fragment)
        ctx.enqueue(msg)


def rerun_fragments(keys) -> None:
    """``st.rerun(keys)`` from a fragment's run (ui.reruns.fragments). It ends this run."""
    reruns.fragments(get_script_run_ctx().fragment_storage.resolve_target(list(keys)))


def follow_training() -> bool:
    """The Explorer's tick while training: keep the thread going; True when the page should
    run in full now: the run has ended, or ends before the next tick (:func:`settle` waits).

    Also sets ``gv_waiting`` (trainings ahead in the queue).
    """
    ss = st.session_state
    if not ss.gv_training or ss.gv_trainer is None:
        return False
    runner = ss.get("gv_runner")
    if (runner is None or runner.trainer is not ss.gv_trainer or runner.per_update != _per_update()
            or (runner.done.is_set() and not runner.error and ss.gv_trainer.remaining)):
        start()   # a new run, "epochs per update" changed, or a thread that stopped while the tab was away
        runner = ss.gv_runner
    runner.look(grant=not ss.pop("gv_runner_fresh", False))
    ss.gv_waiting = runner.waiting
    if not fragment_run():
        return False   # (settle() has already waited, or found the end too far away)
    return runner.about_to_finish(_horizon(ss.get("gv_tick")))


def fragment_run() -> bool:
    """True in a fragment's own rerun, False in a full run of the page."""
    ctx = get_script_run_ctx()
    return bool(ctx and ctx.fragment_ids_this_run)
