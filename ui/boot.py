"""What a page draws while torch and PyG load on a cold server (~3 s on 2 cores).

A page calls :func:`skeleton` before anything heavy: its title, a line in the sidebar and a
placeholder of the view reach the browser at once; the real page then replaces them in
place. A warm server (PyG already imported) draws nothing here: the page follows at once.
Only Streamlit and the text catalogue are imported.
"""
from __future__ import annotations

import sys

import streamlit as st

from .i18n import LANGUAGES, t

VIEW_PX = 520   # about the height of the view it stands in for


def skeleton(title_key: str) -> None:
    if "torch_geometric" in sys.modules:
        return
    choice = st.session_state.get("gv_lang") or st.query_params.get("lang", "en")
    lang = choice if choice in LANGUAGES else "en"
    with st.sidebar:
        st.caption(t("boot.loading", lang))
    st.title(t(title_key, lang))
    st.caption(t("boot.loading", lang))
    st.container(height=VIEW_PX, border=True)
