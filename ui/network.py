"""The network view as a Streamlit component: payload in, clicked node name out.

The component's module is ``network.js`` beside this file (small: it is sent with every
rerun). The drawing script and vis-network come from ``/app/static`` once per page load:
:func:`ensure_static` writes them there from ``gatviz.assets``. On a cold server the page's
skeleton already asks for them (:func:`preload`), while torch imports.
"""
from __future__ import annotations

import hashlib
from functools import partial
from pathlib import Path

import streamlit as st

from gatviz.assets import asset

from .i18n import view_words

APP_DIR = Path(__file__).resolve().parents[1]
STATIC_DIR = APP_DIR / "static"
ASSETS = ("vis-network.min.js", "gatviz-view.js", "vis-network.css", "gatviz-view.css")
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


_component = st.components.v2.component(
    "gatviz_network", js=(Path(__file__).with_name("network.js")).read_text("utf-8"),
    css=".gatviz-root { min-height: 320px; }", isolate_styles=False)


def _on_click(key: str) -> None:
    result = st.session_state.get(key) or {}
    name = result.get("click") if hasattr(result, "get") else None
    if name is not None:
        st.session_state.gv_clicked = name


def _on_pick(key: str) -> None:
    """A layer or head picked in the view (gatviz.choices): drawn already, now the page follows."""
    result = st.session_state.get(key) or {}
    pick = result.get("pick") if hasattr(result, "get") else None
    if not hasattr(pick, "get"):
        return
    layer, head = pick.get("layer"), pick.get("head")
    if isinstance(layer, int) and (head in ("all", "mean") or isinstance(head, int)):
        st.session_state.gv_layer, st.session_state.gv_head = layer, head   # checked by controls.valid_*


def preload(height: int) -> None:
    """An empty view of ``height`` px whose browser loads and parses the view's scripts (no
    payload): the first real view then draws at once."""
    _component(key="gv_preload", data={"payload": None, "assets": _asset_urls()}, height=height)


def draw_view(payload: dict, key: str = "gv_view") -> None:
    """Draw a render.view payload; a click on a node re-centres the view on it. A payload with
    ``choices`` (gatviz.choices) also offers its layers and heads, switched in the browser."""
    _component(key=key, data={"payload": view_words(payload), "assets": _asset_urls()},
               on_click_change=partial(_on_click, key),
               on_pick_change=partial(_on_pick, key))
