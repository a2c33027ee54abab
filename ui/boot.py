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
from pathlib import Path
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


# ---- modules the first screen never uses, imported at their first use
# torch_geometric imports torch._dynamo at import time (~1.1 s of a cold start on 2 cores),
# for one isinstance check against torch.compile's wrapper; the first screen compiles
# nothing. It also imports every dataset class it has (torch_geometric.datasets, ~0.2 s of
# the server's start, its LLM helpers included); gatviz reads Planetoid's files through
# torch_geometric.io. At the server's start, pandas (~0.3 s on 2 cores; pyarrow with it) waits
# too: the Explorer's first screen sends its view before anything uses pandas (the progress
# column's curves follow the view while nothing is trained; the view's data reaches Streamlit
# as a list, whose values it does not test for data frames), and imports it while the browser
# draws that view.
# Until a first use, sys.modules holds a stand-in whose first attribute lookup imports the
# real package (torch's own lazy imports, e.g. Adam's first step, go through it; so does
# `import pandas as pd` followed by `pd.DataFrame`); the page calls warm() after drawing, so a
# Train click finds torch._dynamo imported. (importlib.util.LazyLoader does not do: the import
# statement itself reads the module's __spec__, which loads it at once.)
_LOCK = threading.RLock()
DYNAMO, DATASETS, PANDAS = "torch._dynamo", "torch_geometric.datasets", "pandas"
_REAL_DUNDERS = ("__path__", "__version__", "__all__")   # what a user of the package may ask


class _Deferred(types.ModuleType):
    def __getattr__(self, name: str):
        if name.startswith("__") and name not in _REAL_DUNDERS:   # (inspect and friends walk sys.modules)
            raise AttributeError(name)
        return getattr(_real(self.__name__), name)


def _real(name: str) -> types.ModuleType:
    """The real module ``name``, imported now if a stand-in holds its place."""
    with _LOCK:
        module = sys.modules.get(name)
        if module is None or isinstance(module, _Deferred):
            sys.modules.pop(name, None)
            parent, _, child = name.rpartition(".")
            owner = sys.modules.get(parent)
            if isinstance(getattr(owner, child, None), _Deferred):
                delattr(owner, child)
            module = importlib.import_module(name)
        return module


def _defer(name: str, spec: importlib.machinery.ModuleSpec) -> None:
    """A stand-in for ``name`` (``spec``: the real module's, not loaded; importlib.util.find_spec
    returns it, as torch._dynamo's list of modules asks), unless it is imported already."""
    with _LOCK:
        if name in sys.modules:
            return
        stand_in = _Deferred(name, "imported at its first use (ui.boot)")
        stand_in.__spec__, stand_in.__file__ = spec, spec.origin
        sys.modules[name] = stand_in
        _attach(name)


def _attach(name: str) -> None:
    """The stand-in of ``name`` as its package's attribute too, once the package is imported
    (an import finding a module in sys.modules does not set it)."""
    parent, _, child = name.rpartition(".")
    owner, module = sys.modules.get(parent), sys.modules.get(name)
    if owner is not None and isinstance(module, _Deferred) and child not in vars(owner):
        setattr(owner, child, module)   # (not hasattr: torch's module __getattr__ would import)


def _defer_dynamo() -> None:
    if DYNAMO not in sys.modules:
        import torch  # noqa: F401   (its parent: find_spec of a submodule imports it anyway)
        _defer(DYNAMO, importlib.util.find_spec(DYNAMO))


def _defer_datasets() -> None:
    """Before torch_geometric's first import (it imports its datasets in its __init__)."""
    if "torch_geometric" not in sys.modules:   # (find_spec of a submodule would import it)
        folder = Path(importlib.util.find_spec("torch_geometric").origin).with_name("datasets")
        _defer(DATASETS, importlib.util.spec_from_file_location(DATASETS, folder / "__init__.py",
                                                                 submodule_search_locations=[str(folder)]))


def warm() -> None:
    """After the first screen: import what was deferred, in the background (once per server;
    PyG's datasets stay deferred to their first use)."""
    later = [name for name in (PANDAS, DYNAMO) if isinstance(sys.modules.get(name), _Deferred)]
    if later:
        threading.Thread(target=lambda: [_real(name) for name in later], daemon=True, name="gatviz-warm").start()


# ---- the server's start: the imports begin while the browser loads the page
class _Preload(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True, name="gatviz-preload")
        self.ready = threading.Event()

    def run(self) -> None:
        try:
            _defer_dynamo()
            _defer_datasets()   # (the server's start only: nothing on a page needs them)
            _defer(PANDAS, importlib.util.find_spec(PANDAS))   # (no page imports it first)
            import torch_geometric  # noqa: F401
            _attach(DATASETS)
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
