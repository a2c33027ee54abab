"""Streamlit-side helpers shared by the pages (the library, ``gatviz/``, never imports Streamlit).

One concern per module: ``frame`` (what every page starts with), ``state`` (what a tab
holds, carried across pages), ``sidebar`` (settings, Train / Stop / Reset), ``live``
(training in a thread per tab), ``feed`` (the view a training tab's browser fetches),
``network`` (the view component, its script in ``network.js``), ``curves`` (the
Explorer's progress column, drawn by the same component), ``reruns`` (reruns of
some of a page's fragments), ``controls`` (centre node, layer, head), ``text`` (user text
made safe), ``words`` (the library's verdicts in the tab's language) and ``boot`` (what a
page draws while torch and PyG load). Every page starts with :func:`page`.

The names below load their module on first use (PEP 562): ``import ui`` costs nothing,
so that a page draws its title and a skeleton of the view before the ~3 s import of
torch and PyG on a cold server.
"""
from __future__ import annotations

import importlib

_FROM = {"page": "frame", "frame": "frame", "PAGES": "frame", "draw_sidebar": "frame",
         "center_picker": "controls", "default_center": "controls", "ensure_center": "controls",
         "head_select": "controls", "layer_select": "controls",
         "line_chart": "charts", "TICK_S": "live", "tick": "live", "follow_training": "live",
         "ensure_static": "network", "draw_view": "network",
         "pending_banner": "sidebar", "sidebar": "sidebar",
         "USER_ERRORS": "text", "head_label": "text", "plain": "text"}
_MODULES = {"boot", "charts", "controls", "curves", "feed", "frame", "i18n", "links", "live", "network", "reruns", "runfiles",
            "shared", "sidebar", "state", "text", "words"}


def __getattr__(name: str):
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _FROM:
        value = getattr(importlib.import_module(f".{_FROM[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ui' has no attribute {name!r}")


__all__ = sorted({*_FROM, *_MODULES})
