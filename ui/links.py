"""Links that rebuild a view: the URL's query parameters hold everything on screen.

A link carries the run's settings (``RunConfig.to_query``: only what differs from the
defaults, mini-batch ``batch_size`` and ``fanout`` included), how long it was trained (``trained``) and the view: ``node``, ``layer``
(from 1), ``head``, ``hops``, ``top_k``, ``encoding``, the Compare page's ``section`` and
snapshot ``epoch``, plus ``presenter`` and ``lang``.
The page is the URL's path. Opening a link in a fresh tab applies it once: the sidebar
takes the settings, the run is trained to ``trained`` epochs (seeded, so on CPU the same
α bit for bit) and the view shows the same node, layer and head. A parameter that is
unknown or invalid is named in one line; the rest still apply. Afterwards the URL follows
what the tab shows (:func:`sync_url`).
"""
from __future__ import annotations

import uuid
from dataclasses import fields
from urllib.parse import urlencode

import streamlit as st
import torch

from gatviz import GatvizError, RunConfig, graphs, limits
from gatviz.config import recommended

from .controls import known_name
from .state import SIDEBAR, remember
from . import shared
from .i18n import t
from .text import plain

# view parameter -> (session key, parse, to text)
VIEW = {"node": "gv_center", "layer": "gv_layer", "head": "gv_head", "hops": "gv_hops",
        "top_k": "gv_top_k", "encoding": "gv_encoding",
        # the Compare page: its section and the snapshot epoch of its scrubber
        "section": "gv_cmp_section", "epoch": "gv_cmp_epoch"}
OTHER = ("trained", "presenter", "lang")
# the Compare page's sections, as links name them (the page labels them in the tab's language)
SECTIONS = ("Over training", "Heads", "Layers", "Models", "Edit an edge", "Does α matter?")
MODELS = ("gat", "gatv2")   # the models whose attention the pages show (GCN: on Compare, beside them)
# RunConfig fields the sidebar does not set; a link keeps them only as far as the sidebar can
NOT_IN_SIDEBAR = {"snapshot_every", "directed"}


def _link_setting(name: str, params: dict):
    """One RunConfig field from the link, checked alone; a fan-out is checked against the
    link's own layers (one number per layer), when those are valid."""
    given = {name: params[name]}
    if name == "fanout" and "layers" in params:
        try:
            RunConfig.from_query({"layers": params["layers"]})
            given["layers"] = params["layers"]
        except GatvizError:
            pass   # the layers are named on their own
    return getattr(RunConfig.from_query(given), name)


def _view_value(name: str, raw: str):
    if name == "node":
        return raw
    if name == "section":
        if raw not in SECTIONS:
            raise GatvizError(f"section must be one of {', '.join(SECTIONS)}, not {raw!r}")
        return raw
    if name == "epoch":
        return limits.check("epochs", int(raw), label="epoch")
    if name == "layer":
        return limits.check("layers", int(raw), label="layer") - 1
    if name == "head":
        return raw if raw in ("all", "mean") else int(raw)
    if name == "encoding":
        if raw not in ("uniform", "absolute"):
            raise ValueError
        return raw
    if name == "hops":
        return int(limits.check("hops", int(raw)))
    return int(limits.check("top_k", int(raw)))


def apply_once() -> None:
    """Apply the URL's parameters to this tab's state, once per tab (before the sidebar)."""
    ss = st.session_state
    if ss.get("gv_link_applied"):
        return
    ss.gv_link_applied = True
    params = {k: st.query_params[k] for k in st.query_params}
    if not params:
        return
    known = {f.name for f in fields(RunConfig)}
    problems = [f"unknown parameter {k!r}" for k in params if k not in known | set(VIEW) | set(OTHER)]
    for name in sorted(known & set(params)):
        try:
            value = _link_setting(name, params)
        except GatvizError as e:
            problems.append(str(e))
            continue
        if name == "dataset":
            if value == "upload":
                problems.append("an uploaded graph cannot be opened from a link: open its saved run instead")
                continue
            try:
                value = graphs.builtin_name(value)
            except GatvizError as e:
                problems.append(str(e))
                continue
            ss.gv_source = "Built-in"
            ss.gv_dataset = value
            # what the sidebar would apply on choosing it, for every setting the link leaves out
            settings = recommended(value)
            for field, default in settings.items():
                if field not in params:
                    ss[f"gv_{field}"] = default
            ss.gv_recommended_for = value if settings else None
        elif name == "model" and value not in MODELS:
            problems.append(f"model must be {' or '.join(MODELS)} (a {value.upper()} has no attention to show), "
                            f"not {value!r}")
        elif name == "device":
            ss.gv_device = value if value != "auto" and (value == "cpu" or torch.cuda.is_available()) else "cpu"
        elif f"gv_{name}" in SIDEBAR:
            ss[f"gv_{name}"] = value
    for name, key in VIEW.items():
        if name in params:
            try:
                ss[key] = _view_value(name, params[name])
            except (ValueError, GatvizError) as e:
                problems.append(f"{name} must be a valid {name}, not {params[name]!r}"
                                if isinstance(e, ValueError) else str(e))
    if "presenter" in params:
        ss.gv_presenter = params["presenter"] in ("1", "true")
    if "lang" in params:
        ss.gv_lang = params["lang"] if params["lang"] in ("en", "zh") else "en"
        if params["lang"] not in ("en", "zh"):
            problems.append(f"lang must be en or zh, not {params['lang']!r}")
    if "trained" in params:
        try:
            ss.gv_link_trained = int(limits.check("epochs", int(params["trained"]), label="trained"))
        except (ValueError, GatvizError):
            problems.append(f"trained must be a number of epochs, not {params['trained']!r}")
    ss.gv_link_checks = {name for name in ("node", "layer", "head") if name in params}   # once the model exists
    remember()
    if problems:
        ss.gv_link_problems = "; ".join(problems)


