"""gatviz: train a small Graph Attention Network live and watch every head attend.

Run with ``streamlit run app.py``. The pages live in ``pages/`` and use Streamlit's
file-based multipage mode: each page starts with ``ui.page()`` (page config, the
shared sidebar, navigation), and the values of shared widgets are carried across page
switches through Session State (``ui.state``).

This file is read twice. Imported by the server (``streamlit run`` finds ``app`` below,
an ``st.App``), it starts the imports every page needs (torch, PyG: ~2 s on 2 cores) as
the server starts, while the browser is still loading the page. Run as a session's
script, it only opens the Explorer, keeping the link's query parameters. The server also
answers the Explorer's view of a training run (ui.feed) at a route of its own, and writes
every thread's stack to its log on SIGUSR1 (a page that never comes: where the server waits).
"""
from contextlib import asynccontextmanager

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

if get_script_run_ctx(suppress_warning=True) is None:   # the server, starting
    import faulthandler
    import signal
    import sys

    if hasattr(signal, "SIGUSR1"):   # `kill -USR1 <pid>`: every thread's stack to the server's log
        faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)

    @asynccontextmanager
    async def _lifespan(_app):
        import ui.boot
        ui.boot.preload()
        yield

    import ui.feed   # the Explorer's view while a run trains, fetched outside script runs

    app = st.App(__file__, lifespan=_lifespan, routes=ui.feed.routes(st.get_option("server.baseUrlPath") or ""))
else:
    # the first run of a page load decides how the sidebar starts: folded for a presenter's link
    presenter = st.query_params.get("presenter") in ("1", "true")
    st.set_page_config(page_title="gatviz", layout="wide", initial_sidebar_state="collapsed" if presenter else "auto")
    st.switch_page("pages/explorer.py", query_params=st.query_params.to_dict())
