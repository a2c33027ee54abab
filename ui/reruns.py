"""Reruns of some of a page's fragments, asked for where Streamlit's ``st.rerun`` does not go.

Two cases:

- :func:`fragments`: from a fragment's own run (the Explorer's timer drawing a run's end:
  ui.live.show_end). Streamlit takes fragment keys in ``st.rerun`` from a widget's callback
  only; the request is made here as ``st.rerun`` makes it there.
- :func:`retarget`: from a widget's callback, the run reruns other fragments than the
  widget's own (the view drawn first: ui.network.view_first; the page's fragments at a Train
  click: ui.sidebar._on_train). ``st.rerun(keys)`` there *replaces* the run's fragments, and
  a run may carry more than the widget's: a request that came while another run was going
  is folded into it. A click on a view widget while the timer's run waited for a run's end
  (ui.live.wait_end) was folded into that run's request to draw the end (the progress, the
  explorer, the sidebar's buttons); narrowed to the view, the end was never drawn: "training"
  and a Stop button for good, the timer stopped. :func:`retarget` keeps what the run carries.

This module imports no torch (ui.network uses it on a cold server).
"""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
from streamlit.runtime.scriptrunner_utils.script_run_context import suppress_fragment_callback_warning


def fragments(ids: list[str]) -> None:
    """Rerun the fragments ``ids`` (in the page's order), as ``st.rerun(keys)`` does from a
    callback; it ends the run or callback it is called from."""
    ctx = get_script_run_ctx()
    ctx.script_requests.request_rerun(RerunData(
        query_string=ctx.query_string, page_script_hash=ctx.page_script_hash,
        fragment_id_queue=list(ids), is_fragment_scoped_rerun=True,
        cached_message_hashes=ctx.cached_message_hashes, context_info=ctx.context_info))
    with suppress_fragment_callback_warning():   # (as st.rerun: no warning of an element in a callback)
        st.empty()   # a yield point: the script runner takes the request here, nothing is sent


def _carried(ctx) -> list[str] | None:
    """The fragments the run of ``ctx`` carries; None for a full run. (Streamlit's AppTest runs
    every widget's interaction in full, where the browser runs the widget's fragment alone: the
    tests read its full runs as the widget's own, tests/conftest.py.)"""
    return ctx.fragment_ids_this_run


def retarget(keys: list[str]) -> None:
    """From a widget's callback: this run reruns the fragments keyed ``keys`` instead of the
    widget's own (it ends the callback). A run that carries more than one fragment (requests
    folded together) reruns ``keys`` and the fragments it carried; a full run goes on as it is
    (every fragment is in it: this returns). Raises StreamlitAPIException when a key's
    fragment is not on the page."""
    ctx = get_script_run_ctx()
    carried = _carried(ctx) if ctx is not None else None
    if carried is None:
        return   # a full run (or no session: a bare script)
    if len(carried) <= 1:
        st.rerun(keys)   # the widget's own fragment alone: replaced
    wanted = ctx.fragment_storage.resolve_target(list(keys))
    fragments(wanted + [f for f in carried if f not in wanted])
