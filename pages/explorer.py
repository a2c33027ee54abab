"""Attention explorer: train live, then read every head's attention around one node.

Two fragments: the progress column and the view. While training both rerun on
a timer (a chunk of epochs and the growing curves, then the view from the newest
eval pass). A widget of the view reruns only the view: switching node, head or
layer never retrains, resends no curves, and reuses the graph's cached layout.
"""
import re
import time

import numpy as np
import pandas as pd
import streamlit as st

import ui
from gatviz import attention, exports, render, uniformity
from gatviz import encoding as encoding_mod

ui.frame("attention explorer")
ss = st.session_state
st.title("Graph attention, live")
if ss.gv_trainer is None:
    st.info("Choose a graph in the sidebar to begin.")
    st.stop()
st.text(ss.gv_graph.report.lines()[0])


def curves(trainer) -> None:
    """Progress, last accuracies, loss and accuracy curves (they grow as it trains)."""
    target = trainer.config.epochs
    status = " · training…" if ss.gv_training else (" · done" if trainer.remaining == 0 else "")
    st.progress(min(trainer.epoch / target, 1.0) if target else 1.0,
                text=f"Epoch {trainer.epoch} of {target}{status}")
    if not trainer.history:
        st.info("Press **Train** in the sidebar. Until then the view shows the untrained "
                "model's attention: close to uniform.")
        return
    frame = pd.DataFrame(trainer.history).set_index("epoch")
    last = trainer.history[-1]
    acc = "  ·  ".join(f"{split} **{'n/a' if np.isnan(v) else format(v, '.0%')}**"
                       for split, v in ((s, last[f"{s}_acc"]) for s in ("train", "val", "test")))
    st.markdown(f"Accuracy: {acc}")
    st.caption("Loss")
    st.line_chart(frame[["loss", "val_loss"]].rename(columns={"loss": "train", "val_loss": "val"}),
                  height=190, x_label="epoch", color=["#3B6EA8", "#E69F00"])
    st.caption("Accuracy")
    st.line_chart(frame[["train_acc", "val_acc", "test_acc"]].rename(columns=lambda c: c[:-4]),
                  height=190, x_label="epoch", color=["#3B6EA8", "#E69F00", "#009E73"])


def table(att, graph, center: int, layer: int, head) -> pd.DataFrame:
    """The view's numbers for the centre node, sortable, with CSV and HTML downloads."""
    frame = attention.neighbourhood(att, center, layer, "mean" if head == "all" else head,
                                    graph.degree, graph.names)
    frame.insert(frame.columns.get_loc("alpha") + 1, "ratio", frame["alpha"] / frame["uniform"])
    if head == "all" and att.heads(layer) > 1:
        per_head = att.alpha[layer].numpy()[frame["edge"].to_numpy()]   # (rows, H)
        for h in range(per_head.shape[1]):
            frame[f"head {h}"] = per_head[:, h]
    self_alpha = float(frame.loc[frame["self"], "alpha"].iloc[0])
    st.subheader("What the centre node attends to")
    st.text(f"centre i: {graph.names[center]}")
    st.markdown(f"Self-attention α_ii = **{self_alpha:.4f}**. The centre has {len(frame) - 1} neighbours, "
                f"so uniform attention over its {len(frame)} inputs (neighbours + itself) would give each "
                f"**1/(deg_i+1) = {1 / len(frame):.4f}**: the centre's degree, the same for every row. "
                f"Rows: {ui.head_label(head if head != 'all' else 'mean')}, layer {layer + 1}.")
    shown = frame.drop(columns=["source", "edge", "uniform"])
    config = {"name": st.column_config.TextColumn("neighbour j"),
              "alpha": st.column_config.ProgressColumn("α_ij", min_value=0.0, max_value=1.0, format="%.4f"),
              "ratio": st.column_config.NumberColumn("α_ij·(deg_i+1)", format="%.2f×",
                                                     help="1 = uniform for the centre i; 2 = twice uniform"),
              "score": st.column_config.NumberColumn("e_ij (raw score)", format="%.3f",
                                                     help="None for the mean of heads: the mean α is "
                                                          "not a softmax of the mean e_ij."),
              "rank": st.column_config.NumberColumn("rank among neighbours"),
              "degree": st.column_config.NumberColumn("degree of j"),
              "self": st.column_config.CheckboxColumn("self-loop")}
    config.update({c: st.column_config.NumberColumn(c, format="%.3f") for c in shown.columns
                   if c.startswith("head ")})
    st.dataframe(shown, hide_index=True, column_config=config, height=min(40 + 35 * len(shown), 460))
    return frame


