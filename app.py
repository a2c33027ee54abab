"""gatviz: train a small Graph Attention Network live and watch every head attend.

Run with ``streamlit run app.py``. The pages live in ``pages/`` and use Streamlit's
file-based multipage mode: each page starts with ``ui.frame()`` (page config, the
shared sidebar, navigation), and the values of shared widgets are carried across page
switches through Session State (``ui.state``). This entrypoint only opens the Explorer,
keeping the link's query parameters.
"""
import streamlit as st

# the first run of a page load decides how the sidebar starts: folded for a presenter's link
presenter = st.query_params.get("presenter") in ("1", "true")
st.set_page_config(page_title="gatviz", layout="wide", initial_sidebar_state="collapsed" if presenter else "auto")
st.switch_page("pages/explorer.py", query_params=st.query_params.to_dict())
