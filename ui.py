"""Streamlit-side helpers shared by the pages: session state, the sidebar, the network view.

The library (``gatviz/``) never imports Streamlit; this module is the only glue.
Per browser tab, ``st.session_state`` holds:

    gv_graph, gv_layouts  the applied graph (read-only, cached for all sessions) and
                          its seeded layouts, reused for every head/layer switch
    gv_trainer            the Trainer: per session, never in cache_resource
    gv_applied            (graph key, RunConfig, sidebar values) the trainer was built from
    gv_wanted             the same for what the sidebar shows now (None if invalid)
    gv_pending            gv_wanted, while it waits for "Discard trained model and apply"
    gv_training           True while the explorer's fragment trains on a timer
    gv_center             the centre node's name (the explorer's selectbox)
    gv_clicked            a name clicked in the network view, until the page re-centres
    gv_message            a one-line error from a callback, shown once

Train resumes where Stop left off. Once the epoch budget is reached, Train adds
the sidebar's *Epochs* again. Changing *Epochs* never discards the model;
any other setting does, and asks first.
"""
from __future__ import annotations

import hashlib
import random
import string
import time
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from gatviz import GatvizError, RunConfig, graphs, render
from gatviz.parse import parse_upload
from gatviz.training import Trainer

APP_DIR = Path(__file__).resolve().parent
STATIC_DIR = APP_DIR / "static"
ASSETS = ("vis-network.min.js", "gatviz-view.js", "vis-network.css", "gatviz-view.css")
TICK_S = 0.6            # live training: the fragment reruns this often...
CHUNK_S = 0.4           # ...and trains about this long per run
DATASETS = {"karate": "Karate club (34 nodes)", "cora": "Cora (2,708 papers)",
            "citeseer": "CiteSeer (3,327 papers)", "sbm": "Stochastic block model"}
PER_UPDATE = ("auto", 1, 2, 5, 20)
USER_ERRORS = (GatvizError, MemoryError, torch.cuda.OutOfMemoryError)
# Sessions train in Streamlit's script threads, one chunk at a time (the trainer's RNG
# lock). Intra-op threads only fight each other there: on 2 busy cores a karate epoch
# took 80 ms with 2 threads and 4 ms with 1, a Cora epoch 120-230 ms against 24 ms.
torch.set_num_threads(1)

_D = RunConfig()
DEFAULTS = {"gv_source": "Built-in", "gv_dataset": "karate", "gv_directed": False,
            "gv_sbm_nodes": _D.sbm_nodes, "gv_sbm_blocks": _D.sbm_blocks,
            "gv_sbm_p_in": _D.sbm_p_in, "gv_sbm_p_out": _D.sbm_p_out,
            "gv_model": _D.model, "gv_layers": _D.layers, "gv_heads": _D.heads,
            "gv_hidden": _D.hidden, "gv_dropout": _D.dropout, "gv_lr": _D.lr,
            "gv_epochs": _D.epochs, "gv_seed": _D.seed, "gv_device": "cpu", "gv_per_update": "auto"}
_STATIC_VERSIONS: dict[str, str] | None = None


# ---------------------------------------------------------------- static assets
def ensure_static() -> dict[str, str]:
    """Write the view's scripts to ./static (served at /app/static/) when absent or stale.

    ``render.asset`` is the one source; the copies are git-ignored. Returns a
    content hash per file, used as ``?v=`` so browsers never run a stale copy.
    """
    global _STATIC_VERSIONS
    if _STATIC_VERSIONS is None:
        versions = {}
        STATIC_DIR.mkdir(exist_ok=True)
        for name in ASSETS:
            data = render.asset(name).encode("utf-8")
            path = STATIC_DIR / name
            if not path.exists() or path.read_bytes() != data:
                path.write_bytes(data)
            versions[name] = hashlib.sha1(data).hexdigest()[:10]
        _STATIC_VERSIONS = versions
    return _STATIC_VERSIONS


def _asset_urls() -> dict:
    prefix = str(st.get_option("server.baseUrlPath") or "").strip("/")
    base = "/" + (prefix + "/" if prefix else "") + "app/static/"
    versions = ensure_static()
    url = {name: f"{base}{name}?v={versions[name]}" for name in ASSETS}
    return {"js": [url[n] for n in ASSETS if n.endswith(".js")],
            "css": [url[n] for n in ASSETS if n.endswith(".css")],
            "key": "".join(versions.values())}