def heads_verdict(att, graph, layer: int) -> None:
    """How far each head of the layer is from uniform, in one line each."""
    summary = uniformity.head_summary(att, graph.data.y.numpy())
    mine = summary[summary["layer"] == layer]
    st.caption(uniformity.graph_verdict(summary))
    with st.expander(f"Each head of layer {layer + 1} against uniform attention"):
        for line in mine["verdict"]:
            st.text(line)
        st.caption("Normalised entropy H(α_i)/log(deg_i+1) per node, median over nodes with a neighbour: "
                   "1 = uniform, 0 = one input takes all. Same-class share: α on neighbours of the "
                   "node's own class, against what uniform attention would give them.")


# Two fragments on the same timer while training. Only "progress" trains; a widget of
# the view reruns only the view, so the curves (~23 KB) are not sent again for it.
TICK = ui.tick()


@st.fragment(run_every=TICK)
def progress() -> None:
    finished = ui.train_chunk()
    curves(ss.gv_trainer)
    if finished:
        # A full run stops the timers and updates the sidebar's buttons. Only now, with
        # this run's elements drawn: a rerun before widgets can reset them in the browser.
        st.rerun()


@st.fragment(run_every=TICK)
def explorer() -> None:
    try:
        body(time.perf_counter())
    except ui.USER_ERRORS as e:   # one line in place; the model and settings stay
        st.error(ui.plain(e))


def body(start: float) -> None:
    trainer, graph = ss.gv_trainer, ss.gv_graph
    if trainer.notice:
        st.warning(trainer.notice)
    center = ui.center_picker(graph)
    att = trainer.attention()
    c1, c2, c3 = st.columns(3)
    layer = ui.layer_select(att, c1)
    head = ui.head_select(att, layer, c2)
    hops = c3.radio("Neighbourhood", (1, 2), key="gv_hops", horizontal=True,
                    format_func=lambda h: f"{h} hop" + "s" * (h > 1))
    c4, c5 = st.columns(2)
    encoding = c4.radio("Edges show", encoding_mod.ENCODINGS, key="gv_encoding", horizontal=True,
                        format_func={"uniform": "α vs uniform", "absolute": "α (0..1)"}.get,
                        help="α vs uniform: width and colour by α·(deg_i+1), 1 = uniform. "
                             "α (0..1): width by α on a fixed scale.")
    top_k = c5.slider("Edges shown", 1, 200, key="gv_top_k", help="The centre's inputs first, then highest α.")
    ui.state.remember("gv_hops", "gv_encoding", "gv_top_k")
    heads = [*range(att.heads(layer)), "mean"] if head == "all" else [head]
    payload = render.view(graph, att, center, layer, heads, hops=hops, top_k=top_k,
                          layouts=ss.gv_layouts, encoding=encoding, presenter=ss.gv_presenter,
                          # before training every node would wear the "wrong" ring
                          predictions=trainer.predictions().numpy() if trainer.epoch else None)
    ui.network(payload)
    st.caption("Click a node to centre on it · hover an edge for α, e_ij, its rank and the centre's "
               "uniform 1/(deg_i+1) · drag to pan · Ctrl + scroll to zoom")
    heads_verdict(att, graph, layer)
    frame = table(att, graph, center, layer, head)
    stem = f"gatviz-{re.sub(r'[^A-Za-z0-9_.-]+', '_', graph.name)}-node{center}-layer{layer + 1}"
    title = (f"gatviz {graph.name}: node {graph.names[center]}, layer {layer + 1}, {ui.head_label(head)}, "
             f"epoch {trainer.epoch}")   # standalone_html escapes it
    c1, c2, _ = st.columns([1.2, 1.2, 1])
    # callables: the files are built only when clicked (the HTML inlines ~700 KB of vis-network).
    # Not while training: each tick replaces the view, and with it the file a click would fetch.
    wait = "Available when training stops." if ss.gv_training else None
    context = {"graph": graph.name, "model": trainer.config.model.upper(), "epoch": trainer.epoch,
               "centre": graph.names[center], "layer": layer + 1,
               "head": ui.head_label("mean" if head == "all" else head)}
    c1.download_button("Download table (CSV)", lambda: exports.safe_csv(frame, context).encode("utf-8"),
                       file_name=f"{stem}.csv", mime="text/csv", on_click="ignore",
                       disabled=ss.gv_training, help=wait)
    c2.download_button("Download view (HTML)", lambda: render.standalone_html(payload, title).encode("utf-8"),
                       file_name=f"{stem}.html", mime="text/html", on_click="ignore",
                       disabled=ss.gv_training, help=wait)
    st.caption(f"View of epoch {trainer.epoch}: {render.payload_bytes(payload) / 1000:.1f} KB of payload, "
               f"computed in {1000 * (time.perf_counter() - start):.0f} ms on the server.")
    with st.expander("Link to this view"):
        ui.links.share_box()
    ui.links.sync_url()


view_column, progress_column = st.columns([3, 1], gap="medium")
with progress_column:
    progress()
with view_column:
    explorer()