def _model_problems(ss) -> list[str]:
    """A link's node, layer or head that the graph and model it built do not have (then the
    defaults stay)."""
    config, problems = ss.gv_trainer.config, []
    if "node" in ss.gv_link_checks and ss.get("gv_graph") is not None and ss.get("gv_center") is not None:
        if known_name(ss.gv_graph, ss.gv_center) is None:
            problems.append(f"node {ss.gv_center!r} is not in the graph")
            ss.gv_center = None   # the graph's default centre
    if "layer" in ss.gv_link_checks and not 0 <= ss.gv_layer < config.layers:
        problems.append(f"layer must be from 1 to {config.layers}, not {ss.gv_layer + 1}")
        ss.gv_layer = 0
    heads = config.out_heads if ss.gv_layer == config.layers - 1 else config.heads
    head = ss.gv_head
    if "head" in ss.gv_link_checks and head not in ("all", "mean") and not 0 <= head < heads:
        problems.append(f"head must be from 0 to {heads - 1} in layer {ss.gv_layer + 1}, not {head}")
        ss.gv_head = "all"
    return problems


def train_requested() -> None:
    """Train the applied run to the link's ``trained`` epochs (after the sidebar built it)."""
    ss = st.session_state
    epochs = ss.pop("gv_link_trained", None)
    problems = [p for p in [ss.pop("gv_link_problems", None)] if p]
    if ss.get("gv_link_checks") and ss.get("gv_trainer") is not None:
        problems += _model_problems(ss)
        ss.gv_link_checks = None
    if problems:
        st.warning(plain(t("link.problems", problems="; ".join(problems))))
    trainer, applied = ss.get("gv_trainer"), ss.get("gv_applied")
    if not epochs or trainer is None or trainer.epoch >= epochs:
        return
    with st.spinner(t("link.training", epochs=epochs)):
        if applied.key[0] == "builtin":   # defined by its settings: trained once per server, shared
            ss.gv_trainer = shared.shared_run(trainer.config, applied.key, ss.gv_graph, epochs)
            ss.gv_shared = True
            return
        if trainer.config.epochs < epochs:
            trainer.config = trainer.config.replace(epochs=epochs)
        with shared.slot(ss.setdefault("gv_sid", uuid.uuid4().hex)):
            trainer.step(epochs - trainer.epoch)


def query() -> dict[str, str]:
    """This tab's view as query parameters (None when the graph is an upload)."""
    ss = st.session_state
    applied, trainer = ss.get("gv_applied"), ss.get("gv_trainer")
    if applied is None or applied.config.dataset == "upload":
        return {}
    config = applied.config
    params = {k: v for k, v in config.to_query().items() if k not in NOT_IN_SIDEBAR}
    if trainer is not None and trainer.epoch:
        params["trained"] = str(trainer.epoch)
    for name, key in VIEW.items():
        if key in ss:
            value = ss[key]
            params[name] = str(value + 1 if name == "layer" else value)
    if ss.get("gv_presenter"):
        params["presenter"] = "1"
    if ss.get("gv_lang", "en") != "en":
        params["lang"] = ss.gv_lang
    return params


def sync_url() -> None:
    """Let the address bar follow the view (not while training: it would change every tick)."""
    ss = st.session_state
    if ss.get("gv_training"):
        return
    params = query()
    if params and dict(st.query_params) != params:
        st.query_params.from_dict(params)


def share() -> None:
    """An expander with the link to this view, drawn only while it is open: Streamlit's code
    box loads a syntax highlighter of ~1.5 MB, ~0.26 s of the browser's CPU on every page
    load (of ~2.3 s for the Explorer's) where the link would be drawn folded."""
    box = st.expander(t("link"), key="gv_link_open", on_change="rerun")
    if box.open:
        with box:
            share_box()


def share_box() -> None:
    """The link to this view, with Streamlit's copy button; or why an upload has none."""
    ss = st.session_state
    applied = ss.get("gv_applied")
    if applied is None:
        return
    if applied.config.dataset == "upload":
        st.caption(t("link.upload"))
        return
    base = str(st.context.url or "").split("?")[0]
    st.code(f"{base}?{urlencode(query())}", language=None, wrap_lines=True)
