"""gatviz: train a small Graph Attention Network live and watch every head attend.

Run with ``streamlit run app.py``. This entrypoint is the picture frame: page
config, the shared sidebar (graph + model settings, Train / Stop / Reset, all in
``ui.py``), then ``st.navigation`` runs the page the user is on.

The pages live in ``app_pages/``, not ``pages/``: Streamlit 1.67 still treats a
``pages/`` folder beside the entrypoint as a v1 multipage app for the first run
of a server (a session's sidebar widgets reset on its first rerun) and for every
``AppTest`` run (the second run executes the page without this entrypoint).
"""
import streamlit as st

import ui

st.set_page_config(page_title="gatviz: graph attention, live", page_icon="🕸️", layout="wide")
ui.ensure_static()
ui.page_style()
ui.sidebar()
ui.pending_banner()
page = st.navigation([st.Page("app_pages/explorer.py", title="Attention explorer", icon="🔎", default=True)])
page.run()
