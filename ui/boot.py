"""What a page draws while torch and PyG load on a cold server (~2 s on 2 cores).

A page calls :func:`skeleton` before anything heavy: its title, a line in the sidebar and a
placeholder of the view reach the browser at once, and are cleared (the function it
returns) once the imports are done, just before the real page draws. A warm server (PyG
already imported) draws nothing here: the page follows at once.
Started by ``streamlit run app.py``, the server begins those imports itself as it starts
(:func:`preload`, from app.py's lifespan), while the browser loads the page; the skeleton
then waits for them. (Run otherwise, e.g. by AppTest, the page's own imports do it.)
Only Streamlit and the text catalogue are imported.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Callable

import streamlit as st

from .i18n import LANGUAGES, t

VIEW_PX = 520   # about the height of the view it stands in for


def skeleton(title_key: str) -> Callable[[], None]:
    """Draw the skeleton on a cold server; returns what clears it (after the imports the
    server started, if it did)."""
    if _PRELOAD.ready.is_set() if _PRELOAD is not None else "torch_geometric" in sys.modules:
        # the skeleton's two places, empty: the page's tree is the same as after a cold start's
        # first run (one element fewer would shift the whole page, re-mounting it, view included)
        st.sidebar.empty(), st.empty()
        return lambda: None
    choice = st.session_state.get("gv_lang") or st.query_params.get("lang", "en")
    lang = choice if choice in LANGUAGES else "en"
    side, main = st.sidebar.empty(), st.empty()
    side.caption(t("boot.loading", lang))
    with main.container():
        st.title(t(title_key, lang))
        st.caption(t("boot.loading", lang))
        with st.container(height=VIEW_PX, border=True):
            from .network import preload   # (light: Streamlit and the static files' text)
            preload(VIEW_PX - 40)
    if _PRELOAD is not None:
        _PRELOAD.ready.wait()   # the server's own import (one at a time: PyG's are circular)
    else:
        _defer_dynamo()   # (imports torch: after the skeleton is on its way)

    def clear() -> None:
        side.empty()
        main.empty()
    return clear


# ---- torch._dynamo, imported once the first screen is drawn
# torch_geometric imports torch._dynamo at import time (~1.1 s of a cold start on 2 cores),
# for one isinstance check against torch.compile's wrapper; the first screen compiles
# nothing. Until warm() or a first use, sys.modules holds a stand-in whose first attribute
# lookup imports the real package (torch's own lazy imports, e.g. Adam's first step, go
# through it); the page calls warm() after drawing, so a Train click finds it imported.
# (importlib.util.LazyLoader does not do: the import statement itself reads the module's
# __spec__, which loads it at once.)
_LOCK = threading.RLock()


class _Deferred(types.ModuleType):
    def __getattr__(self, name: str):
        if name.startswith("__") and name != "__path__":   # (inspect and friends walk sys.modules)
            raise AttributeError(name)
        return getattr(_real_dynamo(), name)


def _real_dynamo() -> types.ModuleType:
    with _LOCK:
        module = sys.modules.get("torch._dynamo")
        if module is None or isinstance(module, _Deferred):
            sys.modules.pop("torch._dynamo", None)
            torch = sys.modules["torch"]
            if isinstance(getattr(torch, "_dynamo", None), _Deferred):
                delattr(torch, "_dynamo")
            module = importlib.import_module("torch._dynamo")
        return module


def _defer_dynamo() -> None:
    with _LOCK:
        if "torch._dynamo" in sys.modules:
            return
        import torch
        stand_in = _Deferred("torch._dynamo", "imported at its first use (ui.boot)")
        stand_in.__spec__ = None
        stand_in.__file__ = importlib.util.find_spec("torch._dynamo").origin
        sys.modules["torch._dynamo"] = stand_in
        torch._dynamo = stand_in


def warm() -> None:
    """After the first screen: import what was deferred, in the background (once per server)."""
    if isinstance(sys.modules.get("torch._dynamo"), _Deferred):
        threading.Thread(target=_real_dynamo, daemon=True, name="gatviz-warm").start()


# ---- the server's start: the imports begin while the browser loads the page
class _Preload(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True, name="gatviz-preload")
        self.ready = threading.Event()

    def run(self) -> None:
        try:
            _defer_dynamo()
            import pandas  # noqa: F401
            import torch_geometric  # noqa: F401
            for name in ("gatviz.attention", "gatviz.choices", "gatviz.exports", "gatviz.render",
                         "gatviz.synthetic", "gatviz.uniformity", "gatviz.training", "ui.sidebar"):
                importlib.import_module(name)
        finally:
            self.ready.set()


_PRELOAD: _Preload | None = None


def preload() -> None:
    """At the server's start (app.py's lifespan): import what the first screen needs in the
    background, while the browser loads the page (~0.7 s on 2 cores)."""
    global _PRELOAD
    if _PRELOAD is None:
        _PRELOAD = _Preload()
        _PRELOAD.start()
