"""Compare: attention over training, heads, layers, models, edits, and whether α matters.

Each section reads the session's trainer, calls ``gatviz`` (timeline, heads, compare, edits,
importance) and draws; only the chosen section computes. Heavier answers (ablation,
importance, three trained models) are kept per trainer and epoch in ``gv_cmp_cache``. Node and
class names are text: tables, ``st.text`` and the network view only, or ``ui.plain`` in markdown.
"""
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
import torch

import ui
from gatviz import compare, edits, heads, importance, render, timeline
from gatviz.attention import AttentionTable

ui.frame("compare")
ss = st.session_state
st.title("Compare: epochs, heads, layers, models, edits")
if ss.gv_trainer is None:
    st.info("Choose a graph in the sidebar to begin.")
    st.stop()
trainer, graph = ss.gv_trainer, ss.gv_graph
if not trainer.epoch:
    st.info("Train the model on the Explorer page first: every comparison here reads a trained run.")
    st.stop()
if ss.gv_training:
    st.info("Training runs on the Explorer page; this page shows the epoch it had reached.")
st.text(f"{graph.report.lines()[0]} · {trainer.config.model.upper()}, epoch {trainer.epoch}")
center = ui.center_picker(graph)
att = trainer.attention()
SECTIONS = ("Over training", "Heads", "Layers", "Models", "Edit an edge", "Does α matter?")
section = st.radio("Compare", SECTIONS, key="gv_cmp_section", horizontal=True, label_visibility="collapsed")


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
    ui.network(payload, key=key)


def over_training() -> None:
    epochs = timeline.held_epochs(trainer)       # the snapshots, and the current epoch
    st.caption(f"Snapshots held (float16, at most 50 MB; every other one is dropped when full, the interval "
               f"doubling): epochs {timeline.describe_epochs([s.epoch for s in trainer.snapshots])}.")
    c1, c2, c3 = st.columns([1, 1, 1])
    layer = ui.layer_select(att, c1)
    head = ui.head_select(att, layer, c2, allow=("mean",), key="gv_cmp_head")
    c3.toggle("Play", key="gv_cmp_play", help="Step through the snapshots.")
    scrub(epochs, layer, head)
    st.download_button("Download the scrub as a GIF", lambda: gif_bytes(layer, head), file_name="gatviz-scrub.gif",
                       mime="image/gif", on_click="ignore", disabled=ss.gv_training or not trainer.snapshots,
                       help="One frame per snapshot, drawn on the server.")


@st.fragment(run_every=0.8 if ss.get("gv_cmp_play") else None)
def scrub(epochs: list[int], layer: int, head) -> None:
    if ss.get("gv_cmp_epoch") not in epochs:
        ss.gv_cmp_epoch = epochs[-1]
    if ss.get("gv_cmp_play"):   # advance one snapshot per tick, stop at the end
        i = epochs.index(ss.gv_cmp_epoch)
        ss.gv_cmp_epoch = epochs[(i + 1) % len(epochs)]
    epoch = st.select_slider("Epoch", epochs, key="gv_cmp_epoch")
    table = timeline.at_epoch(trainer, epoch)
    row = next((r for r in trainer.history if r["epoch"] == epoch), None)
    if row:
        st.text(f"epoch {epoch}: train {row['train_acc']:.0%} · val {row['val_acc']:.0%} · test {row['test_acc']:.0%}")
    draw(table, layer, head, key="gv_cmp_scrub", predictions=False)
    entropy = cached("entropy", lambda: timeline.entropy_over_epochs(trainer))
    frame = entropy[entropy["layer"] == layer].pivot(index="epoch", columns="head", values="median")
    st.caption(f"Median normalised entropy per head, layer {layer + 1} (1 = uniform attention)")
    st.line_chart(frame.rename(columns=lambda h: f"head {h}"), height=200, x_label="epoch")
    history = pd.DataFrame(trainer.history).set_index("epoch")[["train_acc", "val_acc", "test_acc"]]
    st.caption("Accuracy")
    st.line_chart(history.rename(columns=lambda c: c[:-4]), height=180, x_label="epoch")