def plain(text: str) -> str:
    """User text (node names, file cells) made safe for st.error/st.markdown: shown verbatim.

    Every ASCII punctuation mark is backslash-escaped (CommonMark), so no markdown,
    link, math or HTML forms; a word joiner (U+2060, invisible) after each ':'
    keeps ``:smile:``-style shortcodes from turning into emoji.
    """
    out = "".join("\\" + c if c in string.punctuation else c for c in str(text).replace("\n", " "))
    return out.replace(":", ":\u2060")


def page_style() -> None:
    """Less empty space above the title, so the view fits a projector's 1080 lines."""
    st.html("<style>[data-testid=stMainBlockContainer] { padding-top: 2.5rem; }</style>")


# ---------------------------------------------------------------- graphs (read-only, cached)
@st.cache_resource(max_entries=8, show_spinner="Loading the graph…")
def _builtin(name: str, sbm: tuple, seed: int) -> graphs.Graph | str:
    """A built-in graph, or the one-line reason it could not be made."""
    try:
        nodes, blocks, p_in, p_out = sbm or (_D.sbm_nodes, _D.sbm_blocks, _D.sbm_p_in, _D.sbm_p_out)
        return graphs.load(name, RunConfig(dataset=name, sbm_nodes=nodes, sbm_blocks=blocks,
                                           sbm_p_in=p_in, sbm_p_out=p_out, seed=seed))
    except GatvizError as e:   # the same input fails the same way: cached too
        return str(e)


@st.cache_resource(max_entries=4, show_spinner="Reading your files…")
def _uploaded(digest: str, directed: bool, seed: int, name: str, source: str,
              _edges: bytes, _nodes: bytes | None) -> graphs.Graph | str:
    """An uploaded graph keyed by its bytes' digest (not the bytes), or why it failed."""
    try:
        return parse_upload(_edges, _nodes, directed=directed, seed=seed, name=name, source=source)
    except GatvizError as e:
        return str(e)


def _digest(files) -> str:
    """sha256 of the uploaded files' bytes, computed once per upload."""
    memo = st.session_state.setdefault("gv_digests", {})
    ids = tuple(f.file_id for f in files)
    if ids not in memo:
        memo.clear()
        memo[ids] = "+".join(hashlib.sha256(f.getvalue()).hexdigest() for f in files)
    return memo[ids]


def _wanted_graph(config: RunConfig, ss) -> tuple[tuple | None, graphs.Graph | str | None]:
    """(key, graph or error text) for what the sidebar selects; (None, None) without a file."""
    if ss.gv_source == "Built-in":
        name = ss.gv_dataset
        sbm = (config.sbm_nodes, config.sbm_blocks, config.sbm_p_in, config.sbm_p_out) if name == "sbm" else ()
        seed = config.seed if name == "sbm" else 0
        return ("builtin", name, sbm, seed), _builtin(name, sbm, seed)
    edges, nodes = ss.get("gv_edges"), ss.get("gv_nodes")
    if edges is None:
        return None, None
    files = [edges] + ([nodes] if nodes is not None else [])
    digest = _digest(files)
    source = " + ".join(f.name for f in files)
    key = ("upload", digest, ss.gv_directed, config.seed)
    graph = _uploaded(digest, ss.gv_directed, config.seed, Path(edges.name).stem or "upload", source,
                      edges.getvalue(), nodes.getvalue() if nodes is not None else None)
    return key, graph


# ---------------------------------------------------------------- session state
def init_state() -> None:
    ss = st.session_state
    for key, value in DEFAULTS.items():
        ss.setdefault(key, value)
    for key in ("gv_graph", "gv_trainer", "gv_applied", "gv_wanted", "gv_pending", "gv_dismissed", "gv_message"):
        ss.setdefault(key, None)
    ss.setdefault("gv_training", False)
    ss.setdefault("gv_chunk", 2)
    ss.setdefault("gv_rng", random.Random(0))


def _sidebar_values() -> dict:
    return {k: st.session_state[k] for k in DEFAULTS}


def _apply(key, graph, config: RunConfig, values: dict) -> None:
    """Make (graph, config) current with a fresh, untrained model."""
    ss = st.session_state
    try:
        trainer = Trainer(graph, config)
    except USER_ERRORS as e:
        ss.gv_message = f"The model could not be built: {e}"
        return
    if ss.gv_applied is None or ss.gv_applied[0] != key:
        ss.gv_graph, ss.gv_layouts = graph, render.Layouts(graph, seed=0)
        ss.pop("gv_center", None)   # a new graph starts at its default centre
    ss.gv_trainer, ss.gv_applied = trainer, (key, config, values)
    ss.gv_training, ss.gv_pending, ss.gv_chunk = False, None, 2


