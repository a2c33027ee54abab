"""A lecture hall on one link: one training per run, and at most N trainings at once.

A run defined entirely by its settings (a built-in graph, the model's settings, the seed and
the epochs a link asks for) is deterministic, so it is trained once per server process and
shared read-only by every tab that asks for the same one (:func:`shared_run`, a bounded
``st.cache_resource`` keyed by the RunConfig and the graph's key; concurrent tabs wait for
the one computation). A tab that trains on, changes the epoch budget or opens the Compare page
(whose ablations and explainers attach hooks and masks to the model) first takes its own copy
(:func:`own_trainer`); any other change builds a new Trainer anyway.

Training is bounded server-wide: at most ``MAX_TRAININGS`` training threads run at once (default:
one per core; ``GATVIZ_MAX_TRAININGS`` overrides). A training thread (ui.live) asks for a
slot every 50 ms (:func:`try_slot`) and, when none is free, the page says how many are ahead
in the queue (first come, first served; a tab that stops asking leaves the queue).
"""
from __future__ import annotations

import copy
import os
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager

import streamlit as st

from gatviz import RunConfig
from gatviz.training import Trainer

# one training thread per core (each on one torch thread): more would only share the cores
MAX_TRAININGS = max(1, int(os.environ.get("GATVIZ_MAX_TRAININGS", 0)) or len(os.sched_getaffinity(0)))
STALE_S = 5.0            # a waiting tab that has not asked again for this long has left
_lock = threading.Lock()
_running: set[str] = set()
_waiting: OrderedDict[str, float] = OrderedDict()   # tab id -> when it last asked
trainings = {"shared": 0}                           # shared runs trained by this process


def _prune(now: float) -> None:
    for sid, seen in list(_waiting.items()):
        if now - seen > STALE_S:
            del _waiting[sid]


def try_slot(sid: str) -> int:
    """0 and a slot taken (call :func:`release`), or how many trainings are ahead of ``sid``."""
    now = time.monotonic()
    with _lock:
        _prune(now)
        _waiting[sid] = now
        free = MAX_TRAININGS - len(_running)
        position = list(_waiting).index(sid)
        if position < free:
            del _waiting[sid]
            _running.add(sid)
            return 0
        return len(_running) + position - MAX_TRAININGS + 1


def running() -> int:
    """Trainings holding a slot now."""
    with _lock:
        return len(_running)


def queued() -> int:
    """Trainings waiting for a slot now."""
    with _lock:
        _prune(time.monotonic())
        return len(_waiting)


def release(sid: str) -> None:
    with _lock:
        _running.discard(sid)


@contextmanager
def slot(sid: str):
    """Wait for a training slot (for work that cannot come back later, like a link's run)."""
    while try_slot(sid):
        time.sleep(0.2)
    try:
        yield
    finally:
        release(sid)


@st.cache_resource(max_entries=8, show_spinner=False)
def _shared(config_json: str, graph_key: str, epochs: int, _graph) -> Trainer:
    trainer = Trainer(_graph, RunConfig.from_json(config_json))
    with slot(f"shared:{graph_key}:{hash(config_json)}"):
        trainer.step(epochs)
    # left in eval mode: every tab's read-only forward (Explain, views) restores the mode it
    # found, so concurrent tabs can never switch each other's dropout on
    trainer.model.eval()
    with _lock:
        trainings["shared"] += 1
    # one line in the server log per shared training (the load test counts them)
    print(f"gatviz: trained a shared run ({trainer.config.dataset}, {epochs} epochs)", flush=True)
    return trainer


def shared_run(config: RunConfig, graph_key: tuple, graph, epochs: int) -> Trainer:
    """The run of ``config`` on ``graph`` trained ``epochs`` epochs, shared by every tab."""
    return _shared(config.replace(epochs=max(config.epochs, epochs)).to_json(), repr(graph_key), epochs, graph)


def own_trainer() -> Trainer:
    """This tab's trainer, copied first if it is a shared run (graph and inputs stay shared: read-only)."""
    ss = st.session_state
    if ss.get("gv_shared"):
        ss.gv_trainer = copy.deepcopy(ss.gv_trainer)   # Trainer.__deepcopy__ keeps the inputs shared
        ss.gv_shared = False
    return ss.gv_trainer