def gif_bytes(layer: int, head) -> bytes:
    path = Path(tempfile.mkdtemp()) / "scrub.gif"
    timeline.scrub_gif(trainer, center, layer, head, path, top_k=ss.gv_top_k, layouts=ss.gv_layouts)
    return path.read_bytes()


def heads_section() -> None:
    layer = ui.layer_select(att, st)
    js, order = heads.similarity(att, layer)
    labels = [f"head {h}" for h in order]
    st.subheader("How alike the heads attend")
    st.caption("Mean Jensen–Shannon divergence (bits; 0 = the same α everywhere) between the heads' α "
               "over every node's inputs, heads ordered by hierarchical clustering.")
    st.dataframe(pd.DataFrame(js[np.ix_(order, order)], index=labels, columns=labels)
                 .style.format("{:.4f}").background_gradient(cmap="Blues"))
    st.subheader("What each head is worth")
    frame = cached("ablation", lambda: heads.ablation(trainer)).copy()
    frame = frame[frame["layer"].isna() | (frame["layer"] == layer)]
    frame["ablated"] = ["nothing (as trained)" if pd.isna(r.layer) else
                        f"all heads of layer {layer + 1}" if r.head == "all" else f"head {r.head}"
                        for r in frame.itertuples()]
    st.caption("Accuracy when a head attends uniformly (α = 1/(deg+1) over its inputs), all else as trained.")
    st.dataframe(frame[["ablated", "val_acc", "test_acc", "val_change", "test_change"]], hide_index=True,
                 column_config={c: st.column_config.NumberColumn(format="%.3f") for c in frame.columns})


def layers_section() -> None:
    cols = st.columns(att.layers)
    choice = [cols[l].selectbox(f"Layer {l + 1}", ["mean", *range(att.heads(l))], key=f"gv_cmp_roll_{l}",
                                format_func=ui.head_label) for l in range(att.layers)]
    weights = compare.rollout(att, center, choice)
    sources = np.flatnonzero(weights)
    # arrows j -> centre, width = share of j's input in the centre (not graph edges)
    ei = torch.tensor(np.stack([sources, np.full(len(sources), center)]), dtype=torch.long)
    table = AttentionTable(ei, [torch.tensor(weights[sources], dtype=torch.float32).unsqueeze(1)], None,
                           graph.num_nodes)
    st.caption("Attention rollout: row of A_L ⋯ A_1 for the centre (self-loops included; sums to 1). "
               "Node size: the share of that node's input in the centre's output. Each arrow goes from "
               "a source node straight to the centre with width ∝ that share: arrows are not graph edges.")
    draw(table, 0, 0, key="gv_cmp_rollout", hops=min(att.layers, 2), encoding="absolute",
         node_weights=weights, title="attention rollout: share of each node's input in the centre",
         note=f"Rollout through {att.layers} layer(s); the centre keeps {weights[center]:.1%} of its own input.")
    top = pd.DataFrame({"name": [graph.names[j] for j in sources], "weight": weights[sources]})
    st.dataframe(top.sort_values("weight", ascending=False), hide_index=True, height=260)