def _sync(key, graph, config: RunConfig) -> None:
    """Apply the sidebar's settings, or ask first when that would discard a trained model."""
    ss = st.session_state
    values = _sidebar_values()
    ss.gv_wanted = (key, graph, config, values)
    if ss.gv_applied is None:
        _apply(key, graph, config, values)
        return
    akey, aconfig, _ = ss.gv_applied
    if key == akey and config.replace(epochs=aconfig.epochs) == aconfig:
        if config.epochs != aconfig.epochs:   # only the budget changed: the model stays
            ss.gv_trainer.config = ss.gv_trainer.config.replace(epochs=config.epochs)
            ss.gv_applied = (key, config, values)
        ss.gv_pending = ss.gv_dismissed = None
    elif ss.gv_trainer.epoch == 0:
        _apply(key, graph, config, values)
    elif ss.gv_dismissed != (key, config):   # "Keep current model" on exactly these settings
        ss.gv_pending = ss.gv_wanted


def changes(pending) -> str:
    """What differs between the applied settings and ``pending``, in words."""
    akey, aconfig, _ = st.session_state.gv_applied
    key, _, config, _ = pending
    words = ["the graph"] if key != akey else []
    words += [f"{f} {getattr(aconfig, f)} → {getattr(config, f)}" for f in aconfig.to_dict()
              if f != "epochs" and getattr(aconfig, f) != getattr(config, f) and not f.startswith("sbm_")]
    return ", ".join(words) or "the graph"


def _on_discard() -> None:
    if st.session_state.gv_pending:
        key, graph, config, values = st.session_state.gv_pending
        _apply(key, graph, config, values)


def _on_keep() -> None:
    ss = st.session_state
    if ss.gv_pending:
        ss.gv_dismissed = (ss.gv_pending[0], ss.gv_pending[2])
    ss.gv_pending = None
    for k, v in ss.gv_applied[2].items():   # the sidebar shows the model's settings again
        ss[k] = v


def _on_train() -> None:
    ss = st.session_state
    trainer = ss.gv_trainer
    if trainer.remaining == 0:   # budget reached: Train adds the sidebar's epochs again
        trainer.config = trainer.config.replace(epochs=trainer.epoch + ss.gv_applied[1].epochs)
    ss.gv_training = True


def _on_stop() -> None:
    st.session_state.gv_training = False


def _on_reset() -> None:
    ss = st.session_state
    key, graph, config, values = ss.gv_wanted or (*ss.gv_applied[:1], ss.gv_graph, *ss.gv_applied[1:])
    _apply(key, graph, config, values)


def pending_banner() -> None:
    """Ask before a settings change throws the trained model away."""
    ss = st.session_state
    box = st.container()   # always there, so the page below keeps its place in the tree
    if ss.gv_message:
        box.error(plain(ss.gv_message))
        ss.gv_message = None
    if ss.gv_pending and ss.gv_trainer is not None:
        box.warning(f"Settings changed ({changes(ss.gv_pending)}). Applying them discards the model "
                    f"trained for {ss.gv_trainer.epoch} epochs; until then it stays as it is.")
        c1, c2, _ = box.columns([2, 1.4, 3])
        c1.button("Discard trained model and apply", on_click=_on_discard, type="primary")
        c2.button("Keep current model", on_click=_on_keep)


