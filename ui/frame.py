"""What every page starts with: state carried over, a link applied, page config, navigation,
the sidebar (:func:`frame`), then the title and the tab's model (:func:`page`)."""
from __future__ import annotations

from pathlib import Path

import streamlit as st
import torch

from . import links, live, state
from .i18n import LANGUAGES, t
from .network import ensure_static
from .sidebar import apply_settings, pending_banner, sidebar, train_asked

# Sessions train in threads of their own (ui.live), at most one per core at once
# (ui.shared.MAX_TRAININGS). Intra-op threads only fight each other there: on 2 busy
# cores a karate epoch took 80 ms with 2 threads and 4 ms with 1, a Cora epoch 120-230 ms
# against 24 ms.
torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
# Material icons ship with Streamlit (no emoji font needed on a lecture machine)
PAGES = (("pages/explorer.py", "page.explorer", ":material/hub:"),
         ("pages/explain.py", "page.explain", ":material/calculate:"),
         ("pages/compare.py", "page.compare", ":material/compare_arrows:"))
# Projector legibility: less empty space above the title, no truncated labels in narrow columns.
_STYLE = """<style>
[data-testid=stMainBlockContainer] { padding: 1.6rem 1.8rem 3rem 1.8rem; }
[data-testid=stMainBlockContainer] h1 { font-size: 2.1rem; padding-top: 0.2rem; }
[data-testid=stSidebarUserContent] { padding-top: 0.8rem; }
[data-testid=stWidgetLabel] p { white-space: normal; overflow-wrap: break-word; }
[data-testid=stButton] button p, [data-testid=stDownloadButton] button p { white-space: normal; overflow: visible; text-overflow: clip;
  overflow-wrap: normal; word-break: normal; }
@media (max-width: 1100px) {   /* a small laptop: the Explorer's curves get the width, below the view */
  .st-key-gv_explorer_columns [data-testid=stHorizontalBlock]:not([data-testid=stColumn] *) { flex-wrap: wrap; }
  .st-key-gv_explorer_columns [data-testid=stHorizontalBlock]:not([data-testid=stColumn] *) > [data-testid=stColumn] {
    flex: 1 1 100% !important; min-width: 100% !important; }
}
</style>"""


# Presenter mode: everything a step larger (Streamlit sizes in rem), for the back row.
_PRESENTER_STYLE = """<style>
html { font-size: 21px !important; }
[data-testid=stMainBlockContainer] { padding-top: 3.4rem; }   /* below the header's sidebar button */
[data-testid=stMainBlockContainer] h1 { font-size: 2.2rem; }
</style>"""


def frame(title: str) -> None:
    """What every page starts with: state carried over, a link applied, page config, the
    sidebar's settings applied (its widgets are drawn by :func:`draw_sidebar`); then a
    linked run is trained."""
    state.init()
    st.session_state.gv_train_keys = None   # (the Explorer names its fragments: ui.sidebar._on_train)
    links.apply_once()
    live.settle()   # a run that ends within a moment is waited for: this run draws it done
    presenter = bool(st.session_state.gv_presenter)
    st.set_page_config(page_title=f"gatviz: {title}", page_icon="🕸️", layout="wide",
                       initial_sidebar_state="collapsed" if presenter else "auto")
    ensure_static()
    st.html(_STYLE + (_PRESENTER_STYLE if presenter else ""))
    apply_settings()
    train_asked()   # (Train clicked with new settings: they are applied first)
    pending_banner()
    links.train_requested()


def draw_sidebar() -> None:
    """Navigation, language, presenter mode, then the settings and Train / Stop / Reset."""
    with st.sidebar:
        for path, label, icon in PAGES:
            if (ROOT / path).exists():
                st.page_link(path, label=t(label), icon=icon)
        # (one row each: side by side, "简体中文" or "Presenter mode" did not fit the sidebar)
        st.selectbox("Language / 语言", list(LANGUAGES), key="gv_lang", format_func=LANGUAGES.get,
                     label_visibility="collapsed")
        st.toggle(t("presenter"), key="gv_presenter", help=t("presenter.help"))
        state.remember("gv_presenter", "gv_lang")
    sidebar()


def page(name: str, title_key: str, trains: bool = False, sidebar_later: bool = False):
    """Start a page: :func:`frame`, its title, the sidebar, and the tab's (trainer, graph);
    stops the page with a hint while no graph is loaded. Only a page that ``trains`` (the
    Explorer) lets the training thread go on; another reads the model directly, so training
    holds meanwhile. ``sidebar_later``: the page calls :func:`draw_sidebar` itself, once
    what must reach the browser first is drawn."""
    if not trains:
        live.hold()
    frame(name)
    st.title(t(title_key))
    ss = st.session_state
    if ss.gv_trainer is None:
        draw_sidebar()
        st.info(t("choose.graph"))
        st.stop()
    if not sidebar_later:
        draw_sidebar()
    return ss.gv_trainer, ss.gv_graph