def models_section() -> None:
    config = trainer.config.replace(device="cpu", epochs=trainer.epoch)
    st.caption(f"GAT, GATv2 and a GCN baseline (same depth and width), {config.epochs} epochs each, the same "
               "graph, split and seed.")
    key = ("models", graph.name, config)
    if key not in ss.get("gv_cmp_models", {}):
        if not st.button("Train the three models", disabled=ss.gv_training):
            return
        with st.spinner("Training GAT, GATv2 and GCN…"):
            ss.gv_cmp_models = {key: compare.train_models(graph, config)}
    trained = ss.gv_cmp_models[key]
    frame = compare.histories(trained).pivot(index="epoch", columns="model", values="test_acc")
    st.caption("Test accuracy")
    st.line_chart(frame, height=200, x_label="epoch")
    layer = ui.layer_select(att, st)
    tables = {m: trained[m].attention() for m in ("gat", "gatv2")}
    tau = compare.kendall(tables["gat"], tables["gatv2"], center, layer)
    st.text("Kendall τ between GAT's and GATv2's mean α over the centre's inputs: "
            + ("n/a" if tau is None else f"{tau:.3f}"))
    for col, (name, table) in zip(st.columns(3), [("GAT α (mean of heads)", tables["gat"]),
                                                   ("GATv2 α (mean of heads)", tables["gatv2"]),
                                                   ("GCN 1/√(d_i d_j): fixed", compare.gcn_weights(graph, att.layers))]):
        with col:
            st.caption(name)
            gcn = "GCN" in name
            draw(table, layer, 0 if gcn else "mean", key=f"gv_cmp_model_{name[:5]}", predictions=False,
                 title="GCN's fixed weights (not learned)" if gcn else None)


def edit_section() -> None:
    neighbours = sorted({graph.names[j] for j in graph.data.edge_index[0][graph.data.edge_index[1] == center].tolist()})
    c1, c2, c3 = st.columns([1, 2, 1], vertical_alignment="bottom")
    mode = c1.radio("Edit", ("remove", "add"), key="gv_cmp_edit_mode", horizontal=True)
    options = neighbours if mode == "remove" else [n for n in graph.names if n not in neighbours and n != graph.names[center]]
    other = c2.selectbox("the edge from", options, key="gv_cmp_edit_other")
    layer = ui.layer_select(att, c3)
    if other is None:
        return
    pair = [(graph.index(other), center)]
    result = edits.edit(trainer, center, drop=pair if mode == "remove" else (), add=pair if mode == "add" else ())
    classes = graph.class_names
    st.text(f"prediction {classes[result.pred_before]} → {classes[result.pred_after]} "
            "(the trained model re-run on the edited graph; nothing retrained)")
    st.dataframe(pd.DataFrame({"class": classes, "before": result.probs_before, "after": result.probs_after,
                               "change": result.probs_after - result.probs_before}), hide_index=True)
    for col, (label, table) in zip(st.columns(2), (("before", result.before), ("after", result.after))):
        with col:
            st.caption(f"α {label} (mean of heads, layer {layer + 1})")
            draw(table, layer, "mean", key=f"gv_cmp_edit_{label}")
    st.dataframe(result.alpha(layer, "mean", graph.names).drop(columns=["source"]), hide_index=True)


def matters_section() -> None:
    layer = ui.layer_select(att, st)
    out = cached("importance", lambda: importance.edge_importance(trainer, center, layer), center, layer)
    cls = graph.class_names[out["predicted"]]
    st.text(f"Predicted {cls} with p = {out['probability']:.3f}. GNNExplainer ran {out['epochs']} epochs; "
            f"gradient: {out['gradient_method']}; leave-one-out: p without the edge, nothing retrained.")
    (st.success if "agrees" in out["verdict"] else st.warning)(ui.plain(out["verdict"]))
    corr = pd.DataFrame(out["correlation"]).T.rename_axis("α against").reset_index()
    st.dataframe(corr, hide_index=True)
    st.dataframe(out["table"].drop(columns=["source"]).sort_values("alpha", ascending=False), hide_index=True,
                 column_config={"alpha": st.column_config.NumberColumn(f"α (layer {layer + 1}, mean)", format="%.4f")})


try:
    {"Over training": over_training, "Heads": heads_section, "Layers": layers_section, "Models": models_section,
     "Edit an edge": edit_section, "Does α matter?": matters_section}[section]()
except ui.USER_ERRORS as e:   # one line in place; the model and settings stay
    st.error(ui.plain(e))
