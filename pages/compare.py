"""Compare: attention over training, heads, layers, models, edits, and whether α matters.

Each section reads the session's trainer, calls ``gatviz`` (timeline, heads, compare, edits,
importance) and draws; only the chosen section computes. Heavier answers (ablation,
importance, three trained models) are kept per trainer and epoch in ``gv_cmp_cache``. Node and
class names are text: tables, ``st.text`` and the network view only, or ``ui.plain`` in markdown.
"""
import streamlit as st

import ui

# the title and a skeleton first: on a cold server the imports below take ~3 s
loaded = ui.boot.skeleton("cmp.title")

import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from ui.i18n import lang, t  # noqa: E402
from gatviz import compare, edits, heads, importance, render, timeline  # noqa: E402
from gatviz.attention import AttentionTable  # noqa: E402
loaded()   # the skeleton goes; the page draws

trainer, graph = ui.page("compare", "cmp.title")
ss = st.session_state
if ss.get("gv_shared"):   # ablation and explainers put hooks and masks on the model: not on a shared one
    trainer = ui.shared.own_trainer()
if not trainer.epoch:
    st.info(t("cmp.train.first"))
    st.stop()
if ss.gv_training:
    st.info(t("cmp.training"))
st.text(t("cmp.run", report=ui.words.graph_line(graph.report), model=trainer.config.model.upper(), epoch=trainer.epoch))
center = ui.center_picker(graph)
att = trainer.attention()
# The radio's values stay English (links and tests name them); the labels follow the language.
SECTIONS = dict(zip(ui.links.SECTIONS, ("cmp.sec.training", "cmp.sec.heads", "cmp.sec.layers", "cmp.sec.models",
                                        "cmp.sec.edit", "cmp.sec.matters")))
if ss.get("gv_cmp_section") not in SECTIONS:   # e.g. a link naming no section this page has
    ss.gv_cmp_section = next(iter(SECTIONS))
section = st.radio(t("page.compare"), list(SECTIONS), key="gv_cmp_section", horizontal=True,
                   label_visibility="collapsed", format_func=lambda s, lang=lang(): t(SECTIONS[s], lang))


def cached(name: str, compute, *key):
    """One answer per (trainer, epoch, name, key), kept for this tab."""
    store = ss.setdefault("gv_cmp_cache", {})
    full = (id(trainer), trainer.epoch, name, *key)
    if full not in store:
        if len(store) > 32:
            store.clear()
        store[full] = compute()
    return store[full]


def draw(table, layer: int, head, key: str, hops: int = 1, predictions=True, note=None, title=None,
         **options) -> None:
    """One panel of the network view, in the Explorer's edge encoding unless told otherwise."""
    options.setdefault("encoding", ss.gv_encoding)
    payload = render.view(graph, table, center, layer, [head], hops=hops, top_k=ss.gv_top_k,
                          layouts=ss.gv_layouts,
                          predictions=trainer.predictions().numpy() if predictions else None, **options)
    if note is not None:
        payload["note"] = note
    if title is not None:   # the panel shows something other than one head's alpha
        payload["panels"][0].update(title=title, entropy=None)
    ui.draw_view(payload, key=key)


def over_training() -> None:
    epochs = timeline.held_epochs(trainer)       # the snapshots, and the current epoch
    st.caption(t("cmp.snapshots", epochs=timeline.describe_epochs([s.epoch for s in trainer.snapshots])))
    c1, c2, c3 = st.columns([1, 1, 1])
    layer = ui.layer_select(att, c1)
    head = ui.head_select(att, layer, c2, allow=("mean",), key="gv_cmp_head")
    c3.toggle(t("cmp.play"), key="gv_cmp_play", help=t("cmp.play.help"))
    scrub(epochs, layer, head)
    st.download_button(t("cmp.gif"), lambda: gif_bytes(layer, head), file_name="gatviz-scrub.gif",
                       mime="image/gif", on_click="ignore", disabled=ss.gv_training or not trainer.snapshots,
                       help=t("cmp.gif.help"))


