r"""Heads compared: how alike their attention is, and what each one is worth.

**Similarity.** For one layer, each head gives every target i a distribution alpha_i· over its
inputs j ∈ N(i) ∪ {i} (self-loop included). Two heads h, g differ at i by the Jensen–Shannon
divergence (base 2, so in [0, 1])

.. math::
    \mathrm{JS}_i(h, g) = \tfrac12 \mathrm{KL}(\alpha^h_{i\cdot} \| m) + \tfrac12 \mathrm{KL}(\alpha^g_{i\cdot} \| m),
    \qquad m = \tfrac12(\alpha^h_{i\cdot} + \alpha^g_{i\cdot})

and the matrix holds its mean over the targets with a neighbour (a node whose only input is
its self-loop gets the same α = 1 from every head: counting it would dilute the mean). Heads are ordered by average-linkage
hierarchical clustering of that matrix (``scipy.cluster.hierarchy.leaves_list``), so heads
that attend alike sit together.

**Ablation.** Head h of layer l "attends uniformly": its alpha_ij is replaced by
1 / (deg_i + 1) over N(i) ∪ {i}; every weight, every other head and layer is unchanged, eval
mode. This runs the model's own PyG convs: a forward hook on the conv's ``edge_updater``
output (which is alpha, after the softmax) swaps the head's column, so W h_j, the
aggregation, concatenation/mean and bias are PyG's own.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import squareform
from scipy.special import rel_entr

from .attention import AttentionTable, _check_layer_head
from .errors import GatvizError


def no_attention_check(trainer) -> None:
    if not trainer.model.has_attention:
        raise GatvizError("GCN has no attention: its weights 1/sqrt(d_i d_j) are fixed by the graph, "
                          "so there are no heads to compare or ablate")


def similarity(att: AttentionTable, layer: int) -> tuple[np.ndarray, list[int]]:
    """Mean Jensen–Shannon divergence (bits) between the heads of one layer.

    Args:
        att: alpha (E', H) per layer over edge_index (2, E'), self-loops included.
        layer: 0-based.

    Returns:
        (H, H) symmetric matrix with zero diagonal (in head order 0..H-1), and the heads'
        order from hierarchical clustering.
    """
    _check_layer_head(att, layer, "mean")
    alpha = att.alpha[layer].numpy().astype(np.float64)
    target = att.edge_index[1].numpy()
    chosen = np.bincount(target, minlength=att.num_nodes) > 1    # targets with a neighbour
    H = alpha.shape[1]
    js = np.zeros((H, H))
    for h in range(H):
        for g in range(h + 1, H):
            p, q = alpha[:, h], alpha[:, g]
            m = 0.5 * (p + q)
            per_edge = 0.5 * (rel_entr(p, m) + rel_entr(q, m)) / np.log(2.0)
            per_target = np.bincount(target, weights=per_edge, minlength=att.num_nodes)
            js[h, g] = js[g, h] = per_target[chosen].mean() if chosen.any() else 0.0
    if H < 3:
        return js, list(range(H))
    order = leaves_list(linkage(squareform(js, checks=False), method="average"))
    return js, [int(h) for h in order]


def _uniform_hook(heads: list[int]):
    """Forward hook for a conv's edge_updater: alpha (E', H) -> the same with ``heads`` set to
    1 / (deg_i + 1), the count of each target's inputs (self-loop included)."""
    def hook(conv, inputs, alpha):
        target = inputs[0][1]
        count = torch.bincount(target).to(alpha.dtype)
        alpha = alpha.clone()
        alpha[:, heads] = (1.0 / count[target]).unsqueeze(1)
        return alpha
    return hook


@torch.no_grad()
def forward_uniform(trainer, layer: int, heads: list[int], x=None, edge_index=None) -> torch.Tensor:
    """Eval-mode logits (N, C) with ``heads`` of ``layer`` (0-based) attending uniformly."""
    no_attention_check(trainer)
    model = trainer.model
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < len(model.convs):
        raise GatvizError(f"layer index (0 = the first layer) must be from 0 to {len(model.convs) - 1}, not {layer}")
    conv = model.convs[layer]
    if not isinstance(heads, (list, tuple)):
        raise GatvizError(f"heads must be a list of head indices, not {heads!r}")
    bad = [h for h in heads if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or not 0 <= h < conv.heads]
    if bad:
        raise GatvizError(f"head must be from 0 to {conv.heads - 1}, not {bad[0]}")   # heads from 0
    handle = conv.register_edge_update_forward_hook(_uniform_hook(list(heads)))
    was_training = model.training
    model.eval()
    try:
        return model(trainer.x if x is None else x,
                     trainer.edge_index if edge_index is None else edge_index)
    finally:
        model.train(was_training)
        handle.remove()


def _accuracies(trainer, logits: torch.Tensor) -> dict:
    pred = logits.argmax(dim=1)
    out = {}
    for split in ("val", "test"):
        mask = trainer.masks[split]
        out[f"{split}_acc"] = float((pred[mask] == trainer.y[mask]).float().mean()) if bool(mask.any()) \
            else float("nan")
    return out


def ablation(trainer) -> pd.DataFrame:
    """Val and test accuracy with each head, and each layer's heads all, attending uniformly.

    Returns:
        Rows ``layer`` (0-based, None for the unablated model), ``head`` (index, "all", or
        None), ``val_acc``, ``test_acc``, ``val_change``, ``test_change`` (vs. the model as
        trained). The first row is the model as trained (from the trainer's cached logits).
    """
    no_attention_check(trainer)
    base = _accuracies(trainer, trainer.logits())
    rows = [{"layer": None, "head": None, **base}]
    for layer, conv in enumerate(trainer.model.convs):
        heads = list(range(conv.heads))
        for head in heads + ["all"]:   # "all" too for a one-head layer, so every layer has it
            chosen = heads if head == "all" else [head]
            rows.append({"layer": layer, "head": head,
                         **_accuracies(trainer, forward_uniform(trainer, layer, chosen))})
    frame = pd.DataFrame(rows)
    for split in ("val", "test"):
        frame[f"{split}_change"] = frame[f"{split}_acc"] - base[f"{split}_acc"]
    return frame


def report(trainer) -> dict:
    """Similarity and ablation of every layer, for JSON: layers numbered from 1 (as in the app and
    the CLI), heads from 0 (as ``--head`` and the app's head picker)."""
    no_attention_check(trainer)
    att = trainer.attention()
    frame = ablation(trainer)
    base = frame.iloc[0]
    layers = []
    for layer in range(att.layers):
        js, order = similarity(att, layer)
        rows = frame[frame["layer"] == layer]
        one = lambda r: {"val_acc": _num(r["val_acc"]), "test_acc": _num(r["test_acc"])}   # noqa: E731
        layers.append({
            "layer": layer + 1, "heads": att.heads(layer),
            "order": order,
            "js_divergence": [[round(float(v), 6) for v in row] for row in js],
            "ablate_head": {str(int(r["head"])): one(r) for _, r in rows.iterrows() if r["head"] != "all"},
            "ablate_all": one(rows[rows["head"] == "all"].iloc[0]),
        })
    return {"epoch": trainer.epoch, "model": trainer.config.model,
            "val_acc": _num(base["val_acc"]), "test_acc": _num(base["test_acc"]), "layers": layers}


def _num(value) -> float | None:
    value = float(value)
    return None if np.isnan(value) else round(value, 6)
