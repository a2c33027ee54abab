"""Widgets shared by the pages: the centre node and the layer / head selectors."""
from __future__ import annotations

import numpy as np
import streamlit as st

from gatviz import GatvizError

from .i18n import lang, t
from .state import remember
from .text import head_label, plain


# The centre's box lists every name of a graph of up to LISTED nodes. A larger graph's box lists
# the centre, the centres seen before, the centre's neighbours and the hubs (LISTED at most), and
# takes any other name typed in it: the whole list goes to the browser with every rerun of the view
# and is built again there for every new centre (Cora's 2,708 names: ~40 ms of every click).
LISTED = 400
RECENT = 20          # centres seen before, kept in the list


def ensure_center(graph) -> None:
    """Apply a click from the view, and keep gv_center a node of the current graph: a name typed
    that is not one (of a large graph's box) is said in one line, the centre stays."""
    ss = st.session_state
    clicked = ss.get("gv_clicked")
    ss.gv_clicked = None
    if clicked is not None:
        try:
            graph.index(str(clicked))
            ss.gv_center = str(clicked)
        except GatvizError as e:
            st.error(plain(e))
    name = ss.get("gv_center")
    known, last = known_name(graph, name), ss.get("gv_center_ok")
    same_graph = last is not None and last[0] is graph
    if known is None:
        if name is not None and same_graph:   # typed in a large graph's box: not a node
            try:
                graph.index(name)
            except GatvizError as e:
                st.error(plain(f"{e}; the centre stays {last[1]!r}"))
            known = last[1]
        else:                                 # a new graph, or no centre yet
            known = default_center(graph)
    if name != known:
        ss.gv_center = known
    if not same_graph:
        ss.gv_recent = []
    elif last[1] != known:   # the centres seen before, newest first
        ss.gv_recent = [last[1], *(n for n in ss.get("gv_recent", []) if n not in (last[1], known))][:RECENT]
    ss.gv_center_ok = (graph, known)


def known_name(graph, name) -> str | None:
    """The node's name as the graph has it: exact, else without surrounding spaces, else the one
    name equal to it ignoring case; None when there is no such node."""
    if name is None:
        return None
    for candidate in (str(name), str(name).strip()):
        try:
            graph.index(candidate)
            return candidate
        except GatvizError:
            pass
    folded = str(name).strip().casefold()
    matches = [n for n in graph.names if n.casefold() == folded] if folded else []
    return matches[0] if len(matches) == 1 else None


def centre_options(graph, centre: str) -> list[str]:
    """The names listed in the centre's box (see LISTED): all of them, or of a larger graph the
    centre, the centres seen before, the centre's neighbours and then the hubs, by degree."""
    if graph.num_nodes <= LISTED:
        return list(graph.names)
    index, degree = graph.index(centre), graph.degree
    sources = graph.data.edge_index[0][graph.data.edge_index[1] == index].unique().numpy()
    neighbours = sources[np.argsort(-degree[sources], kind="stable")]
    hubs = graph.by_degree[:LISTED]   # (sorted once per graph)
    names = dict.fromkeys([centre, *(st.session_state.get("gv_recent") or [])])
    for i in (*neighbours[:LISTED // 2], *hubs):
        if len(names) >= LISTED:
            break
        names.setdefault(graph.names[int(i)])
    return list(names)


def default_center(graph) -> str:
    """A well-connected node that still reads well: the first at the 90th degree percentile.

    (The hub's 17 karate neighbours each get alpha near 1/18: thin, alike edges.)
    """
    degree = graph.degree
    target = degree[degree >= np.percentile(degree, 90)].min()
    return graph.names[int(np.flatnonzero(degree == target)[0])]


def _on_highest(then=None) -> None:
    g = st.session_state.gv_graph
    st.session_state.gv_center = g.names[int(g.degree.argmax())]
    if then:
        then()


def _on_random(then=None) -> None:
    ss = st.session_state
    ss.gv_center = ss.gv_graph.names[ss.gv_rng.randrange(ss.gv_graph.num_nodes)]
    if then:
        then()


def _on_name(graph, key: str, then=None) -> None:
    """A name picked or typed in the box: the centre asked for; ``then()`` for one of the
    graph's nodes (an unknown name is said where the centre is checked, by the default rerun)."""
    ss = st.session_state
    ss.gv_center = ss[key]
    if then and known_name(graph, ss.gv_center) is not None:
        then()


def center_picker(graph, on_change=None) -> int:
    """Centre node by searchable name, Highest degree or Random; returns its index.
    ``on_change()``: called by the widgets' callbacks once a new centre is set."""
    ensure_center(graph)
    ss = st.session_state
    # The box is a widget of the centre it shows (its key names it). A centre set elsewhere (a
    # click in the view, Highest) while the box was not drawn again (the view's fragment ran
    # alone) leaves the browser with the older box, whose value is then no one's choice: as
    # the same widget, a value the browser sent late would have come back as a new centre.
    # (Set anew before every drawing: a name typed that is no node shows the centre again.)
    key = f"gv_center_box:{ss.gv_center}"
    ss[key] = ss.gv_center
    c1, c2, c3 = st.columns([2.2, 1.3, 1.1], vertical_alignment="bottom")
    many = graph.num_nodes > LISTED
    c1.selectbox(t("centre"), centre_options(graph, ss.gv_center), key=key,
                 help=t("centre.help.many" if many else "centre.help"), accept_new_options=many,
                 on_change=_on_name, args=(graph, key, on_change))
    c2.button(t("highest"), on_click=_on_highest, args=(on_change,), width="stretch")
    c3.button(t("random"), on_click=_on_random, args=(on_change,), width="stretch")
    return graph.index(ss.gv_center)


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
