"""Epochs trained in a forked child process; the parent's Trainer follows the child.

The threads of one process share its GIL. An epoch is a few hundred small torch calls, each
of which gives the GIL up and takes it back, so two runs training in two threads of one
process slow each other beyond the cores they share (``python -m bench --only train``'s
``two_*`` figures). A child process has a GIL of its own.

:class:`Child` forks the process: the child starts from the trainer as it is (copy on write:
nothing is copied or pickled to start it) and trains epoch after epoch. Every
``STATE_EVERY_S`` it sends what a reader needs (the new history rows, the weights, new
snapshots, and its last epoch's eval outputs: the logits and the attention), and when paused
or at its end, also what training on needs (the optimizer's and the dropout generator's
state); the parent applies each under ``trainer.lock`` in one go. The
parent's trainer is thus at every moment the child's at the end of one of its epochs, and once
the child has ended, as if it had trained those epochs itself: the same weights to the bit, the
same history and the same next epoch (tests/test_forked.py). A reader of the parent's trainer
(the app's view) sees the run up to ``STATE_EVERY_S`` late. A child that dies on the way (killed
for memory, say) leaves the trainer at its last state, to look at but not to train on.

Linux only (fork), and only full-batch trainers on the CPU, on one torch thread
(:func:`can_fork`): CUDA cannot be used in a forked child, mini-batch sampling draws from the
process's global RNG, and the parent's OpenMP threads are not in the child.
"""
from __future__ import annotations

import gc
import io
import multiprocessing
import signal
import sys
import threading
import time
import traceback
import warnings

import torch

from .errors import GatvizError
from .training import Snapshot, Trainer
from .attention import AttentionTable

STATE_EVERY_S = 0.5    # the child sends its state this often (more rarely for big models:
STATE_SHARE = 0.02     # ... at most this share of its time spent serialising it)
FIRST_EPOCHS = 5      # ... and after its first epochs (the parent times a new run on them)
PAUSE = b"pause"

_FORK = (multiprocessing.get_context("fork")
         if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods() else None)


def can_fork(trainer: Trainer) -> bool:
    """Whether ``trainer`` can train in a forked child: Linux, CPU, full batch, not spoiled, and
    one torch thread (as the app trains; the child trains on one, and its numbers are then the
    ones the parent would get: more threads sum in another order)."""
    return (_FORK is not None and trainer.device.type == "cpu" and trainer.batches is None
            and not trainer.spoiled and torch.get_num_threads() == 1)


class Child:
    """A child process training ``trainer`` for up to ``epochs`` epochs, until :meth:`pause`d.

    The parent calls :meth:`wait` until it returns True (the child has ended: its budget
    done, paused, or an error, then in :attr:`error`); :meth:`close` in a ``finally``.
    """

    def __init__(self, trainer: Trainer, epochs: int):
        if not can_fork(trainer):
            raise ValueError("this trainer cannot train in a forked child (see can_fork)")
        trainer.optimizer   # made before the fork: the parent's optimizer takes the child's state
        self.trainer, self.error = trainer, None
        self.finished = self._paused = False
        self.state_at = time.monotonic()   # when the parent's trainer last took the child's state
        multiprocessing.active_children()   # (reaps the children that have exited)
        self._conn, theirs = _FORK.Pipe()
        with warnings.catch_warnings():   # (Python 3.12+ warns of a fork in a process with threads)
            warnings.simplefilter("ignore", DeprecationWarning)
            self.process = _FORK.Process(target=_child, args=(trainer, theirs, epochs), daemon=True,
                                         name="gatviz-train-child")
            for stream in (sys.stdout, sys.stderr):   # (else the child writes their buffers out again)
                if stream is not None:
                    stream.flush()
            gc.freeze()   # the child's collections leave the parent's objects alone (no copies of their pages)
            try:
                self.process.start()
            finally:
                gc.unfreeze()
        theirs.close()

    def wait(self, timeout: float) -> bool:
        """Apply what the child sends within ``timeout`` seconds; True once the child has ended."""
        end = time.monotonic() + timeout
        while not self.finished:
            try:
                if not self._conn.poll(max(0.0, end - time.monotonic())):
                    return False
                message = self._conn.recv_bytes()
            except (EOFError, OSError):   # gone without its last word: killed (out of memory?)
                self.process.join(1.0)
                self.error = GatvizError(
                    f"the training process ended unexpectedly (exit code {self.process.exitcode}; out of "
                    f"memory?); the model stays at epoch {self.trainer.epoch}")
                with self.trainer.lock:   # (the optimizer's state is the child's, gone with it)
                    self.trainer.spoiled = (f"{self.error}: it can be looked at, not trained on; "
                                            f"Reset to start a new model")
                self._end()
                break
            kind, state, error = torch.load(io.BytesIO(message), weights_only=True)
            _apply(self.trainer, state)
            self.state_at = time.monotonic()
            if kind == "end":
                self.error = _rebuilt(error)
                self._end()
        return True

    def pause(self) -> None:
        """Ask the child to stop after its epoch (:meth:`wait` then applies its last state)."""
        if not self._paused and not self.finished:
            self._paused = True
            try:
                self._conn.send_bytes(PAUSE)
            except OSError:   # (already gone: wait() says so)
                pass

    def close(self, timeout: float | None = None) -> None:
        """Pause the child and apply its last state; a child that has not ended ``timeout``
        seconds later (default: 30 s and two of its last epochs) is killed."""
        self.pause()
        if timeout is None:
            history = self.trainer.history
            timeout = 30.0 + 2 * (history[-1]["seconds"] if history else 0.0)
        self.wait(timeout)
        if not self.finished:
            self.process.kill()
            self.process.join(5.0)
            self._end()

    def _end(self) -> None:
        """Done with the child. Not waited for: its exit (the kernel unmapping the parent's memory
        it shared) takes tens of ms; the next Child (or multiprocessing at exit) reaps it."""
        self.finished = True
        self._conn.close()


