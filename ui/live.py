"""Live training: one chunk of epochs per fragment rerun, sized to take about CHUNK_S."""
from __future__ import annotations

import time
import uuid

import streamlit as st

from . import shared
from .i18n import t
from .text import USER_ERRORS

TICK_S = 0.6            # live training: the fragment reruns this often...
CHUNK_S = 0.4           # ...and trains about this long per run


def tick() -> float | None:
    """The fragments' timer: TICK_S while training, else None (no timer)."""
    return TICK_S if st.session_state.gv_training else None


def train_chunk() -> bool:
    """Train one chunk if training is on; True when this chunk finished the run.

    The chunk adapts so that it takes about CHUNK_S seconds (or is the
    sidebar's fixed "epochs per update").
    """
    ss = st.session_state
    trainer = ss.gv_trainer
    if not ss.gv_training or trainer is None:
        return False
    fixed = ss.gv_per_update != "auto"
    n = min(int(ss.gv_per_update) if fixed else ss.gv_chunk, trainer.remaining)
    if n > 0:
        sid = ss.setdefault("gv_sid", uuid.uuid4().hex)
        ss.gv_waiting = shared.wait_slot(sid, CHUNK_S)   # at most MAX_TRAININGS chunks run at once
        if ss.gv_waiting:
            return False
        start = time.perf_counter()
        try:
            trainer.step(n)
        except USER_ERRORS as e:
            ss.gv_training, ss.gv_message = False, t("training.stopped", error=e)
            return True
        finally:
            shared.release(sid)
        took = max(time.perf_counter() - start, 1e-3)
        if not fixed:   # aim at CHUNK_S, growing at most 4x per chunk
            ss.gv_chunk = max(1, min(4 * n, round(n * CHUNK_S / took), 5000))
    if trainer.remaining == 0:
        ss.gv_training = False
        return True
    return False
