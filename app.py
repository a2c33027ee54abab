"""gatviz: train a small Graph Attention Network live and watch every head attend.

Run with ``streamlit run app.py``. The pages live in ``pages/`` and use Streamlit's
file-based multipage mode: each page starts with ``ui.frame()`` (page config, the
shared sidebar, navigation), and the values of shared widgets are carried across page
switches through Session State (``ui.state.carry_over``). This entrypoint only opens
the Explorer, keeping the link's query parameters.
"""
import streamlit as st

st.switch_page("pages/explorer.py", query_params=st.query_params.to_dict())
