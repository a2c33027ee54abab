"""Explain: how one GAT layer computes α for the chosen node, with the trained model's tensors.

The four steps (z = W h, e_ij, softmax, aggregation) are replayed by ``gatviz.explain``
from the layer's real input and parameters in eval mode; the page checks its α against
PyG's ``return_attention_weights`` and shows the difference. Node names are text: they go
into tables and ``st.text`` only, never into markdown or ``st.latex``.
"""
import streamlit as st

import ui

# the title and a skeleton first: on a cold server the imports below take ~3 s
loaded = ui.boot.skeleton("explain.title")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from ui.i18n import t  # noqa: E402
from gatviz import explain  # noqa: E402
loaded()   # the skeleton goes; the page draws

trainer, graph = ui.page("explain α step by step", "explain.title")
ss = st.session_state
if ss.gv_training:
    st.info(t("explain.waits"))
st.text(t("explain.run", report=ui.words.graph_line(graph.report), model=trainer.config.model.upper(),
          layers=trainer.config.layers, epoch=trainer.epoch) + ("" if trainer.epoch else t("untrained.hint")))

center = ui.center_picker(graph)
att = trainer.attention()
c1, c2, c3 = st.columns([1, 1, 1.2])
layer = ui.layer_select(att, c1)
head = ui.head_select(att, layer, c2, allow=(), key="gv_step_head")
exact = c3.toggle(t("exact"), key="gv_exact", help=t("exact.help"))
NUM = None if exact else "%.4f"


def numbers(frame: pd.DataFrame, **labels) -> None:
    """A table of numbers: names as text, values rounded unless 'Exact numbers' is on."""
    labels = {"self": t("col.self"), "rank": t("col.rank"), **labels}
    config = {c: (st.column_config.NumberColumn(labels.get(c, c), format=NUM) if frame[c].dtype.kind == "f"
                  else st.column_config.Column(labels.get(c, c))) for c in frame.columns if c != "name"}
    config["name"] = st.column_config.TextColumn(labels.get("name", t("col.input")))
    st.dataframe(frame, hide_index=True, column_config=config, height=min(40 + 35 * len(frame), 400))


def vector(values: np.ndarray, first: int = 6) -> str:
    shown = ", ".join(f"{v:.9g}" if exact else f"{v:.4f}" for v in values[:first])
    return (f"[{shown}{', …' if len(values) > first else ''}]  "
            + t("vec.tail", n=len(values), norm=f"{np.linalg.norm(values):.4f}"))


try:
    s = explain.steps_of(trainer, center, layer, head)
except ui.USER_ERRORS as e:   # e.g. a model without attention
    st.error(ui.plain(e))
    st.stop()

gat = s.model == "gat"
rows = pd.DataFrame({"name": s.names, "self": s.is_self})
st.text(t("centre.line", name=s.names[-1], layer=layer + 1, layers=s.layers, head=head, heads=s.heads,
          degree=s.degree, inputs=s.degree + 1))   # st.text: the name stays text


def step1() -> None:
    st.header(t("step1"))
    if gat:
        st.latex(r"z_j = W h_j \qquad W \in \mathbb{R}^{%d \times %d}" % s.weight_shape)
        st.caption(t("step1.rows", heads=s.heads, head=head, rows=s.z.shape[1]))
    else:
        st.latex(r"z_j = W_l h_j, \qquad W_r h_i, \qquad W_l, W_r \in \mathbb{R}^{%d \times %d}" % s.weight_shape)
        st.caption(t("step1.v2"))
    st.markdown(t("step1.text", source=t("step1.features") if layer == 0 else t("step1.previous", layer=layer)))
    first = min(4, s.z.shape[1])
    numbers(rows.assign(h_norm=np.linalg.norm(s.h, axis=1), z_norm=np.linalg.norm(s.z, axis=1),
                        **{f"z[{c}]": s.z[:, c] for c in range(first)}), h_norm="|h_j|", z_norm="|z_j|")
    with st.expander(t("full.vectors", n=s.z.shape[1])):
        numbers(rows.assign(**{f"z[{c}]": s.z[:, c] for c in range(s.z.shape[1])}))
    if not gat:
        st.text(f"W_r h_i = {vector(s.z_target)}")


