"""What a page draws while torch and PyG load on a cold server (~3 s on 2 cores).

A page calls :func:`skeleton` before anything heavy: its title, a line in the sidebar and a
placeholder of the view reach the browser at once, and are cleared (the function it
returns) once the imports are done, just before the real page draws. A warm server (PyG
already imported) draws nothing here: the page follows at once.
Only Streamlit and the text catalogue are imported.
"""
from __future__ import annotations

import sys
from typing import Callable

import streamlit as st

from .i18n import LANGUAGES, t

VIEW_PX = 520   # about the height of the view it stands in for


def skeleton(title_key: str) -> Callable[[], None]:
    """Draw the skeleton on a cold server; returns what clears it."""
    if "torch_geometric" in sys.modules:
        return lambda: None
    choice = st.session_state.get("gv_lang") or st.query_params.get("lang", "en")
    lang = choice if choice in LANGUAGES else "en"
    side, main = st.sidebar.empty(), st.empty()
    side.caption(t("boot.loading", lang))
    with main.container():
        st.title(t(title_key, lang))
        st.caption(t("boot.loading", lang))
        st.container(height=VIEW_PX, border=True)

    def clear() -> None:
        side.empty()
        main.empty()
    return clear