# ---------------------------------------------------------------- sidebar
def sidebar() -> None:
    """Graph and model settings (one RunConfig), Train / Stop / Reset."""
    init_state()
    ss = st.session_state
    with st.sidebar:
        st.header("Graph")
        st.radio("Source", ("Built-in", "Upload"), key="gv_source", horizontal=True)
        if ss.gv_source == "Built-in":
            st.selectbox("Dataset", list(graphs.BUILTINS), key="gv_dataset", format_func=DATASETS.get)
            if ss.gv_dataset == "sbm":
                c1, c2 = st.columns(2)
                c1.number_input("Nodes", 2, 20_000, step=50, key="gv_sbm_nodes")
                c2.number_input("Blocks", 1, 100, key="gv_sbm_blocks")
                c1.number_input("p_in", 0.0, 1.0, step=0.01, format="%.3f", key="gv_sbm_p_in")
                c2.number_input("p_out", 0.0, 1.0, step=0.001, format="%.4f", key="gv_sbm_p_out")
        else:
            st.file_uploader("Edge file", key="gv_edges",
                             help="One edge per row: source,target (CSV, TSV or space-separated).")
            st.file_uploader("Node file (optional)", key="gv_nodes",
                             help="node,label[,feature…] per row.")
            st.checkbox("Directed", key="gv_directed")
        report = st.container()

        st.header("Model")
        st.radio("Model", ("gat", "gatv2"), key="gv_model", horizontal=True,
                 format_func={"gat": "GAT", "gatv2": "GATv2"}.get)
        c1, c2 = st.columns(2)
        c1.number_input("Layers", 1, 6, key="gv_layers")
        c2.number_input("Heads", 1, 16, key="gv_heads")
        c1.number_input("Hidden per head", 1, 256, key="gv_hidden")
        c2.number_input("Dropout", 0.0, 0.95, step=0.05, format="%.2f", key="gv_dropout")
        c1.number_input("Learning rate", 0.0001, 1.0, step=0.001, format="%.4f", key="gv_lr")
        c2.number_input("Epochs", 1, 100_000, step=10, key="gv_epochs")
        c1.number_input("Seed", 0, 2**31 - 1, key="gv_seed")
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        if ss.gv_device not in devices:
            ss.gv_device = "cpu"
        c2.selectbox("Device", devices, key="gv_device", format_func={"cpu": "CPU", "cuda": "GPU"}.get)
        if ss.gv_per_update not in PER_UPDATE:
            ss.gv_per_update = "auto"
        st.selectbox("Epochs per update", PER_UPDATE, key="gv_per_update",
                     format_func=lambda v: "auto (~0.4 s of training)" if v == "auto" else f"{v}",
                     help="1 shows every epoch: slow enough to watch attention sharpen.")

        config = _config(ss)
        if config is not None:
            try:
                key, graph = _wanted_graph(config, ss)
            except USER_ERRORS as e:   # e.g. out of memory: not cached, the next run tries again
                key, graph = None, f"The graph could not be loaded: {e}"
            if isinstance(graph, str):
                report.error(plain(graph))
                ss.gv_wanted = None
            elif graph is None:
                report.info("Choose an edge file to upload.")
                ss.gv_wanted = None
            else:
                lines = graph.report.lines()
                report.text(lines[0])
                with report.expander("What was read", expanded=ss.gv_source == "Upload"):
                    for line in lines[1:]:
                        st.text(line)
                _sync(key, graph, config)

        training = ss.gv_training
        c1, c2, c3 = st.columns(3)
        c1.button("Train", on_click=_on_train, disabled=training or ss.gv_trainer is None, type="primary",
                  help="Trains up to Epochs; Stop keeps the model and Train resumes. "
                       "Once Epochs are done, Train adds Epochs more.")
        c2.button("Stop", on_click=_on_stop, disabled=not training)
        c3.button("Reset", on_click=_on_reset, disabled=ss.gv_trainer is None,
                  help="A fresh, untrained model from the settings above.")


def _config(ss) -> RunConfig | None:
    """The one RunConfig the sidebar describes, or None after showing why it is invalid."""
    dataset = ss.gv_dataset if ss.gv_source == "Built-in" else "upload"
    # settings of a hidden widget (SBM sizes, "directed") do not count
    sbm = (dict(sbm_nodes=int(ss.gv_sbm_nodes), sbm_blocks=int(ss.gv_sbm_blocks),
                sbm_p_in=float(ss.gv_sbm_p_in), sbm_p_out=float(ss.gv_sbm_p_out)) if dataset == "sbm" else {})
    try:
        return RunConfig(dataset=dataset, model=ss.gv_model, layers=int(ss.gv_layers), heads=int(ss.gv_heads),
                         hidden=int(ss.gv_hidden), dropout=float(ss.gv_dropout), lr=float(ss.gv_lr),
                         epochs=int(ss.gv_epochs), seed=int(ss.gv_seed), device=ss.gv_device,
                         directed=dataset == "upload" and bool(ss.gv_directed), **sbm)
    except GatvizError as e:
        st.error(plain(e))
        return None


# ---------------------------------------------------------------- live training
def train_chunk() -> bool:
    """Train one chunk if training is on; True when this chunk finished the run.

    The chunk adapts so that it takes about CHUNK_S seconds (or is the
    sidebar's fixed "epochs per update").
    """
    ss = st.session_state
    trainer = ss.gv_trainer
    if not ss.gv_training or trainer is None:
        return False
    fixed = ss.gv_per_update != "auto"
    n = min(int(ss.gv_per_update) if fixed else ss.gv_chunk, trainer.remaining)
    if n > 0:
        start = time.perf_counter()
        try:
            trainer.step(n)
        except USER_ERRORS as e:
            ss.gv_training, ss.gv_message = False, f"Training stopped: {e}"
            return True
        took = max(time.perf_counter() - start, 1e-3)
        if not fixed:   # aim at CHUNK_S, growing at most 4x per chunk
            ss.gv_chunk = max(1, min(4 * n, round(n * CHUNK_S / took), 5000))
    if trainer.remaining == 0:
        ss.gv_training = False
        return True
    return False


