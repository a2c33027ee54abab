"""Everything about alpha: extraction in eval mode, self-loops, per-node views.

PyG flows source -> target: ``edge_index[0]`` is j (the neighbour),
``edge_index[1]`` is i (the node that attends). For every target i and head,
alpha_ij sums to 1 over j in N(i) ∪ {i}. ``GATConv``/``GATv2Conv`` remove any
self-loops already in the graph and append exactly one per node at the end,
so the returned edge index is ``[original non-loop edges..., (0,0), ..., (N-1,N-1)]``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import GATConv, GATv2Conv
from torch_geometric.utils import softmax

from .errors import GatvizError, node_index


@dataclass
class AttentionTable:
    """Attention of every layer and head over one edge index.

    Attributes:
        edge_index: (2, E') long, source -> target, one self-loop per node appended.
        alpha: per layer, (E', H_l) float; sums to 1 per (target, head).
        score: per layer, (E', H_l) raw e_ij before the softmax, or None.
        epoch: epochs trained when it was taken.
    """
    edge_index: Tensor
    alpha: list[Tensor]
    score: list[Tensor] | None
    num_nodes: int
    epoch: int = 0

    @property
    def layers(self) -> int:
        return len(self.alpha)

    def heads(self, layer: int) -> int:
        return int(self.alpha[layer].size(1))

    @cached_property
    def is_self(self) -> Tensor:
        return self.edge_index[0] == self.edge_index[1]

    @cached_property
    def _by_target(self) -> tuple[np.ndarray, np.ndarray]:
        # CSR over targets: edges into node i are order[ptr[i]:ptr[i + 1]].
        target = self.edge_index[1].numpy()
        order = np.argsort(target, kind="stable")
        ptr = np.concatenate([[0], np.cumsum(np.bincount(target, minlength=self.num_nodes))])
        return order, ptr

    def incoming(self, node: int) -> np.ndarray:
        """Edge ids (into edge_index) of the edges that end at ``node``, self-loop included."""
        order, ptr = self._by_target
        node = node_index(node, self.num_nodes)
        return order[ptr[node]:ptr[node + 1]]

    def weights(self, layer: int, head: int | str) -> np.ndarray:
        """alpha (E',) of one head, or of the head mean when ``head == "mean"``."""
        _check_layer_head(self, layer, head)
        a = self.alpha[layer]
        return (a.float().mean(dim=1) if head == "mean" else a[:, head].float()).numpy()


def _check_layer_head(att: AttentionTable, layer: int, head) -> None:
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < att.layers:
        raise GatvizError(f"layer index (0 = the first layer) must be from 0 to {att.layers - 1}, not {layer}")
    if head != "mean" and not (isinstance(head, (int, np.integer)) and 0 <= head < att.heads(layer)):
        raise GatvizError(f"head must be from 0 to {att.heads(layer) - 1} or 'mean', not {head!r}")


@torch.no_grad()
def extract(model, x: Tensor, edge_index: Tensor, epoch: int = 0, scores: bool = True
            ) -> tuple[Tensor, AttentionTable]:
    """Run the model in eval mode and collect alpha (and e_ij) of every layer.

    eval(): in train mode PyG returns alpha after attention dropout, which no
    longer sums to 1. The model's mode is restored afterwards. Past
    limits.LAYERWISE_EVAL_EDGES edges the same numbers come one layer at a time
    (:func:`gatviz.layerwise.extract`), so no pass holds every layer's edges at once.

    Returns:
        logits (N, C) and the AttentionTable (on CPU, float32).
    """
    from . import layerwise
    if layerwise.wanted(x, edge_index):
        return layerwise.extract(model, x, edge_index, epoch, scores)
    was_training = model.training
    model.eval()
    scores_by_layer: list[Tensor] = []
    # The layers already compute e_ij's two halves; a pre-hook on their edge update
    # picks them up instead of recomputing W h (1.26x the eval forward when recomputed).
    hooks = [conv.register_edge_update_forward_pre_hook(
        lambda conv, inputs: scores_by_layer.append(_score_from_edge_update(conv, *inputs)))
        for conv in model.convs] if scores else []
    try:
        logits, attention = model(x, edge_index, return_attention=True)
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    loop_index = attention[0][0]
    for other, _ in attention[1:]:
        assert torch.equal(other, loop_index), "layers returned different edge indices"
    score = [s.float().cpu() for s in scores_by_layer] if scores else None
    table = AttentionTable(loop_index.cpu(), [a.float().cpu() for _, a in attention], score,
                           num_nodes=int(x.size(0)), epoch=epoch)
    return logits, table


def _score_from_edge_update(conv, edge_index: Tensor, size, kwargs: dict) -> Tensor:
    """e_ij (E, H) from the per-edge terms a GAT layer hands its edge update (self-loops added)."""
    if isinstance(conv, GATConv):    # a_src · z_j + a_dst · z_i
        return F.leaky_relu(kwargs["alpha_j"] + kwargs["alpha_i"], conv.negative_slope)
    # GATv2: a · LeakyReLU(W_l h_j + W_r h_i)
    return (F.leaky_relu(kwargs["x_j"] + kwargs["x_i"], conv.negative_slope) * conv.att).sum(-1)


def raw_scores(conv, x: Tensor, edge_index: Tensor) -> Tensor:
    """e_ij (E, H) before the softmax, recomputed from the layer's own weights and input.

    The formula as written in the papers; :func:`extract` takes the same numbers
    from inside the layer instead (tests check both agree and softmax to alpha).
    GAT:   e_ij = LeakyReLU(a_dst · z_i + a_src · z_j), z = W h  (a^T [z_i || z_j] split in two).
    GATv2: e_ij = a · LeakyReLU(W_r h_i + W_l h_j).
    softmax of these over each target's edges equals PyG's alpha (tested).
    """
    src, dst = edge_index
    H, C = conv.heads, conv.out_channels
    if isinstance(conv, GATConv):
        z = conv.lin(x).view(-1, H, C)
        e = (z * conv.att_src).sum(-1)[src] + (z * conv.att_dst).sum(-1)[dst]
        return F.leaky_relu(e, conv.negative_slope)
    if isinstance(conv, GATv2Conv):
        x_l = conv.lin_l(x).view(-1, H, C)
        x_r = conv.lin_r(x).view(-1, H, C)
        return (F.leaky_relu(x_l[src] + x_r[dst], conv.negative_slope) * conv.att).sum(-1)
    raise TypeError(f"no attention scores for {type(conv).__name__}")


def softmax_by_target(score: Tensor, edge_index: Tensor, num_nodes: int) -> Tensor:
    """alpha from e_ij: softmax over the incoming edges of each target (PyG's softmax)."""
    return softmax(score, edge_index[1], num_nodes=num_nodes)


def neighbourhood(att: AttentionTable, node: int, layer: int, head: int | str,
                  degree: np.ndarray, names: list[str] | None = None) -> pd.DataFrame:
    """What ``node`` (the target i) attends to in one layer and head.

    Args:
        att: the attention table.
        node: target index i.
        layer: 0-based layer.
        head: head index, or "mean" for the mean over heads (still sums to 1).
        degree: (N,) in-degree of every node, self-loops excluded.
        names: node names, for the ``name`` column.

    Returns:
        One row per j in N(i) ∪ {i}, highest alpha first: ``source`` (index j),
        ``name``, ``alpha``, ``score`` (e_ij; NaN for "mean", whose alpha is
        no softmax of mean scores, or if not extracted), ``rank`` among the
        neighbours (1..deg(i), 1 = most attended; <NA> on the self-loop, whose
        alpha is shown apart), ``degree`` (of j), ``uniform``
        (1 / (deg(i) + 1), what alpha would be with no preference), ``self``.
        alpha sums to 1.
    """
    node = node_index(node, att.num_nodes)
    _check_layer_head(att, layer, head)
    edges = att.incoming(node)
    sources = att.edge_index[0].numpy()[edges]
    alpha = att.alpha[layer][edges]
    alpha = alpha.mean(dim=1) if head == "mean" else alpha[:, head]
    if att.score is not None and head != "mean":
        score = att.score[layer][edges][:, head].numpy()
    else:   # the head mean has no e_ij: the mean alpha is not a softmax of the mean e_ij
        score = np.full(len(edges), np.nan)
    frame = pd.DataFrame({
        "source": sources,
        "name": [names[j] for j in sources] if names is not None else sources.astype(str),
        "alpha": alpha.numpy().astype(np.float64),
        "score": score.astype(np.float64),
        "degree": degree[sources],
        "uniform": 1.0 / (len(edges)),
        "self": sources == node,
        "edge": edges,
    })
    frame = frame.sort_values(["alpha", "source"], ascending=[False, True], kind="stable")
    # ranks count neighbours only: a self-loop ranked among them made the numbers skip one
    rank = pd.array(np.cumsum(~frame["self"].to_numpy()), dtype="Int64")
    rank[frame["self"].to_numpy()] = pd.NA
    frame.insert(3, "rank", rank)
    return frame.reset_index(drop=True)


def entropy(att: AttentionTable, layer: int, head: int | str) -> np.ndarray:
    """Entropy (nats) of every node's attention distribution, (N,).

    Compare with log(deg + 1), the entropy of uniform attention.
    """
    a = np.clip(att.weights(layer, head), 1e-12, 1.0)
    contrib = -a * np.log(a)
    return np.bincount(att.edge_index[1].numpy(), weights=contrib, minlength=att.num_nodes)


def to_frame(att: AttentionTable, names: list[str]) -> pd.DataFrame:
    """Long table ``layer,head,source,target,alpha`` of every layer, head and edge.

    ``layer`` is numbered from 1 (the table is for people: CSV, downloads); ``head`` from 0.
    Self-attention rows have ``source == target``; alpha sums to 1 per
    (layer, head, target).
    """
    src, dst = att.edge_index.numpy()
    name = np.asarray(names, dtype=object)
    parts = []
    for layer, a in enumerate(att.alpha):
        for head in range(a.size(1)):
            parts.append(pd.DataFrame({"layer": layer + 1, "head": head, "source": name[src],
                                       "target": name[dst], "alpha": a[:, head].numpy()}))
    return pd.concat(parts, ignore_index=True)