@st.fragment(run_every=0.8 if ss.get("gv_cmp_play") else None)
def scrub(epochs: list[int], layer: int, head) -> None:
    if ss.get("gv_cmp_epoch") not in epochs:
        ss.gv_cmp_epoch = epochs[-1]
    if ss.get("gv_cmp_play"):   # advance one snapshot per tick, stop at the end
        i = epochs.index(ss.gv_cmp_epoch)
        ss.gv_cmp_epoch = epochs[(i + 1) % len(epochs)]
    epoch = st.select_slider(t("cmp.epoch"), epochs, key="gv_cmp_epoch")
    table = timeline.at_epoch(trainer, epoch)
    row = next((r for r in trainer.history if r["epoch"] == epoch), None)
    if row:
        share = lambda v: "–" if v != v else f"{v:.0%}"   # noqa: E731  (no validation nodes: NaN)
        st.text(t("cmp.epoch.acc", epoch=epoch, train=share(row["train_acc"]), val=share(row["val_acc"]),
                  test=share(row["test_acc"])))
    draw(table, layer, head, key="gv_cmp_scrub", predictions=False)
    entropy = cached("entropy", lambda: timeline.entropy_over_epochs(trainer))
    frame = entropy[entropy["layer"] == layer].pivot(index="epoch", columns="head", values="median")
    st.caption(t("cmp.entropy", layer=layer + 1))
    ui.line_chart(frame.rename(columns=lambda h: t("head.n", head=h)), height=200, x_label=t("cmp.x.epoch"))
    history = pd.DataFrame(trainer.history).set_index("epoch")[["train_acc", "val_acc", "test_acc"]]
    st.caption(t("accuracy"))
    ui.line_chart(history.rename(columns=lambda c: t(f"cmp.split.{c[:-4]}")), height=180, x_label=t("cmp.x.epoch"))


def gif_bytes(layer: int, head) -> bytes:
    path = Path(tempfile.mkdtemp()) / "scrub.gif"
    timeline.scrub_gif(trainer, center, layer, head, path, top_k=ss.gv_top_k, layouts=ss.gv_layouts)
    return path.read_bytes()


def heads_section() -> None:
    layer = ui.layer_select(att, st)
    js, order = heads.similarity(att, layer)
    labels = [t("head.n", head=h) for h in order]
    st.subheader(t("cmp.alike"))
    st.caption(t("cmp.alike.help"))
    st.dataframe(pd.DataFrame(js[np.ix_(order, order)], index=labels, columns=labels)
                 .style.format("{:.4f}").background_gradient(cmap="Blues"))
    st.subheader(t("cmp.worth"))
    frame = cached("ablation", lambda: heads.ablation(trainer)).copy()
    frame = frame[frame["layer"].isna() | (frame["layer"] == layer)]
    frame["ablated"] = [t("cmp.ablated.none") if pd.isna(r.layer) else
                        t("cmp.ablated.all", layer=layer + 1) if r.head == "all" else t("head.n", head=r.head)
                        for r in frame.itertuples()]
    st.caption(t("cmp.worth.help"))
    columns = ["val_acc", "test_acc", "val_change", "test_change"]
    st.dataframe(frame[["ablated", *columns]], hide_index=True,
                 column_config={"ablated": st.column_config.TextColumn(t("cmp.col.ablated")),
                                **{c: st.column_config.NumberColumn(t(f"cmp.col.{c}"), format="%.3f")
                                   for c in columns}})


def layers_section() -> None:
    cols = st.columns(att.layers)
    choice = [cols[l].selectbox(t("cmp.layer.n", layer=l + 1), ["mean", *range(att.heads(l))],
                                key=f"gv_cmp_roll_{l}", format_func=lambda h, lang=lang(): ui.head_label(h, lang))
              for l in range(att.layers)]
    weights = compare.rollout(att, center, choice)
    sources = np.flatnonzero(weights)
    # arrows j -> centre, width = share of j's input in the centre (not graph edges)
    ei = torch.tensor(np.stack([sources, np.full(len(sources), center)]), dtype=torch.long)
    table = AttentionTable(ei, [torch.tensor(weights[sources], dtype=torch.float32).unsqueeze(1)], None,
                           graph.num_nodes)
    st.caption(t("cmp.rollout.help"))
    draw(table, 0, 0, key="gv_cmp_rollout", hops=min(att.layers, 2), encoding="absolute",
         node_weights=weights, title=t("cmp.rollout.title"),
         note=t("cmp.rollout.note", layers=att.layers, share=f"{weights[center]:.1%}"))
    top = pd.DataFrame({"name": [graph.names[j] for j in sources], "weight": weights[sources]})
    st.dataframe(top.sort_values("weight", ascending=False), hide_index=True, height=260,
                 column_config={"name": st.column_config.TextColumn(t("cmp.col.name")),
                                "weight": st.column_config.NumberColumn(t("cmp.col.weight"))})


