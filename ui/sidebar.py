"""The sidebar: graph and model settings (one RunConfig), Train / Stop / Reset.

Train resumes where Stop left off. Once the epoch budget is reached, Train adds
the sidebar's *Epochs* again. Changing *Epochs* never discards the model; any
other setting does, and asks first (:func:`pending_banner`).
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import unquote

import streamlit as st
import torch

from gatviz import GatvizError, RunConfig, graphs, limits, render
from gatviz.config import recommended
from gatviz.parse import parse_upload
from gatviz.training import Trainer

from .state import SIDEBAR, Applied, Upload, Wanted, remember, sidebar_values
from . import batching, links, live, release, reruns, runfiles, words
from .shared import own_trainer
from .i18n import lang, t
from .text import USER_ERRORS, plain

DATASETS = ("karate", "cora", "citeseer", "sbm", "dictionary")   # their names: i18n "ds.<name>"
PER_UPDATE = ("auto", 1, 2, 5, 20)
MODEL_FIELDS = ("model", "layers", "heads", "hidden", "out_heads", "dropout", "lr", "weight_decay", "epochs",
                "seed", "batch_size", "fanout")
_D = RunConfig()
SEEDED_GRAPHS = ("upload", "sbm", "dictionary")   # graphs the seed draws (split, labels, features, edges)
# the sidebar's keys that choose the graph rather than the model
GRAPH_KEYS = ("gv_source", "gv_dataset", "gv_directed", "gv_sbm_nodes", "gv_sbm_blocks", "gv_sbm_p_in",
              "gv_sbm_p_out", "gv_dict_size")


# ---------------------------------------------------------------- graphs (read-only, cached)
@st.cache_resource(max_entries=8, show_spinner="Loading the graph…")
def _builtin(name: str, settings: tuple, seed: int) -> graphs.Graph | str:
    """A built-in graph, or the one-line reason it could not be made."""
    try:
        return graphs.load(name, RunConfig(dataset=name, seed=seed, **dict(settings)))
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


def _graph_settings(name: str, config: RunConfig) -> tuple:
    """The RunConfig fields a built-in graph depends on (its cache key)."""
    fields = {"sbm": ("sbm_nodes", "sbm_blocks", "sbm_p_in", "sbm_p_out"),
              "dictionary": ("dict_size",)}.get(name, ())
    return tuple((f, getattr(config, f)) for f in fields if hasattr(config, f))


def _edges_widget(ss):
    return ss.get(f"gv_edges_{ss.get('gv_upload_nonce', 0)}")


def _upload_from_widgets(ss) -> Upload | None:
    """The files in the uploaders now (digest computed once per upload), else None. A node
    file chosen while the edge uploader is empty (another page's starts empty) goes with the
    edge file uploaded earlier."""
    edges, nodes = _edges_widget(ss), ss.get(f"gv_nodes_{ss.get('gv_upload_nonce', 0)}")
    earlier = ss.get("gv_upload")
    if edges is None and (nodes is None or earlier is None):
        return None
    if edges is None:
        edges_name, edges_bytes, edges_id = earlier.edges_name, earlier.edges, earlier.digest.split("+")[0]
    else:
        edges_name, edges_bytes, edges_id = unquote(edges.name), edges.getvalue(), edges.file_id
    ids = (edges_id,) + ((nodes.file_id,) if nodes is not None else ())
    memo = ss.setdefault("gv_digests", {})
    if ids not in memo:
        memo.clear()
        memo[ids] = "+".join(hashlib.sha256(b).hexdigest()
                             for b in [edges_bytes] + ([nodes.getvalue()] if nodes is not None else []))
    return Upload(memo[ids], edges_name, edges_bytes, unquote(nodes.name) if nodes is not None else None,
                  nodes.getvalue() if nodes is not None else None)


def _wanted_graph(config: RunConfig, ss) -> tuple[tuple | None, graphs.Graph | str | None, Upload | None]:
    """(key, graph or error text, upload) for what the sidebar selects; key None without a file."""
    if ss.gv_source == "Built-in":
        name = ss.gv_dataset
        settings = _graph_settings(name, config)
        seed = config.seed if settings else 0
        return ("builtin", name, settings, seed), _builtin(name, settings, seed), None
    if ss.gv_source == "Run":
        opened = ss.get("gv_run")
        return (("run", opened.digest), opened.trainer.graph, None) if opened else (None, None, None)
    upload = _upload_from_widgets(ss) or ss.gv_upload   # another page's uploader starts empty
    if upload is None:
        return None, None, None
    key = ("upload", upload.digest, ss.gv_directed, config.seed)
    graph = _uploaded(upload.digest, ss.gv_directed, config.seed, Path(upload.edges_name).stem or "upload",
                      upload.source, upload.edges, upload.nodes)
    return key, graph, upload


# ---------------------------------------------------------------- applying settings
def _make_current(trainer: Trainer, applied: Applied, graph: graphs.Graph) -> None:
    """Show ``trainer`` (on ``graph``, built from ``applied``); a new graph gets new layouts."""
    ss = st.session_state
    if ss.gv_applied is None or ss.gv_applied.key != applied.key:
        ss.gv_graph, ss.gv_layouts = graph, render.Layouts(graph, seed=0)
        if ss.gv_applied is not None:   # a new graph starts at its default centre (a link's first stays)
            ss.pop("gv_center", None)
            ss.get("gv_keep", {}).pop("gv_center", None)
    ss.gv_trainer, ss.gv_shared, ss.gv_applied = trainer, False, applied
    live.stop()   # the previous model's training thread, if any
    ss.gv_training, ss.gv_pending = False, None


def _apply(wanted: Wanted) -> None:
    """Make (graph, config) current with a fresh, untrained model."""
    try:
        trainer = Trainer(wanted.graph, wanted.config)
    except USER_ERRORS as e:
        st.session_state.gv_message = t("model.failed", error=e)
        return
    _make_current(trainer, Applied(wanted.key, wanted.config, wanted.values, wanted.upload), wanted.graph)


def _sync(wanted: Wanted) -> None:
    """Apply the sidebar's settings, or ask first when that would discard a trained model."""
    ss = st.session_state
    ss.gv_wanted = wanted
    applied = ss.gv_applied
    if wanted.key[0] == "run" and (applied is None or applied.key != wanted.key):
        # opening a run shows its trained model as it is: nothing to retrain, nothing to ask
        opened = ss.gv_run
        _make_current(opened.trainer, Applied(wanted.key, wanted.config, wanted.values), opened.trainer.graph)
        return
    if applied is None:
        _apply(wanted)
        return
    if wanted.key == applied.key and wanted.config.replace(epochs=applied.config.epochs) == applied.config:
        if wanted.config.epochs != applied.config.epochs:   # only the budget changed: the model stays
            own_trainer().config = ss.gv_trainer.config.replace(epochs=wanted.config.epochs)
            ss.gv_applied = Applied(applied.key, wanted.config, wanted.values, applied.upload)
        ss.gv_pending = ss.gv_dismissed = None
    elif ss.gv_trainer.epoch == 0:
        _apply(wanted)
    elif ss.gv_dismissed != (wanted.key, wanted.config):   # "Keep current model" on exactly these
        ss.gv_pending = wanted


def changes(pending: Wanted) -> str:
    """What differs between the applied settings and ``pending``, in words."""
    applied = st.session_state.gv_applied
    words = [t("the.graph")] if pending.key != applied.key else []
    words += [f"{f} {getattr(applied.config, f)} → {getattr(pending.config, f)}" for f in applied.config.to_dict()
              if f != "epochs" and getattr(applied.config, f) != getattr(pending.config, f)
              and not f.startswith(("sbm_", "dict_"))]
    return ", ".join(words) or t("the.graph")


def _on_discard() -> None:
    if st.session_state.gv_pending:
        _apply(st.session_state.gv_pending)


def _on_keep() -> None:
    ss = st.session_state
    if ss.gv_pending:
        ss.gv_dismissed = (ss.gv_pending.key, ss.gv_pending.config)
    ss.gv_pending = None
    for k, v in ss.gv_applied.values.items():   # the sidebar shows the model's settings again
        ss[k] = v
    if ss.gv_upload != ss.gv_applied.upload:
        # an uploader cannot be set, only renewed: the new one starts empty, and the
        # sidebar describes the file the model was trained on again
        ss.gv_upload = ss.gv_applied.upload
        ss.gv_upload_nonce = ss.get("gv_upload_nonce", 0) + 1


def _range(name: str, lo=None, hi=None) -> tuple:
    """(min, max) of a setting for a number input, from gatviz.limits (narrowed where asked)."""
    low, high = limits.INT_RANGES.get(name) or limits.FLOAT_RANGES[name]
    return (low if lo is None else max(low, lo)), (high if hi is None else min(high, hi))


def _on_dataset() -> None:
    """Settings a built-in task needs (config.recommended) are applied when it is chosen, and
    the previous task's are put back to the defaults."""
    ss = st.session_state
    previous, name = ss.get("gv_recommended_for"), ss.gv_dataset
    for field in recommended(previous) if previous else {}:
        ss[f"gv_{field}"] = getattr(_D, field)
    settings = recommended(name)
    for field, value in settings.items():
        ss[f"gv_{field}"] = value
    ss.gv_recommended_for = name if settings else None
    ss.gv_recommended = (", ".join(f"{k.replace('_', ' ')} {v}" for k, v in settings.items())
                         if settings else None)


def _on_open_run(key: str) -> None:
    """Load the chosen run zip; the sidebar then shows the run's settings."""
    ss = st.session_state
    file = ss.get(key)
    ss.gv_run_error = None
    if file is None:
        return
    try:
        opened = runfiles.open_zip(file.getvalue(), file.name)
    except USER_ERRORS as e:
        ss.gv_run_error = str(e)
        return
    if opened.trainer.config.model not in links.MODELS:
        ss.gv_run_error = t("run.no.attention", name=file.name, model=opened.trainer.config.model.upper())
        return
    ss.gv_run = opened
    config = opened.trainer.config
    for field in MODEL_FIELDS:
        ss[f"gv_{field}"] = getattr(config, field)
    ss.gv_device = "cpu"


def _on_train() -> None:
    ss = st.session_state
    if ss.get("gv_wanted") is None or ss.gv_wanted.values != sidebar_values():
        # Settings changed in the same interaction (a busy server takes a new value and the
        # click in one run): the whole page's run applies them first, then trains (train_asked)
        ss.gv_train_asked = True
        st.rerun()
    train_now()
    keys = ss.get("gv_train_keys")
    if keys and not ss.get("gv_pending"):
        # The page's fragments switch to the run and start its timers; a run that ends within a
        # moment (karate's 200 epochs: ~0.5 s) is waited for by the first of them, which then
        # draw it done (live.settle_fragments). Not waited for here: the rerun's own 20-40 ms
        # would come after the run's end. The whole page when its banner has news (settings
        # waiting to be applied; an error: live.settle_fragments).
        reruns.retarget(keys)   # (and what else the run carries; a full run goes on: below)
    st.rerun()   # the whole page; a run that ends within a moment is waited for and drawn done (live.settle)


def train_now() -> None:
    """Train the tab's model on, in the background; a budget reached grows by the sidebar's epochs."""
    ss = st.session_state
    trainer = own_trainer()   # a shared run is copied before it trains on
    if trainer.remaining == 0:   # budget reached: Train adds the sidebar's epochs again
        most = limits.INT_RANGES["epochs"][1]
        if trainer.epoch >= most:
            ss.gv_message = t("epochs.limit", epochs=f"{trainer.epoch:,}")
            st.rerun()   # the page says it (the button's fragment alone by default)
        trainer.config = trainer.config.replace(epochs=min(trainer.epoch + ss.gv_applied.config.epochs, most))
    ss.gv_training = True
    live.start()   # trains from now on, while the page draws


def train_asked() -> None:
    """The page's run after a Train click that came with new settings, once they are applied:
    the model they describe trains, and a run that ends within a moment is waited for, as in
    the click's own run (ui.live.settle)."""
    ss = st.session_state
    if ss.pop("gv_train_asked", False) and ss.gv_trainer is not None and not ss.gv_training:
        train_now()
        live.settle()


def _on_stop() -> None:
    live.stop()
    st.session_state.gv_training = False
    st.rerun()   # the whole page (the button's fragment alone by default)


def _on_reset() -> None:
    ss = st.session_state
    applied = ss.gv_applied
    _apply(ss.gv_wanted or Wanted(applied.key, ss.gv_graph, applied.config, applied.values, applied.upload))
    st.rerun()   # the whole page (the button's fragment alone by default)


def pending_banner() -> None:
    """Ask before a settings change throws the trained model away."""
    ss = st.session_state
    box = st.container()   # always there, so the page below keeps its place in the tree
    if ss.gv_message:
        box.error(plain(ss.gv_message))
        ss.gv_message = None
    # what the sidebar refused (a file, a setting) is said here too: on a projector the
    # sidebar's message may sit below the fold
    for kind, *args in ss.get("gv_report_notes") or ():
        if kind == "error":
            box.error(t("not.applied.main", error=args[0]))
    if ss.gv_pending and ss.gv_trainer is not None:
        if ss.gv_training:   # (drawn once; the epoch count would stand still while it trains on)
            box.warning(t("pending.training", changes=changes(ss.gv_pending)))
        else:
            box.warning(t("pending", changes=changes(ss.gv_pending), epochs=ss.gv_trainer.epoch))
        c1, c2, _ = box.columns([2, 1.4, 3])
        c1.button(t("discard"), on_click=_on_discard, type="primary")
        c2.button(t("keep"), on_click=_on_keep)


# ---------------------------------------------------------------- the sidebar itself
# The settings are applied before the page draws anything (the page shows the model they
# describe); the sidebar's widgets are drawn afterwards, where the page says (ui.frame.page):
# the Explorer draws them last, so a run's "done" and the view are not queued behind the
# sidebar's ~55 elements. A widget's value is in session state before the widget is drawn.
def apply_settings() -> None:
    """Make the sidebar's settings current (a new model, or a question first); what the
    sidebar says about the graph is kept for :func:`sidebar` to draw."""
    ss = st.session_state
    if ss.gv_device not in _devices():
        ss.gv_device = "cpu"
    if ss.gv_per_update not in PER_UPDATE:
        ss.gv_per_update = "auto"
    ss.gv_report_notes = _read_graph(ss)
    release.watch(ss.gv_trainer)   # a closed tab's trainer is released (ui/release.py)


def _devices() -> list[str]:
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def sidebar() -> None:
    """Train / Stop / Reset first (visible without scrolling on a projector), then settings
    (already applied by :func:`apply_settings`)."""
    ss = st.session_state
    with st.sidebar:
        buttons = st.container()
        st.header(t("graph"))
        st.radio(t("source"), ("Built-in", "Upload", "Run"), key="gv_source", horizontal=True,
                 format_func={"Built-in": t("source.builtin"), "Upload": t("source.upload"),
                              "Run": t("source.run")}.get)
        if ss.gv_source == "Built-in":
            st.selectbox(t("dataset"), [d for d in DATASETS if d in graphs.BUILTINS], key="gv_dataset",
                         format_func=lambda d, lang=lang(): t(f"ds.{d}", lang), on_change=_on_dataset)
            if ss.get("gv_recommended"):
                st.caption(t("recommended", settings=ss.gv_recommended))
            if ss.gv_dataset == "dictionary":
                st.number_input(t("dict.size"), *_range("dict_size"), key="gv_dict_size", help=t("dict.size.help"))
            if ss.gv_dataset == "sbm":
                c1, c2 = st.columns(2)
                c1.number_input(t("sbm.nodes"), *_range("sbm_nodes", hi=20_000), step=50, key="gv_sbm_nodes")
                c2.number_input(t("sbm.blocks"), *_range("sbm_blocks"), key="gv_sbm_blocks")
                c1.number_input("p_in", 0.0, 1.0, step=0.01, format="%.3f", key="gv_sbm_p_in")
                c2.number_input("p_out", 0.0, 1.0, step=0.001, format="%.4f", key="gv_sbm_p_out")
        elif ss.gv_source == "Run":
            key = f"gv_runzip_{ss.get('gv_upload_nonce', 0)}"
            st.file_uploader(t("open.run"), type=["zip"], key=key, help=t("open.run.help"),
                             on_change=_on_open_run, args=(key,))
            if ss.get("gv_run_error"):
                st.error(plain(ss.gv_run_error))
            elif ss.get("gv_run"):
                st.caption(t("opened.run", name=plain(ss.gv_run.name), epochs=ss.gv_run.trainer.epoch))
        else:
            nonce = ss.get("gv_upload_nonce", 0)
            st.file_uploader(t("edge.file"), key=f"gv_edges_{nonce}", help=t("edge.file.help"))
            st.file_uploader(t("node.file"), key=f"gv_nodes_{nonce}", help=t("node.file.help"))
            st.checkbox(t("directed"), key="gv_directed")
        _draw_notes(ss.get("gv_report_notes", ()))

        st.header(t("model"))
        st.radio(t("model"), ("gat", "gatv2"), key="gv_model", horizontal=True,
                 format_func={"gat": "GAT", "gatv2": "GATv2"}.get)
        c1, c2 = st.columns(2)
        c1.number_input(t("layers"), *_range("layers"), key="gv_layers")
        c2.number_input(t("heads"), *_range("heads"), key="gv_heads", help=t("heads.help"))
        c1.number_input(t("hidden"), *_range("hidden"), key="gv_hidden", help=t("hidden.help"))
        c2.number_input(t("out.heads"), *_range("out_heads"), key="gv_out_heads", help=t("out.heads.help"))
        c1.number_input(t("dropout"), *_range("dropout"), step=0.05, format="%.2f", key="gv_dropout")
        c2.number_input(t("lr"), *_range("lr", lo=0.0001), step=0.001, format="%.4f", key="gv_lr", help=t("lr.help"))
        c1.number_input(t("weight.decay"), *_range("weight_decay"), step=0.0005, format="%.4f", key="gv_weight_decay")
        c2.number_input(t("epochs"), *_range("epochs"), step=10, key="gv_epochs")
        c1.number_input(t("seed"), *_range("seed"), key="gv_seed")
        c2.selectbox(t("device"), _devices(), key="gv_device", format_func={"cpu": "CPU", "cuda": "GPU"}.get)
        c1, c2 = st.columns(2)
        c1.selectbox(t("per.update"), PER_UPDATE, key="gv_per_update",
                     format_func=lambda v, lang=lang(): t("per.update.auto", lang) if v == "auto" else f"{v}",
                     help=t("per.update.help"))
        batching.controls()
        if ss.gv_trainer is not None:   # how the current model trains
            st.caption(batching.mode_text(ss.gv_trainer))
        with buttons:   # (first in the sidebar, drawn once the settings are)
            _button_row()
    remember(*SIDEBAR)


def _draw_notes(notes) -> None:
    """What :func:`apply_settings` found about the graph: ("error" | "caption" | "info" |
    "text", text) or ("lines", title, lines, expanded) for the report's folded details."""
    for kind, *args in notes:
        if kind == "lines":
            title, lines, expanded = args
            with st.expander(title, expanded=expanded):
                st.text("\n".join(lines))   # (one element: one message and render per run, not one a line)
        else:
            getattr(st, kind)(*args)


def _read_graph(ss) -> list[tuple]:
    """Apply the settings the sidebar describes; the notes the sidebar shows about them."""
    notes = []
    config = _config(ss, notes)
    if config is None:
        ss.gv_wanted = None
        return notes
    try:
        key, graph, upload = _wanted_graph(config, ss)
    except USER_ERRORS as e:   # e.g. out of memory: not cached, the next run tries again
        key, graph, upload = None, t("graph.failed", error=e), None
    if isinstance(graph, str):
        notes.append(("error", plain(graph)))
        if ss.gv_graph is not None:   # say in place what is still on screen
            notes.append(("caption", t("not.applied", source=plain(words.short_source(ss.gv_graph.report)))))
        notes += _on_current_graph(config, ss)
    elif graph is None:
        notes.append(("info", t("choose.run") if ss.gv_source == "Run" else t("choose.file")))
        notes += _on_current_graph(config, ss)
    else:
        if upload is not None:
            ss.gv_upload = upload
            if _edges_widget(ss) is None:
                notes.append(("caption", t("earlier.file")))
        lines = words.report_lines(graph.report)
        notes += [("text", lines[0]), ("lines", t("what.read"), lines[1:], ss.gv_source == "Upload")]
        _sync(Wanted(key, graph, config, sidebar_values(), upload))
    return notes


def _on_current_graph(config: RunConfig, ss) -> list[tuple]:
    """The chosen graph cannot be shown (unreadable, or no file yet): the sidebar's model
    settings apply to the graph still on screen, as they would to any other. Its notes."""
    applied = ss.gv_applied
    if applied is None or ss.gv_graph is None:
        ss.gv_wanted = None
        return []
    # only what the sidebar sets for the model changes (a run's other fields, e.g. snapshot_every, stay)
    fields = [*MODEL_FIELDS, "device"]
    notes = []
    if applied.config.dataset in SEEDED_GRAPHS and config.seed != applied.config.seed:
        # the seed drew this graph too (its split, labels or features): it needs the graph rebuilt
        fields.remove("seed")
        notes.append(("caption", t("seed.kept", seed=applied.config.seed)))
    config = applied.config.replace(**{f: getattr(config, f) for f in fields})
    values = {**applied.values, **{k: ss[k] for k in SIDEBAR if k not in GRAPH_KEYS}}
    _sync(Wanted(applied.key, ss.gv_graph, config, values, applied.upload))
    return notes


BUTTONS = "gv_buttons"   # the key of Train / Stop / Reset's fragment (st.rerun(key))


@st.fragment(key=BUTTONS)
def _button_row() -> None:
    """Train / Stop / Reset. A fragment: a Train click on a page that names its fragments
    (``gv_train_keys``: the Explorer) reruns those and this row alone; otherwise, and for
    Stop and Reset, each callback reruns the whole page."""
    ss = st.session_state
    training = ss.gv_training
    c1, c2, c3 = st.columns(3)
    c1.button(t("train"), on_click=_on_train, disabled=training or ss.gv_trainer is None, type="primary",
              help=t("train.help"), width="stretch")
    c2.button(t("stop"), on_click=_on_stop, disabled=not training, width="stretch")
    c3.button(t("reset"), on_click=_on_reset, disabled=ss.gv_trainer is None, width="stretch",
              help=t("reset.help"))


def _config(ss, notes: list) -> RunConfig | None:
    """The one RunConfig the sidebar describes, or None after showing why it is invalid."""
    dataset = ss.gv_dataset if ss.gv_source == "Built-in" else "upload"
    if ss.gv_source == "Run" and ss.get("gv_run") is not None:   # the run's graph, the sidebar's model
        model = {f: type(getattr(_D, f))(ss[f"gv_{f}"]) for f in MODEL_FIELDS}
        try:
            return ss.gv_run.trainer.config.replace(**model, device=ss.gv_device)
        except GatvizError as e:
            notes.append(("error", plain(e)))
            return None
    # settings of a hidden widget (SBM sizes, "directed") do not count
    graph = (dict(sbm_nodes=int(ss.gv_sbm_nodes), sbm_blocks=int(ss.gv_sbm_blocks),
                  sbm_p_in=float(ss.gv_sbm_p_in), sbm_p_out=float(ss.gv_sbm_p_out)) if dataset == "sbm" else
             dict(dict_size=int(ss.gv_dict_size)) if dataset == "dictionary" else {})
    try:
        limits.parse_fanout(ss.gv_fanout, int(ss.gv_layers))   # its own message for an empty field
        return RunConfig(dataset=dataset, model=ss.gv_model, layers=int(ss.gv_layers), heads=int(ss.gv_heads),
                         hidden=int(ss.gv_hidden), out_heads=int(ss.gv_out_heads), dropout=float(ss.gv_dropout),
                         lr=float(ss.gv_lr), weight_decay=float(ss.gv_weight_decay), epochs=int(ss.gv_epochs),
                         seed=int(ss.gv_seed), device=ss.gv_device, batch_size=int(ss.gv_batch_size),
                         fanout=str(ss.gv_fanout).strip(),
                         directed=dataset == "upload" and bool(ss.gv_directed), **graph)
    except GatvizError as e:
        notes.append(("error", plain(e)))
        return None