# ---------------------------------------------------------------- the child's side
def _child(trainer: Trainer, conn, epochs: int) -> None:
    """In the forked child: train, sending the state now and then and at the end."""
    # Signals end the child: the parent's handlers (a web server's, which stops its server) are
    # the parent's business; the child's copy of that server must not touch its sockets.
    for name in ("SIGINT", "SIGTERM", "SIGQUIT"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    trainer.lock = threading.RLock()   # (a thread of the parent may have held it at the fork)
    # One thread: the parent's OpenMP threads are not in the child, and a parallel region
    # that would use them never ends (libgomp is not fork-safe).
    torch.set_num_threads(1)
    sent = _Sent(trainer)
    error, every, last = None, STATE_EVERY_S, time.monotonic()
    try:
        for done in range(1, epochs + 1):
            if conn.poll():   # paused
                break
            trainer.step(1)
            if (time.monotonic() - last >= every or done == FIRST_EPOCHS) and trainer.remaining:
                took = _send(conn, "state", sent.state(trainer, last=False))
                # (serialising only: a state larger than the pipe's buffer (Cora's: 1.6 MB) also
                # waits for the parent to read it, and a parent busy with two tabs' Train clicks
                # took 0.1 s, which put the next state 5 s away: the page saw epoch 8 until the end)
                every, last = max(STATE_EVERY_S, took / STATE_SHARE), time.monotonic()
    except Exception as e:   # the parent says it; the server's log has the traceback
        if not isinstance(e, GatvizError):
            traceback.print_exc()
        error = (type(e).__name__, str(e))
    try:
        _send(conn, "end", sent.state(trainer, last=True), error)
    except (BrokenPipeError, OSError):   # the parent is gone
        pass


def _send(conn, kind: str, state: dict, error=None) -> float:
    """The state to the parent (torch.save: the parent reads it with weights_only=True); the
    seconds it took to serialise (not the wait for the parent to read it)."""
    start = time.perf_counter()
    buffer = io.BytesIO()
    torch.save((kind, state, error), buffer)
    took = time.perf_counter() - start
    conn.send_bytes(buffer.getbuffer())
    return took


class _Sent:
    """What the parent has already: history rows and snapshots sent."""

    def __init__(self, trainer: Trainer):
        self.rows, self.snapshots, self.every = len(trainer.history), len(trainer.snapshots), trainer.snapshot_every

    def state(self, trainer: Trainer, last: bool) -> dict:
        """What a reader needs; ``last``: also what training on needs."""
        state = {"epoch": trainer.epoch, "rows": trainer.history[self.rows:],
                 "weights": trainer.model.state_dict(), "spoiled": trainer.spoiled}
        if last:
            state["optimizer"], state["generator"] = trainer.optimizer.state_dict(), trainer.model.generator.get_state()
        if trainer.snapshot_every == self.every:   # only new ones (none thinned out since)
            snapshots, state["snapshots_from"] = trainer.snapshots[self.snapshots:], self.snapshots
        else:
            snapshots, state["snapshots_from"] = trainer.snapshots, 0
        state["snapshots"] = [(s.epoch, s.alpha) for s in snapshots]
        state["snapshot_every"] = trainer.snapshot_every
        # The eval pass of the child's last epoch (the page's view reads it: the parent would do
        # the same forward again, on a core the runs share); a spoiled run's last good one.
        table = trainer._attention
        if table is not None and (trainer.spoiled or table.epoch == trainer.epoch):
            state["outputs"] = (trainer._logits, table.edge_index, table.alpha, table.score,
                                table.num_nodes, table.epoch)
        elif table is None and trainer._logits is not None and not trainer.model.has_attention:
            state["outputs"] = (trainer._logits, None, None, None, None, trainer.epoch)
        self.rows, self.snapshots, self.every = len(trainer.history), len(trainer.snapshots), trainer.snapshot_every
        return state


# ---------------------------------------------------------------- the parent's side
def _apply(trainer: Trainer, state: dict) -> None:
    """The child's state into the parent's trainer, at once (under its lock)."""
    with trainer.lock:
        trainer.model.load_state_dict(state["weights"])
        if "optimizer" in state:
            trainer.optimizer.load_state_dict(state["optimizer"])
            trainer.model.generator.set_state(state["generator"])
        trainer.history.extend(state["rows"])
        trainer.epoch, trainer.spoiled = state["epoch"], state["spoiled"]
        kept = trainer.snapshots[:state["snapshots_from"]]
        trainer.snapshots = kept + [Snapshot(epoch, alpha) for epoch, alpha in state["snapshots"]]
        trainer.snapshot_every = state["snapshot_every"]
        trainer._logits = trainer._attention = None   # (recomputed from the weights when asked)
        if "outputs" in state:
            logits, edge_index, alpha, score, num_nodes, epoch = state["outputs"]
            trainer._logits = logits
            if edge_index is not None:
                trainer._attention = AttentionTable(edge_index, alpha, score, num_nodes, epoch)
                trainer.loop_index = edge_index


def _rebuilt(error) -> Exception | None:
    """The child's exception, for the parent to raise: a GatvizError or MemoryError as it was,
    others as a RuntimeError that names them."""
    if error is None:
        return None
    name, text = error
    known = {"GatvizError": GatvizError, "MemoryError": MemoryError}
    return known[name](text) if name in known else RuntimeError(f"{name}: {text}")
