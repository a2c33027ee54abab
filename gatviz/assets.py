"""The view's static files, as text: vis-network (shipped with pyvis) and gatviz's own.

Light on purpose (no torch): the app's first screen preloads them while torch imports.
"""
from __future__ import annotations

from importlib import resources


def asset(name: str) -> str:
    """Text of a static asset: ``vis-network.min.js``/``vis-network.css`` (from pyvis) or gatviz's own."""
    if name.startswith("vis-network"):
        return (resources.files("pyvis") / "templates" / "lib" / "vis-9.1.2" / name).read_text("utf-8")
    return (resources.files("gatviz") / "static" / name).read_text("utf-8")
