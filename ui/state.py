"""Session state: what one browser tab holds, and how it survives page switches.

Per tab, ``st.session_state`` holds:

    gv_graph, gv_layouts  the applied graph (read-only, cached for all sessions) and its
                          seeded layouts, reused for every head/layer switch
    gv_trainer            the Trainer: per session, never in cache_resource
    gv_applied            :class:`Applied`: what the trainer was built from
    gv_wanted             :class:`Wanted`: what the sidebar selects now (None if invalid)
    gv_pending            gv_wanted, while it waits for "Discard trained model and apply"
    gv_report_notes       what the sidebar says about the graph, from applying its settings
                          (ui.sidebar.apply_settings) to drawing it later in the same run
    gv_training           True while the tab's run trains (ui.live: a thread; gv_runner)
    gv_center             the centre node's name, shared by every page (no widget's: the box
                          that shows it is keyed gv_center_box:<name>, ui.controls.center_picker)
    gv_center_ok          (graph, name): the last valid centre (a name typed that is no node
                          falls back to it); gv_recent: the centres seen before, newest first
    gv_clicked            a name clicked in the network view, until the page re-centres
    gv_follow             True from a callback that reruns the view's fragment alone until that
                          view is sent: the page follows once it is drawn (ui.network.view_first)
    gv_train_keys         the fragments a Train click reruns on this page (None: the whole page)
    gv_train_asked        Train clicked with settings not yet applied: the page's run applies them,
                          then trains (ui.sidebar.train_asked)
    gv_tick               the Explorer timer's interval while the tab's run steps through its
                          epochs, as made (ui.live.tick) or since retimed (ui.live.retime), else None
    gv_live               ui.feed.Tab: the tab's token and its run's feeds, the view and the
                          curves the browser fetches while the run trains (ui.feed)
    gv_upload             :class:`Upload`: the last edge/node files read, kept across pages
    gv_message            a one-line error from a callback, shown once

Pages are Streamlit's file-based ``pages/`` folder. A widget belongs to the page it is
drawn on: on a page switch the browser sends no widget values, and the shared keys would
start from their defaults. So every drawn value is also kept under ``gv_keep`` (a plain
dict, no widget: :func:`remember`), and each page starts with :func:`carry_over`, which
writes the kept values back before any widget is drawn (Streamlit's "Working with widgets
in multipage apps").
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import streamlit as st

from gatviz import RunConfig, graphs

_D = RunConfig()
# Sidebar widgets: key -> default. Their values define the run (see sidebar._config).
SIDEBAR = {"gv_source": "Built-in", "gv_dataset": "karate", "gv_directed": False,
           "gv_sbm_nodes": _D.sbm_nodes, "gv_sbm_blocks": _D.sbm_blocks,
           "gv_sbm_p_in": _D.sbm_p_in, "gv_sbm_p_out": _D.sbm_p_out,
           "gv_dict_size": getattr(_D, "dict_size", 10),
           "gv_model": _D.model, "gv_layers": _D.layers, "gv_heads": _D.heads, "gv_out_heads": _D.out_heads,
           "gv_hidden": _D.hidden, "gv_dropout": _D.dropout, "gv_lr": _D.lr, "gv_weight_decay": _D.weight_decay,
           "gv_epochs": _D.epochs, "gv_seed": _D.seed, "gv_device": "cpu", "gv_per_update": "auto",
           "gv_batch_size": _D.batch_size, "gv_fanout": _D.fanout}
# View widgets shared by the pages (the centre node is kept by ensure_center).
VIEW = {"gv_layer": 0, "gv_head": "all", "gv_step_head": 0, "gv_hops": 1, "gv_top_k": 40,
        "gv_encoding": "uniform", "gv_presenter": False, "gv_step": 1, "gv_lang": "en"}
OBJECTS = ("gv_graph", "gv_layouts", "gv_trainer", "gv_applied", "gv_wanted", "gv_pending",
           "gv_dismissed", "gv_message", "gv_upload", "gv_upload_error")


@dataclass(frozen=True)
class Applied:
    """What the current trainer was built from."""
    key: tuple          # identifies the graph: ("builtin", name, settings, seed) or ("upload", digest, …)
    config: RunConfig
    values: dict        # the sidebar's widget values at that moment (to put them back)
    upload: Upload | None = None   # the files an uploaded graph was read from


@dataclass(frozen=True)
class Wanted:
    """What the sidebar selects now."""
    key: tuple
    graph: graphs.Graph
    config: RunConfig
    values: dict
    upload: Upload | None = None


@dataclass(frozen=True)
class Upload:
    """The last uploaded files that were read, kept so that other pages (whose uploaders
    start empty) still know which file the graph came from."""
    digest: str
    edges_name: str
    edges: bytes
    nodes_name: str | None
    nodes: bytes | None

    @property
    def source(self) -> str:
        return " + ".join(n for n in (self.edges_name, self.nodes_name) if n)


SHARED = (*SIDEBAR, *VIEW, "gv_center")


def init() -> None:
    """Carry widget values over from the previous page; defaults for a new tab."""
    ss = st.session_state
    carry_over()
    for key, value in {**SIDEBAR, **VIEW}.items():
        ss.setdefault(key, value)
    for key in OBJECTS:
        ss.setdefault(key, None)
    ss.setdefault("gv_training", False)
    ss.setdefault("gv_rng", random.Random(0))


def carry_over() -> None:
    """Before any widget is drawn: a shared value the browser did not send (a page switch)
    comes back from ``gv_keep``; one it did send is re-assigned through the Session State
    API, so that it outlives the widget of the page that drew it."""
    ss = st.session_state
    keep = ss.setdefault("gv_keep", {})
    for key in SHARED:
        if key in ss:
            ss[key] = ss[key]
        elif key in keep:
            ss[key] = keep[key]


def remember(*keys: str) -> None:
    """Keep the current values of shared widgets (all of them by default) for the next page."""
    ss = st.session_state
    keep = ss.setdefault("gv_keep", {})
    for key in keys or SHARED:
        if key in ss:
            keep[key] = ss[key]


def sidebar_values() -> dict:
    return {k: st.session_state[k] for k in SIDEBAR}
