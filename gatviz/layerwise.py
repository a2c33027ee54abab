r"""Exact eval-mode inference one layer at a time, for graphs too big for one full-graph pass.

A full-graph eval pass of a GAT holds every layer's per-edge tensors at once (α, e_ij and the
messages α_ij z_j: |E'| × H × C floats per layer). PyG's usual answer for big graphs
(``inference`` in its GraphSAGE/GAT examples) is to run layer l for every node, in batches of
target nodes, each batch with its *full* in-neighbourhood (no sampling), and only then layer
l + 1 from those outputs. Only one batch's edges are in flight, and every number is the one
the full pass gives: layer l at node i reads only h^{l}_j for j in N(i) ∪ {i}.

Per layer l and batch T of targets (a range of node ids):

    edges  = the in-edges of T, self-loops included (edge_index[1] in T; source -> target)
    U      = T ∪ sources(edges), relabelled 0..|U|-1
    h'_T   = conv_l(h_U, edges)[T]              (α_ij, e_ij of those edges come with it)
    h^{l+1} = ELU(h'), except after the output layer (eval mode: no dropout)

:func:`gatviz.attention.extract` hands over to :func:`extract` past
``limits.LAYERWISE_EVAL_EDGES`` message-passing edges (self-loops included), which in
practice means graphs trained in mini-batches; the result is the same (logits, AttentionTable).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from . import limits


def wanted(x: Tensor, edge_index: Tensor) -> bool:
    """Layer by layer for this graph? Past LAYERWISE_EVAL_EDGES edges (+ one self-loop per node)."""
    return edge_index.size(1) + x.size(0) > limits.LAYERWISE_EVAL_EDGES


def _rows(x: Tensor, index: Tensor) -> Tensor:
    """Dense rows ``index`` of x (a sparse CSR x has no index_select; its COO view has)."""
    if x.layout == torch.sparse_csr:
        return x.to_sparse_coo().index_select(0, index).to_dense()
    return x.index_select(0, index)


@torch.no_grad()
def extract(model, x: Tensor, edge_index: Tensor, epoch: int = 0, scores: bool = True,
            batch_nodes: int | None = None):
    """:func:`gatviz.attention.extract`, computed one layer at a time over batches of targets.

    Args:
        model: a :class:`gatviz.model.GAT` with attention.
        x: (N, F_in) dense or sparse CSR; edge_index: (2, E) source -> target.
        batch_nodes: targets per batch (default ``limits.LAYERWISE_BATCH_NODES``).

    Returns:
        logits (N, C) and the AttentionTable over the model's edge index with self-loops
        (2, E'), alpha and e_ij (E', H_l) per layer, on CPU: what the full pass gives.
    """
    from .attention import AttentionTable, _score_from_edge_update
    batch_nodes = batch_nodes or limits.LAYERWISE_BATCH_NODES
    n = x.size(0)
    loop_index = model.with_self_loops(edge_index, n)          # (2, E'), loops appended
    target = loop_index[1]
    order = torch.argsort(target, stable=True)                  # edges grouped by target
    ptr = torch.zeros(n + 1, dtype=torch.long, device=target.device)
    ptr[1:] = torch.cumsum(torch.bincount(target, minlength=n), 0)
    was_training = model.training
    model.eval()
    alphas, score_list, h = [], [], x
    try:
        for layer, conv in enumerate(model.convs):
            heads = conv.heads
            alpha = torch.empty(loop_index.size(1), heads)
            score = torch.empty(loop_index.size(1), heads) if scores else None
            out = None
            for start in range(0, n, batch_nodes):
                stop = min(start + batch_nodes, n)
                ids = order[ptr[start]:ptr[stop]]                     # in-edges of targets start..stop-1
                sub = loop_index[:, ids]
                nodes = torch.arange(start, stop, device=target.device)
                # U: the targets and their sources, relabelled; at[k]: local id of target start + k
                union, inverse = torch.unique(torch.cat([nodes, sub[0]]), return_inverse=True)
                at = inverse[:nodes.numel()]
                local_edges = torch.stack([inverse[nodes.numel():], at[sub[1] - start]])
                seen: list[Tensor] = []
                hook = conv.register_edge_update_forward_pre_hook(
                    lambda c, inputs: seen.append(_score_from_edge_update(c, *inputs))) if scores else None
                try:
                    y, (_, a) = conv(_rows(h, union), local_edges, return_attention_weights=True)
                finally:
                    if hook is not None:
                        hook.remove()
                if out is None:
                    out = torch.empty(n, y.size(1), dtype=y.dtype, device=y.device)
                out[start:stop] = y[at]
                alpha[ids.cpu()] = a.float().cpu()
                if scores:
                    score[ids.cpu()] = seen[0].float().cpu()
            alphas.append(alpha)
            score_list.append(score)
            h = F.elu(out) if layer < len(model.convs) - 1 else out
    finally:
        model.train(was_training)
    table = AttentionTable(loop_index.cpu(), alphas, score_list if scores else None, num_nodes=n, epoch=epoch)
    return h, table