# ---------------------------------------------------------------- centre node
def ensure_center(graph) -> None:
    """Apply a click from the view, and keep gv_center a node of the current graph."""
    ss = st.session_state
    clicked = ss.get("gv_clicked")
    ss.gv_clicked = None
    if clicked is not None:
        try:
            graph.index(str(clicked))
            ss.gv_center = str(clicked)
        except GatvizError as e:
            st.error(plain(e))
    try:
        graph.index(ss.get("gv_center"))
    except GatvizError:
        ss.gv_center = default_center(graph)


def default_center(graph) -> str:
    """A well-connected node that still reads well: the first at the 90th degree percentile.

    (The hub's 17 karate neighbours each get alpha near 1/18: thin, alike edges.)
    """
    degree = graph.degree
    target = degree[degree >= np.percentile(degree, 90)].min()
    return graph.names[int(np.flatnonzero(degree == target)[0])]


def _on_highest() -> None:
    g = st.session_state.gv_graph
    st.session_state.gv_center = g.names[int(g.degree.argmax())]


def _on_random() -> None:
    ss = st.session_state
    ss.gv_center = ss.gv_graph.names[ss.gv_rng.randrange(ss.gv_graph.num_nodes)]


def center_picker(graph) -> None:
    ensure_center(graph)
    c1, c2, c3 = st.columns([4, 1.3, 1])
    c1.selectbox("Centre node", graph.names, key="gv_center",
                 help="Type to search. Or click a node in the network.")
    c2.button("Highest degree", on_click=_on_highest, width="stretch")
    c3.button("Random", on_click=_on_random, width="stretch")


# ---------------------------------------------------------------- the network view
_NETWORK_JS = r"""
function addCss(href) {
  if (document.querySelector('link[data-gatviz="' + href + '"]')) return;
  const link = document.createElement("link");
  link.rel = "stylesheet"; link.href = href; link.dataset.gatviz = href;
  document.head.appendChild(link);
}
function addScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src; s.onload = resolve;
    s.onerror = () => reject(new Error("could not load " + src));
    document.head.appendChild(s);
  });
}
// The big scripts come from /app/static once per page load, never with a rerun.
function assets(a) {
  let p = window.__gatvizAssets;
  if (!p || p.key !== a.key) {
    a.css.forEach(addCss);
    p = a.js.reduce((prev, src) => prev.then(() => addScript(src)), Promise.resolve());
    p.key = a.key;
    p.catch(() => { window.__gatvizAssets = null; });
    window.__gatvizAssets = p;
  }
  return p;
}
export default function ({ data, parentElement, setTriggerValue }) {
  let root = parentElement.querySelector(".gatviz-root");
  if (!root) {
    root = document.createElement("div");
    root.className = "gatviz-root";
    parentElement.appendChild(root);
  }
  if (!root.__gatvizWheel) {   // the wheel scrolls the page; Ctrl/Cmd + wheel zooms the network
    root.addEventListener("wheel", (e) => { if (!e.ctrlKey && !e.metaKey) e.stopPropagation(); },
                          { capture: true });
    root.__gatvizWheel = true;
  }
  const token = {};
  root.__gatvizToken = token;
  assets(data.assets).then(() => {
    if (root.__gatvizToken !== token) return;   // a newer payload came meanwhile
    (root.__gatvizNetworks || []).forEach((n) => n.destroy());
    root.__gatvizNetworks = window.gatvizRender(root, data.payload,
      (id, name) => setTriggerValue("click", name));
    root.dataset.center = String(data.payload.center);
    window.__gatvizDrawn = (window.__gatvizDrawn || 0) + 1;   // views drawn on this page (tests wait on it)
  }).catch((err) => { root.textContent = "The network view could not load: " + err.message; });
  return () => { (root.__gatvizNetworks || []).forEach((n) => n.destroy()); root.__gatvizNetworks = []; };
}
"""
_network = st.components.v2.component(
    "gatviz_network", js=_NETWORK_JS, css=".gatviz-root { min-height: 320px; }", isolate_styles=False)


def _on_click() -> None:
    result = st.session_state.get("gv_view") or {}
    name = result.get("click") if hasattr(result, "get") else None
    if name is not None:
        st.session_state.gv_clicked = name


def network(payload: dict) -> None:
    """Draw a render.view payload; a click on a node re-centres the view on it."""
    _network(key="gv_view", data={"payload": payload, "assets": _asset_urls()}, on_click_change=_on_click)
