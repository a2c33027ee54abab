"""Widgets shared by the pages: the centre node and the layer / head selectors."""
from __future__ import annotations

import numpy as np
import streamlit as st

from gatviz import GatvizError

from .i18n import lang, t
from .state import remember
from .text import head_label, plain


def ensure_center(graph) -> None:
    """Apply a click from the view, and keep gv_center a node of the current graph."""
    ss = st.session_state
    clicked = ss.get("gv_clicked")
    ss.gv_clicked = None
    if clicked is not None:
        try:
            graph.index(str(clicked))
            ss.gv_center = str(clicked)
        except GatvizError as e:
            st.error(plain(e))
    try:
        graph.index(ss.get("gv_center"))
    except GatvizError:
        ss.gv_center = default_center(graph)


def default_center(graph) -> str:
    """A well-connected node that still reads well: the first at the 90th degree percentile.

    (The hub's 17 karate neighbours each get alpha near 1/18: thin, alike edges.)
    """
    degree = graph.degree
    target = degree[degree >= np.percentile(degree, 90)].min()
    return graph.names[int(np.flatnonzero(degree == target)[0])]


def _on_highest() -> None:
    g = st.session_state.gv_graph
    st.session_state.gv_center = g.names[int(g.degree.argmax())]


def _on_random() -> None:
    ss = st.session_state
    ss.gv_center = ss.gv_graph.names[ss.gv_rng.randrange(ss.gv_graph.num_nodes)]


def center_picker(graph) -> int:
    """Centre node by searchable name, Highest degree or Random; returns its index."""
    ensure_center(graph)
    c1, c2, c3 = st.columns([2.4, 1.3, 0.9], vertical_alignment="bottom")
    c1.selectbox(t("centre"), graph.names, key="gv_center", help=t("centre.help"))
    c2.button(t("highest"), on_click=_on_highest, width="stretch")
    c3.button(t("random"), on_click=_on_random, width="stretch")
    remember("gv_center")
    return graph.index(st.session_state.gv_center)


def valid_layer(att) -> int:
    """The tab's 0-based layer, made one of ``att``'s (before its selectbox is drawn)."""
    ss = st.session_state
    if ss.get("gv_layer", 0) not in range(att.layers):
        ss.gv_layer = 0
    return ss.gv_layer


def valid_head(att, layer: int, allow=("all", "mean"), key: str = "gv_head"):
    """The tab's head (or "all" / "mean"), made one the layer has; with the selectbox's options."""
    ss = st.session_state
    heads = att.heads(layer)
    options = [*allow, *range(heads)] if heads > 1 else [0]
    if ss.get(key, options[0]) not in options:
        ss[key] = options[0]
    return ss.get(key, options[0]), options


def layer_select(att, container=st) -> int:
    """0-based layer, shown 1-based ("layer 1 of 2")."""
    valid_layer(att)
    layer = container.selectbox(t("layer"), range(att.layers), key="gv_layer",
                                format_func=lambda i, lang=lang(): t("layer.of", lang, layer=i + 1,
                                                                      layers=att.layers))
    remember("gv_layer")
    return layer


def head_select(att, layer: int, container=st, allow=("all", "mean"), key: str = "gv_head"):
    """A head index, or "all" / "mean" where ``allow`` has them and the layer has several heads."""
    _, options = valid_head(att, layer, allow, key)
    head = container.selectbox(t("head"), options, key=key, format_func=lambda h, lang=lang(): head_label(h, lang))
    remember(key)
    return head