def step2() -> None:
    st.header(t("step2"))
    if gat:
        st.latex(r"e_{ij} = \mathrm{LeakyReLU}\big(a^\top [z_i \,\|\, z_j]\big)"
                 r" = \mathrm{LeakyReLU}\big(a_{dst}^\top z_i + a_{src}^\top z_j\big)")
        st.caption(t("slope", slope=f"{s.negative_slope:g}"))
        st.markdown(t("step2.gat", value=f"{s.a_dst_z:.4f}"))
        numbers(rows.assign(a_src_z=s.a_src_z, a_dst_z=s.a_dst_z, pre=s.pre, e=s.e),
                a_src_z="a_srcᵀ z_j", a_dst_z="a_dstᵀ z_i", pre=t("col.sum"), e=t("col.e", sum=t("col.sum")))
    else:
        st.latex(r"e_{ij} = a^\top \mathrm{LeakyReLU}\big(W_r h_i + W_l h_j\big)")
        st.caption(t("slope", slope=f"{s.negative_slope:g}"))
        st.markdown(t("step2.gatv2"))
        numbers(rows.assign(s_norm=s.pre_norm, e=s.e), s_norm="|W_r h_i + W_l h_j|", e="e_ij")


def step3() -> None:
    st.header(t("step3"))
    st.latex(r"\alpha_{ij} = \frac{\exp(e_{ij} - m)}{\sum_{k \in \mathcal{N}(i) \cup \{i\}} \exp(e_{ik} - m)},"
             r"\quad m = \max_k e_{ik} = %.4f" % float(s.e.max()))
    numbers(rows.assign(e=s.e, exp=s.exp, alpha=s.alpha, ratio=s.alpha * len(s.alpha),
                        rank=np.where(s.is_self, 0, s.neighbour_rank())),
            e="e_ij", exp="exp(e_ij − m)", alpha="α_ij", ratio="α_ij·(deg_i+1)")
    edges = att.incoming(center)
    pyg = att.alpha[layer][edges, head].numpy()[np.argsort(att.edge_index[0].numpy()[edges], kind="stable")]
    mine = s.alpha[np.argsort(s.sources, kind="stable")]
    st.markdown(t("step3.text", exp_sum=f"{s.exp_sum:.4f}", alpha_sum=f"{s.alpha.sum():.6f}",
                  uniform=f"{s.uniform:.4f}", degree=s.degree, self_alpha=f"{s.self_alpha:.4f}"))
    st.caption(t("step3.check", diff=f"{float(np.abs(pyg - mine).max()):.1e}"))


def step4() -> None:
    st.header(t("step4"))
    st.latex(r"h'_i = \sum_{j \in \mathcal{N}(i) \cup \{i\}} \alpha_{ij}\, z_j")
    st.text(t("step4.head", head=head, vec=vector(s.head_output)))
    if s.concat:
        st.latex(r"h'_i = \mathrm{ELU}\Big(\big\Vert_{k=1}^{%d} \textstyle\sum_j \alpha^{k}_{ij} z^{k}_j + b\Big)"
                 % s.heads)
        st.markdown(t("step4.concat", heads=s.heads, width=s.z.shape[1], total=len(s.combined)))
    else:
        st.latex(r"\text{logits}_i = \frac{1}{%d} \sum_{k=1}^{%d} \textstyle\sum_j \alpha^{k}_{ij} z^{k}_j + b"
                 % (s.heads, s.heads))
        st.markdown(t("step4.mean", heads=s.heads))
    st.text(t("step4.combined", vec=vector(s.combined)) + "\n" + t("step4.bias", vec=vector(s.layer_output)))
    if s.logits is not None:
        probs = pd.DataFrame({"name": graph.class_names, "logit": s.logits, "probability": s.probabilities})
        numbers(probs, name=t("col.class"), logit="logit", probability="softmax")
        true = graph.class_names[int(graph.data.y[center])]
        verdict = t("correct") if s.predicted_label == true else t("wrong")
        st.text(t("predicted", predicted=s.predicted_label, label=true, verdict=verdict)
                + ("" if trainer.epoch else t("untrained")))


STEPS = (step1, step2, step3, step4)


def _move(by: int) -> None:
    ss.gv_step = min(max(int(ss.gv_step) + by, 1), len(STEPS))
    ui.state.remember("gv_step")


if ss.gv_presenter:   # one step per screen, walked with Back / Next
    STEPS[int(ss.gv_step) - 1]()
    c1, c2, c3 = st.columns([1, 1, 4])
    c1.button(t("back"), on_click=_move, args=(-1,), disabled=ss.gv_step <= 1, width="stretch")
    c2.button(t("next"), on_click=_move, args=(1,), disabled=ss.gv_step >= len(STEPS), width="stretch")
    c3.caption(t("step.of", step=ss.gv_step, steps=len(STEPS)))
else:
    for step in STEPS:
        step()
ui.links.share()
ui.links.sync_url()
ui.boot.warm()   # (the first screen is drawn: what it did not need is imported meanwhile)