def models_section() -> None:
    config = trainer.config.replace(device="cpu", epochs=trainer.epoch)
    st.caption(t("cmp.models.help", epochs=config.epochs))
    key = ("models", graph.name, config)
    if key not in ss.get("gv_cmp_models", {}):
        slot = st.empty()   # the button goes once pressed: the models it trained are drawn below
        if not slot.button(t("cmp.models.train"), disabled=ss.gv_training):
            return
        slot.empty()
        with st.spinner(t("cmp.models.training")):
            ss.gv_cmp_models = {key: compare.train_models(graph, config)}
    trained = ss.gv_cmp_models[key]
    frame = compare.histories(trained).pivot(index="epoch", columns="model", values="test_acc")
    st.caption(t("cmp.test.acc"))
    ui.line_chart(frame, height=200, x_label=t("cmp.x.epoch"))
    layer = ui.layer_select(att, st)
    tables = {m: trained[m].attention() for m in ("gat", "gatv2")}
    tau = compare.kendall(tables["gat"], tables["gatv2"], center, layer)
    st.text(t("cmp.kendall", tau="n/a" if tau is None else f"{tau:.3f}"))
    for col, (name, table) in zip(st.columns(3), [("gat", tables["gat"]), ("gatv2", tables["gatv2"]),
                                                   ("gcn", compare.gcn_weights(graph, att.layers))]):
        with col:
            st.caption(t(f"cmp.model.{name}"))
            gcn = name == "gcn"
            draw(table, layer, 0 if gcn else "mean", key=f"gv_cmp_model_{name}", predictions=False,
                 title=t("cmp.gcn.title") if gcn else None)


def edit_section() -> None:
    neighbours = sorted({graph.names[j] for j in graph.data.edge_index[0][graph.data.edge_index[1] == center].tolist()})
    c1, c2, c3 = st.columns([1, 2, 1], vertical_alignment="bottom")
    mode = c1.radio(t("cmp.edit"), ("remove", "add"), key="gv_cmp_edit_mode", horizontal=True,
                    format_func=lambda m, lang=lang(): t(f"cmp.edit.{m}", lang))
    options = neighbours if mode == "remove" else [n for n in graph.names if n not in neighbours and n != graph.names[center]]
    other = c2.selectbox(t("cmp.edit.from"), options, key="gv_cmp_edit_other")
    layer = ui.layer_select(att, c3)
    if other is None:
        return
    pair = [(graph.index(other), center)]
    result = edits.edit(trainer, center, drop=pair if mode == "remove" else (), add=pair if mode == "add" else ())
    classes = graph.class_names
    st.text(t("cmp.edit.prediction", before=classes[result.pred_before], after=classes[result.pred_after]))
    labels = {c: st.column_config.Column(t(f"cmp.col.{c}")) for c in ("class", "name", "before", "after", "change")}
    st.dataframe(pd.DataFrame({"class": classes, "before": result.probs_before, "after": result.probs_after,
                               "change": result.probs_after - result.probs_before}), hide_index=True,
                 column_config=labels)
    for col, (label, table) in zip(st.columns(2), (("before", result.before), ("after", result.after))):
        with col:
            st.caption(t(f"cmp.alpha.{label}", layer=layer + 1))
            draw(table, layer, "mean", key=f"gv_cmp_edit_{label}")
    st.dataframe(result.alpha(layer, "mean", graph.names).drop(columns=["source"]), hide_index=True,
                 column_config=labels)


def matters_section() -> None:
    layer = ui.layer_select(att, st)
    out = cached("importance", lambda: importance.edge_importance(trainer, center, layer), center, layer)
    cls = graph.class_names[out["predicted"]]
    st.text(t("cmp.importance", cls=cls, p=f"{out['probability']:.3f}", epochs=out["epochs"],
              method=out["gradient_method"]))
    said, agrees = ui.words.importance_verdict(out["correlation"], len(out["table"]))
    (st.success if agrees else st.warning)(ui.plain(said))
    corr = pd.DataFrame(out["correlation"]).T.rename_axis("against").reset_index()
    corr["against"] = [t(f"cmp.col.{k}") for k in corr["against"]]
    st.caption(t("cmp.corr"))
    st.dataframe(corr, hide_index=True, column_config={c: st.column_config.Column(t(f"cmp.col.{c}"))
                                                       for c in ("against", "spearman", "kendall")})
    st.dataframe(out["table"].drop(columns=["source"]).sort_values("alpha", ascending=False), hide_index=True,
                 column_config={"alpha": st.column_config.NumberColumn(t("cmp.col.alpha", layer=layer + 1),
                                                                       format="%.4f"),
                                **{c: st.column_config.Column(t(f"cmp.col.{c}"))
                                   for c in ("name", "gnnexplainer", "gradient", "leave_one_out")}})


try:
    {"Over training": over_training, "Heads": heads_section, "Layers": layers_section, "Models": models_section,
     "Edit an edge": edit_section, "Does α matter?": matters_section}[section]()
except ui.USER_ERRORS as e:   # one line in place; the model and settings stay
    st.error(ui.plain(e))

ui.links.sync_url()
ui.boot.warm()   # (the first screen is drawn: what it did not need is imported meanwhile)
