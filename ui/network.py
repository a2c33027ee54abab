"""The network view as a Streamlit component: payload in, clicked node name out.

The component's module is ``network.js`` beside this file (small: it is sent with every
rerun). The drawing script and vis-network come from ``/app/static`` once per page load:
:func:`ensure_static` writes them there from ``gatviz.assets``. On a cold server the page's
skeleton already asks for them (:func:`preload`), while torch imports.
"""
from __future__ import annotations

import hashlib
import time
from functools import partial
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

from gatviz.assets import asset

from . import reruns
from .i18n import view_words

APP_DIR = Path(__file__).resolve().parents[1]
STATIC_DIR = APP_DIR / "static"
ASSETS = ("vis-network.min.js", "gatviz-view.js", "gatviz-live.js", "gatviz-curves.js", "vis-network.css",
          "gatviz-view.css", "gatviz-curves.css")
_STATIC_VERSIONS: dict[str, str] | None = None


def ensure_static() -> dict[str, str]:
    """Write the view's scripts to ./static (served at /app/static/) when absent or stale.

    ``gatviz.assets`` is the one source; the copies are git-ignored. Returns a
    content hash per file, used as ``?v=`` so browsers never run a stale copy.
    """
    global _STATIC_VERSIONS
    if _STATIC_VERSIONS is None:
        versions = {}
        STATIC_DIR.mkdir(exist_ok=True)
        for name in ASSETS:
            data = asset(name).encode("utf-8")
            path = STATIC_DIR / name
            if not path.exists() or path.read_bytes() != data:
                path.write_bytes(data)
            versions[name] = hashlib.sha1(data).hexdigest()[:10]
        _STATIC_VERSIONS = versions
    return _STATIC_VERSIONS


def _asset_urls() -> dict:
    prefix = str(st.get_option("server.baseUrlPath") or "").strip("/")
    base = "/" + (prefix + "/" if prefix else "") + "app/static/"
    versions = ensure_static()
    url = {name: f"{base}{name}?v={versions[name]}" for name in ASSETS}
    return {"js": [url[n] for n in ASSETS if n.endswith(".js")],
            "css": [url[n] for n in ASSETS if n.endswith(".css")],
            "key": "".join(versions.values())}


# The component's data is a list of one dict (network.js reads its first item): Streamlit tests
# each value of a dict for a data frame, which imports pandas (~0.3 s of a cold start's first
# view, ui.boot); a list it sends as JSON as it is.
_component = st.components.v2.component(
    "gatviz_network", js=(Path(__file__).with_name("network.js")).read_text("utf-8"),
    css=".gatviz-root { min-height: 320px; }", isolate_styles=False)


def _on_click(key: str, page: str | None) -> None:
    result = st.session_state.get(key) or {}
    name = result.get("click") if hasattr(result, "get") else None
    if name is not None:
        st.session_state.gv_clicked = name
        if page:   # the view's own fragment reruns (the default), drawn first; then `page`
            st.session_state.gv_follow = True


def _on_pick(key: str, page: str | None) -> None:
    """A layer or head picked in the view (gatviz.choices): drawn already, now the page follows."""
    result = st.session_state.get(key) or {}
    pick = result.get("pick") if hasattr(result, "get") else None
    if not hasattr(pick, "get"):
        return
    layer, head = pick.get("layer"), pick.get("head")
    if isinstance(layer, int) and (head in ("all", "mean") or isinstance(head, int)):
        st.session_state.gv_layer, st.session_state.gv_head = layer, head   # checked by controls.valid_*
        if page:
            _rerun(page)


def _on_shown(page: str | None) -> None:
    """The browser has drawn a view that ran alone: the page around it follows."""
    if page:
        _rerun(page)


def _rerun(fragment: str) -> None:
    """From a callback: rerun the fragment keyed ``fragment`` instead of the one the widget
    is in, and whatever else the run carries (ui.reruns.retarget); it ends the callback.
    Returns (the default rerun follows) when the run is a full one, or that fragment is not
    on the page (yet)."""
    try:
        reruns.retarget([fragment])
    except StreamlitAPIException:
        pass


def view_first(view: str, page: str) -> None:
    """In a widget's callback, for a change that moves the view (centre, hops, edges): rerun
    the view's fragment ``view`` alone, so the browser draws the new view before anything
    else, and once it has drawn it the fragment ``page`` (the page around the view follows).

    Sent first within the explorer's run, the view was still drawn only once the browser had
    taken in the rest of that run (table, verdicts, downloads): about half of a Cora node
    switch's 0.2 s."""
    st.session_state.gv_follow = True
    _rerun(view)
    st.session_state.gv_follow = False   # (reached only when the view's fragment is not on the page)


def preload(height: int) -> None:
    """An empty view of ``height`` px whose browser loads and parses the view's scripts (no
    payload): the first real view then draws at once."""
    _component(key="gv_preload", data=[{"payload": None, "assets": _asset_urls()}], height=height)


def live_url(token: str, route: str | None = None) -> str:
    """Where the browser fetches a training run's view (or ``route``: ui.feed.CURVES_ROUTE, its
    curves), under the server's base path."""
    from .feed import ROUTE, url
    return url(token, str(st.get_option("server.baseUrlPath") or ""), route or ROUTE)


def draw_curves(curves: dict, live: dict | None = None, on_ended=None) -> None:
    """The Explorer's progress column (ui.curves: its data), drawn by static/gatviz-curves.js.
    ``live``: while the tab's run trains, {"url": ui.feed curves url, "every": seconds}: the
    browser asks there every tick, and tells the page once the run has ended ("ended": the
    fragment it is in reruns, after ``on_ended``)."""
    _component(key="gv_curves", data=[{"curves": curves, "assets": _asset_urls(), "live": live}],
               on_ended_change=on_ended or (lambda: None))


def draw_view(payload: dict, key: str = "gv_view", page: str | None = None, live: dict | None = None) -> None:
    """Draw a render.view payload; a click on a node re-centres the view on it. A payload with
    ``choices`` (gatviz.choices) also offers its layers and heads, switched in the browser.

    ``page``: the key of the fragment around the view, on a page where the view is a fragment
    of its own. A click then reruns the view's fragment alone (drawn first) and a pick that
    page; and where this run is the view's alone (:func:`view_first`, a click), the page
    follows once the browser has drawn it.

    ``live``: while the tab's run trains, {"url": live_url(token), "every": seconds}: the browser
    fetches the run's newest view there every tick and draws it in place (ui.feed)."""
    ss = st.session_state
    follow = bool(page and ss.get("gv_follow"))
    ss.gv_follow = False
    data = {"payload": view_words(payload), "assets": _asset_urls(),
            # (new at each such run: the browser tells it once)
            "follow": f"{time.monotonic_ns()}" if follow else None, "live": live}
    _component(key=key, data=[data], on_click_change=partial(_on_click, key, page),
               on_pick_change=partial(_on_pick, key, page), on_shown_change=partial(_on_shown, page))
