r"""The four steps of one GAT layer, replayed for one node and head with the model's own tensors.

For a target node i (PyG flows source -> target: ``edge_index[0]`` is the neighbour j,
``edge_index[1]`` is i), layer l and head k, in eval mode, over the inputs
j ∈ N(i) ∪ {i} (the self-loop is one of them, last, as PyG appends it):

1. **z = W h.** GAT: :math:`z_j = W h_j`, one W for both ends (``conv.lin``, no bias).
   GATv2: a message :math:`W_l h_j` (``conv.lin_l``, what is aggregated) and a target side
   :math:`W_r h_i` (``conv.lin_r``); PyG's two linears carry a bias each, included here.
   W is (H·F′, F_in); one head's slice is (F′, F_in).
2. **e_ij.** GAT: :math:`e_{ij} = \mathrm{LeakyReLU}(a_{dst}^\top z_i + a_{src}^\top z_j)`
   (:math:`a^\top[z_i \| z_j]` split in two). GATv2:
   :math:`e_{ij} = a^\top \mathrm{LeakyReLU}(s_{ij})`, :math:`s_{ij} = W_r h_i + W_l h_j`.
3. **softmax.** :math:`\alpha_{ij} = \exp(e_{ij} - \max_j e_{ij}) / \sum_j \exp(e_{ij} - \max_j e_{ij})`,
   next to the uniform :math:`1/(\deg_i + 1)`.
4. **aggregate.** :math:`\sum_j \alpha_{ij} z_j` per head; a hidden layer concatenates its K
   heads (K·F′), the output layer averages them; plus the bias. That is the node's row of
   what the PyG layer returns (before ELU); for the last layer, the logits.

Every number is recomputed here from the layer's input and parameters, not read back from
PyG; tests check each step against PyG's own forward (alpha via ``return_attention_weights``,
e_ij via :func:`gatviz.attention.raw_scores`, the layer's output row, the logits).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import GATConv, GATv2Conv

from .errors import GatvizError, node_index
from .subgraph import forward_on, rows

# PyG's softmax divides by (sum + 1e-16); the same here so alpha matches to the last bit it can
_EPS = 1e-16


@dataclass
class Steps:
    """One node, layer and head of a GAT/GATv2 forward pass, step by step.

    Rows of every per-input array follow ``sources``: the in-neighbours j of ``node`` in
    PyG's edge order, then ``node`` itself (the self-loop), so there are n = deg_i + 1 rows.
    Arrays are numpy float32 (as the model computes), on CPU; layers and heads are 0-based.

    Attributes:
        model: "gat" or "gatv2".
        node, layer, head: target i, 0-based layer, head k.
        layers, heads: layers of the model; heads K of this layer.
        concat: True in a hidden layer (heads concatenated), False in the output layer (mean).
        sources: (n,) node index j of every input; ``sources[-1] == node`` (self-loop).
        names: (n,) names of the inputs (the self-loop under the node's own name).
        is_self: (n,) bool, True on the self-loop row (the last).
        weight_shape: (H·F′, F_in) of W (GAT ``lin``) or W_l (GATv2 ``lin_l``).
        h: (n, F_in) the layer's input rows h_j (dense, also when x is sparse).
        z: (n, F′) head k of what is aggregated: W h_j (GAT) or W_l h_j (GATv2).
        z_target: (F′,) head k of the target side: W h_i (GAT, = ``z[-1]``) or W_r h_i (GATv2).
        a_src_z: (n,) a_srcᵀ z_j (GAT); None for GATv2.
        a_dst_z: a_dstᵀ z_i (GAT); None for GATv2.
        pre: what LeakyReLU is applied to. GAT: (n,) a_dstᵀ z_i + a_srcᵀ z_j.
            GATv2: (n, F′) s_ij = W_r h_i + W_l h_j.
        negative_slope: LeakyReLU's slope (``conv.negative_slope``, 0.2 by default).
        e: (n,) e_ij, the raw score before the softmax.
        exp: (n,) exp(e_ij − max_j e_ij).
        exp_sum: Σ_j exp(e_ij − max_j e_ij).
        alpha: (n,) α_ij = exp / exp_sum; sums to 1.
        head_output: (F′,) Σ_j α_ij z_j for head k.
        head_outputs: (K, F′) the same for every head of the layer.
        combined: (K·F′,) heads concatenated, or (F′,) their mean, before the bias.
        bias: same shape as ``combined`` (zeros if the layer has none).
        layer_output: combined + bias: the node's row of the PyG layer's output (before ELU).
        logits, probabilities: (C,) last layer only (= layer_output, and its softmax), else None.
        predicted: predicted class index, last layer only, else None.
        predicted_label: its class name when known (``steps_of``), else None.
    """
    model: str
    node: int
    layer: int
    head: int
    layers: int
    heads: int
    concat: bool
    sources: np.ndarray
    names: list[str]
    is_self: np.ndarray
    weight_shape: tuple[int, int]
    h: np.ndarray
    z: np.ndarray
    z_target: np.ndarray
    a_src_z: np.ndarray | None
    a_dst_z: float | None
    pre: np.ndarray
    negative_slope: float
    e: np.ndarray
    exp: np.ndarray
    exp_sum: float
    alpha: np.ndarray
    head_output: np.ndarray
    head_outputs: np.ndarray
    combined: np.ndarray
    bias: np.ndarray
    layer_output: np.ndarray
    logits: np.ndarray | None = None
    probabilities: np.ndarray | None = None
    predicted: int | None = None
    predicted_label: str | None = None

    @property
    def degree(self) -> int:
        """deg_i: in-neighbours of the node, self-loop excluded."""
        return len(self.sources) - 1

    @property
    def uniform(self) -> float:
        """1 / (deg_i + 1): every alpha if attention had no preference."""
        return 1.0 / len(self.sources)

    @property
    def self_alpha(self) -> float:
        return float(self.alpha[-1])

    @property
    def pre_norm(self) -> np.ndarray:
        """(n,) |pre|: the norm of s_ij for GATv2, |a_dstᵀz_i + a_srcᵀz_j| for GAT."""
        return np.abs(self.pre) if self.pre.ndim == 1 else np.linalg.norm(self.pre, axis=1)

    def neighbour_rank(self) -> np.ndarray:
        """(n,) rank 1..deg_i of each neighbour by alpha (1 = most attended); 0 on the self-loop."""
        rank = np.zeros(len(self.sources), dtype=int)
        order = [r for r in np.argsort(-self.alpha, kind="stable") if not self.is_self[r]]
        rank[order] = np.arange(1, len(order) + 1)
        return rank

    @property
    def self_rank(self) -> int:
        """Rank of the self-loop's alpha among all n inputs (1 = most attended)."""
        return int((self.alpha > self.alpha[-1]).sum()) + 1

    def frame(self) -> pd.DataFrame:
        """One row per input j (self-loop last): name, self, |z_j|, the score's parts, e, exp,
        alpha, rank among neighbours (0 on the self-loop). GAT: a_src_z and ``pre`` (the sum);
        GATv2: s_norm = |W_r h_i + W_l h_j|."""
        parts = ({"a_src_z": self.a_src_z, "pre": self.pre} if self.model == "gat"
                 else {"s_norm": self.pre_norm})
        return pd.DataFrame({"name": self.names, "self": self.is_self,
                             "z_norm": np.linalg.norm(self.z, axis=1), **parts, "e": self.e,
                             "exp": self.exp, "alpha": self.alpha, "rank": self.neighbour_rank()})

    def to_dict(self) -> dict:
        """JSON-ready: the keys ``explain --steps --json`` prints (layer 1-based there).

        Per-input dicts are keyed by node name; the self-loop is under the node's own name.
        """
        names = list(self.names)
        out = {"node": names[-1], "layer": self.layer + 1, "head": self.head, "model": self.model,
               "degree": self.degree, "weight_shape": list(self.weight_shape),
               "z": dict(zip(names, self.z.tolist())),
               "z_target": self.z_target.tolist()}
        if self.model == "gat":
            out["a_src_z"] = dict(zip(names, self.a_src_z.tolist()))
            out["a_dst_z"] = self.a_dst_z
        else:
            out["W_r h_i"] = self.z_target.tolist()
            out["s_norm"] = dict(zip(names, self.pre_norm.tolist()))
        ranks = self.neighbour_rank()
        out.update({
            "negative_slope": self.negative_slope,
            "e": dict(zip(names, self.e.tolist())),
            "exp": dict(zip(names, self.exp.tolist())), "exp_sum": self.exp_sum,
            "alpha": dict(zip(names, self.alpha.tolist())),
            "uniform": self.uniform,
            "self": {"alpha": self.self_alpha, "e": float(self.e[-1])}, "self_rank": self.self_rank,
            "rank": {n: int(r) for n, r, s in zip(names, ranks, self.is_self) if not s},
            "head_output": self.head_output.tolist(),
            "combine": "concat" if self.concat else "mean",
            "heads_combined": self.combined.tolist(),
            "bias": self.bias.tolist(),
            "layer_output": self.layer_output.tolist()})
        if self.logits is not None:
            out.update({"logits": self.logits.tolist(), "probabilities": self.probabilities.tolist(),
                        "predicted_class": self.predicted, "predicted_label": self.predicted_label})
        return out


def _layer_input(model, x: Tensor, loops: Tensor, node: int, layer: int, sources: Tensor) -> Tensor:
    """Rows ``sources`` of layer ``layer``'s input, as the model computes it in eval mode.

    Layer 0's input is x itself. For a later layer the model runs on the (layer + 1)-hop
    in-neighbourhood of the node only (:func:`gatviz.subgraph.forward_on`): nothing farther
    reaches the sources' rows after ``layer`` layers, so the rows are the full forward's (to
    float rounding), at a fraction of the cost on a large graph (Cora's hub: 2-hop subgraph
    instead of 2708 nodes).
    """
    if layer == 0:   # eval mode: feature dropout is the identity
        return rows(x, sources).float()
    subset, _, (_, _, inputs) = forward_on(model, x, loops, node, layer + 1, return_inputs=True)
    local = torch.full((int(x.size(0)),), -1, dtype=torch.long, device=subset.device)
    local[subset] = torch.arange(subset.numel(), device=subset.device)
    return inputs[layer][local[sources]].float()


def _np(t: Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy()


@torch.no_grad()
def steps(model, x: Tensor, edge_index: Tensor, node: int, layer: int, head: int,
          names: list[str] | None = None) -> Steps:
    """Replay the four steps for target ``node`` in ``layer`` (0-based), ``head``.

    Args:
        model: a :class:`gatviz.model.GAT`; run in eval mode (its mode is restored).
        x: (N, F_in) features, dense or sparse CSR, on the model's device.
        edge_index: (2, E) source -> target, with or without self-loops.
        node: target index i; layer: 0-based; head: 0 <= head < K of that layer.
        names: N node names (default: the indices as strings).

    Returns:
        :class:`Steps`; its alpha, e, layer_output and logits equal PyG's own forward.
    """
    n_nodes, convs = int(x.size(0)), model.convs
    node = node_index(node, n_nodes)
    if not 0 <= layer < len(convs):
        raise GatvizError(f"layer index (0 = the first layer) must be from 0 to {len(convs) - 1}, not {layer}")
    conv = convs[layer]
    if not isinstance(conv, (GATConv, GATv2Conv)):   # e.g. the GCN baseline
        raise GatvizError(f"a {type(conv).__name__} layer has no attention to explain")
    H, C = conv.heads, conv.out_channels
    if not (isinstance(head, (int, np.integer)) and 0 <= head < H):
        raise GatvizError(f"head must be from 0 to {H - 1} in this layer, not {head!r}")
    if getattr(conv, "res", None) is not None or getattr(conv, "lin_edge", None) is not None:
        raise TypeError("residual and edge-feature GAT layers are not replayed")

    # the inputs of node i in the order PyG sees them: non-loop edges in order, self-loop last
    loops = model.with_self_loops(edge_index, n_nodes)
    sources = loops[0][loops[1] == node]
    assert int(sources[-1]) == node and not bool((sources[:-1] == node).any())
    h = _layer_input(model, x, loops, node, layer, sources)   # (n, F_in)
    slope = float(conv.negative_slope)

    if isinstance(conv, GATConv):
        weight = conv.lin.weight
        z = conv.lin(h).view(-1, H, C)                   # (n, H, F')
        z_i = z[-1]                                       # self-loop row: W h_i, (H, F')
        a_src = (z * conv.att_src).sum(-1)                # (n, H)
        a_dst = (z_i * conv.att_dst[0]).sum(-1)           # (H,)
        pre = a_src + a_dst                               # (n, H)
        e = F.leaky_relu(pre, slope)
    else:
        weight = conv.lin_l.weight
        z = conv.lin_l(h).view(-1, H, C)                  # W_l h_j: the message
        z_i = z[-1] if conv.share_weights else conv.lin_r(h[-1:]).view(H, C)   # W_r h_i
        pre = z + z_i                                     # s_ij, (n, H, F')
        e = (F.leaky_relu(pre, slope) * conv.att).sum(-1)  # a · LeakyReLU(s_ij), (n, H)
        a_src = a_dst = None

    ex = torch.exp(e - e.max(dim=0).values)              # (n, H)
    total = ex.sum(dim=0)
    alpha = ex / (total + _EPS)
    outs = (alpha.unsqueeze(-1) * z).sum(dim=0)           # (H, F')
    combined = outs.reshape(-1) if conv.concat else outs.mean(dim=0)
    bias = conv.bias if conv.bias is not None else torch.zeros_like(combined)
    out = combined + bias

    last = layer == len(convs) - 1
    names = [str(j) for j in range(n_nodes)] if names is None else names
    src_list, k = sources.cpu().numpy(), head
    return Steps(
        model="gat" if isinstance(conv, GATConv) else "gatv2", node=node, layer=layer, head=k,
        layers=len(convs), heads=H, concat=bool(conv.concat), sources=src_list,
        names=[names[j] for j in src_list], is_self=src_list == node,
        weight_shape=tuple(weight.shape), h=_np(h), z=_np(z[:, k]), z_target=_np(z_i[k]),
        a_src_z=None if a_src is None else _np(a_src[:, k]),
        a_dst_z=None if a_dst is None else float(a_dst[k]),
        pre=_np(pre[:, k]), negative_slope=slope, e=_np(e[:, k]), exp=_np(ex[:, k]),
        exp_sum=float(total[k]), alpha=_np(alpha[:, k]), head_output=_np(outs[k]),
        head_outputs=_np(outs), combined=_np(combined), bias=_np(bias), layer_output=_np(out),
        logits=_np(out) if last else None,
        probabilities=_np(torch.softmax(out, dim=0)) if last else None,
        predicted=int(out.argmax()) if last else None)


def steps_of(trainer, node: int | str, layer: int, head: int) -> Steps:
    """:func:`steps` for a :class:`gatviz.training.Trainer`'s model and graph.

    ``node`` is an index, or a name (a str) looked up in the graph; layer is 0-based.
    """
    graph = trainer.graph
    index = graph.index(node) if isinstance(node, str) else int(node)
    result = steps(trainer.model, trainer.x, trainer.edge_index, index, layer, head, graph.names)
    if result.predicted is not None and result.predicted < len(graph.class_names):
        result.predicted_label = graph.class_names[result.predicted]
    return result
