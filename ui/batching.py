"""The sidebar's mini-batch settings (RunConfig.batch_size, RunConfig.fanout) and the line
that says how the current model trains: full batch, or mini-batches of sampled
neighbourhoods (:mod:`gatviz.minibatch`). Ranges come from gatviz/limits.py; a bad
fan-out is refused by RunConfig (``limits.parse_fanout``) in the sidebar's one error line.
"""
from __future__ import annotations

import streamlit as st

from gatviz import limits, minibatch

from .i18n import t


def controls() -> None:
    """Batch size and fan-out, in a folded expander (open while mini-batch is chosen)."""
    ss = st.session_state
    low, high = limits.INT_RANGES["batch_size"]
    fan_low, fan_high = limits.INT_RANGES["fanout_per_hop"]
    with st.expander(t("minibatch"), expanded=bool(ss.get("gv_batch_size"))):
        st.number_input(t("batch.size"), low, high, step=64, key="gv_batch_size",
                        help=t("batch.size.help", nodes=f"{limits.MAX_NODES:,}", edges=f"{limits.MAX_EDGES:,}",
                               default=f"{minibatch.DEFAULT_BATCH_SIZE:,}"))
        st.text_input(t("fanout"), key="gv_fanout", help=t("fanout.help", low=fan_low, high=f"{fan_high:,}"))


def mode_text(trainer) -> str:
    """How ``trainer`` trains, in words: full batch, or mini-batches (seeds per step, fan-out per hop)."""
    batches = getattr(trainer, "batches", None)
    if batches is None:
        return t("mode.full")
    key = "mode.minibatch" if trainer.config.batch_size else "mode.auto"
    return t(key, seeds=f"{batches.batch_size:,}", fanout=",".join(map(str, batches.fanout)))
