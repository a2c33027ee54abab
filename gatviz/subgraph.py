r"""Exact numbers for one node on a graph of any size, computed on its receptive field only.

A GAT of L layers computes node i's output from its L-hop *in*-neighbourhood and nothing
else (PyG flows source -> target: ``edge_index[0]`` is the neighbour j, ``edge_index[1]``
the node i that attends). So does every number of the view: α_ij of layer l (0-based)
depends on the layer's input at i and at its in-neighbours j, which is the l-layer output
there, which reads l more hops. For a target t at distance d from the node, α_tj of
layer l is therefore exact on the k-hop subgraph as soon as d + 1 + l <= k. Every layer's
α into every node within ``hops - 1`` of the node is exact on the (L + hops - 1)-hop
subgraph; for ``hops = 1`` that is PyG's ``k_hop_subgraph(i, L)``.

The subgraph is the *full* in-neighbourhood (no sampling), taken with PyG's
``k_hop_subgraph(..., relabel_nodes=True, flow="source_to_target")``; the model runs on it
in eval mode. Results are mapped back to global node ids. On a million-node graph this is
what makes any node's view exact without a forward over the whole graph.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor
from torch_geometric.utils import k_hop_subgraph

from . import attention
from .errors import GatvizError, node_index


def rows(x: Tensor, index: Tensor) -> Tensor:
    """Dense rows ``index`` of x (N, F); a sparse CSR x has no index_select, its COO view has."""
    if x.layout == torch.sparse_csr:
        return x.to_sparse_coo().index_select(0, index).to_dense()
    return x.index_select(0, index)


def field(nodes, hops: int, edge_index: Tensor, num_nodes: int) -> tuple[Tensor, Tensor, Tensor]:
    """The ``hops``-hop in-neighbourhood of ``nodes``, relabelled.

    Args:
        nodes: a node index or a 1-D tensor/list of them (global ids).
        hops: 0 gives the nodes themselves.
        edge_index: (2, E) source -> target, global ids.

    Returns:
        subset (n,) global id of every local node (sorted), sub_edges (2, E_sub) between them
        in local ids (the original edge order kept), mapping: the local ids of ``nodes``.
    """
    nodes = torch.as_tensor(nodes, dtype=torch.long, device=edge_index.device).reshape(-1)
    if hops == 0:   # k_hop_subgraph needs at least one hop
        subset, mapping = torch.unique(nodes, return_inverse=True)
        return subset, edge_index.new_empty((2, 0)), mapping
    subset, sub_edges, mapping, _ = k_hop_subgraph(nodes, hops, edge_index, relabel_nodes=True,
                                                   num_nodes=num_nodes, flow="source_to_target")
    return subset, sub_edges, mapping


@contextmanager
def evaluating(model):
    """eval() for the block (dropout would perturb h and α); afterwards the model's mode and
    its cached self-loop index for the full graph are as they were (a subgraph forward must not
    evict them)."""
    was_training, cached = model.training, getattr(model, "_loops", None)
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)
        model._loops = cached


@torch.no_grad()
def forward_on(model, x: Tensor, edge_index: Tensor, nodes, hops: int, **kwargs):
    """The model's eval-mode forward on the ``hops``-hop in-neighbourhood of ``nodes``.

    With ``hops`` = the model's layer count, the outputs at ``nodes`` equal the full graph's
    (to float rounding); ``kwargs`` go to ``model.forward`` (``return_inputs``, ...).

    Returns:
        subset (n,) global ids, mapping (local ids of ``nodes``), and what the model returns.
    """
    subset, sub_edges, mapping = field(nodes, hops, edge_index, int(x.size(0)))
    with evaluating(model):
        out = model(rows(x, subset), sub_edges, **kwargs)
    return subset, mapping, out


@dataclass
class LocalAttention:
    """α and e_ij around one node, exact, in global node ids.

    Attributes:
        node: the centre i (global id); hops: the view radius it was computed for.
        exact: (m,) global ids of the nodes within ``hops - 1`` of the centre: every edge into
            them, self-loop included, is in ``table``, every layer and head, exactly as the
            full graph's forward gives it. ``exact[0]`` need not be the centre.
        table: AttentionTable over those edges only; ``edge_index`` holds global ids and
            ``num_nodes`` is the whole graph's N, so ``table.incoming(t)`` works for t in exact.
        logits: (m, C) eval-mode logits of the ``exact`` nodes (exact too).
        subgraph_nodes: how many nodes the forward ran on.
    """
    node: int
    hops: int
    exact: Tensor
    table: attention.AttentionTable
    logits: Tensor
    subgraph_nodes: int


def _model_inputs(source, x, edge_index):
    """(model, x, edge_index) from a Trainer (x and edge_index may be None) or a model."""
    if hasattr(source, "model") and hasattr(source, "edge_index"):
        return source.model, source.x if x is None else x, source.edge_index if edge_index is None else edge_index
    if x is None or edge_index is None:
        raise TypeError("a model needs x and edge_index")
    return source, x, edge_index


def local_attention(source, x: Tensor | None, edge_index: Tensor | None, node: int, hops: int = 1,
                    epoch: int | None = None, scores: bool = True) -> LocalAttention:
    """What :func:`gatviz.attention.extract` gives for the edges into ``node`` (and, with
    ``hops`` > 1, into every node within ``hops - 1`` of it), computed on the node's
    (L + hops - 1)-hop in-neighbourhood instead of the whole graph. Exact, on any graph size.

    Args:
        source: a :class:`gatviz.training.Trainer` (x and edge_index default to its own) or a
            :class:`gatviz.model.GAT` (then give x (N, F_in) and edge_index (2, E), source -> target).
        node: the centre i, a global index.
        hops: the view's radius (1 or 2 in the view); 1: the edges into i only.
        epoch: stamped on the table (default: the Trainer's epoch, else 0).

    Returns:
        :class:`LocalAttention`; its table's α sums to 1 per (layer, head, target).
    """
    model, x, edge_index = _model_inputs(source, x, edge_index)
    n = int(x.size(0))
    node = node_index(node, n)
    if int(hops) < 1:   # 0 hops would compute on too small a field: numbers that are not exact
        raise GatvizError(f"hops must be at least 1, not {hops}")
    if epoch is None:
        epoch = int(getattr(source, "epoch", 0))
    layers = len(model.convs)
    subset, sub_edges, _ = field(int(node), layers + hops - 1, edge_index, n)
    exact, _, _ = field(int(node), hops - 1, edge_index, n)
    with evaluating(model):   # extract restores the mode; the cached self-loops are ours to keep
        logits, local = attention.extract(model, rows(x, subset), sub_edges, epoch, scores=scores)
    where = torch.full((n,), -1, dtype=torch.long)
    where[subset.cpu()] = torch.arange(subset.numel())
    keep = torch.isin(local.edge_index[1], where[exact.cpu()])
    table = attention.AttentionTable(
        subset.cpu()[local.edge_index[:, keep]], [a[keep] for a in local.alpha],
        None if local.score is None else [s[keep] for s in local.score], num_nodes=n, epoch=epoch)
    return LocalAttention(int(node), hops, exact.cpu(), table,
                          logits[where[exact.cpu()].to(logits.device)].cpu(), int(subset.numel()))


@torch.no_grad()
def predict(source, nodes, x: Tensor | None = None, edge_index: Tensor | None = None) -> Tensor:
    """Eval-mode predicted class of ``nodes`` (global ids), from their L-hop neighbourhood only.

    Returns:
        (len(nodes),) long, on CPU, in the order given; equal to the full graph's argmax.
    """
    model, x, edge_index = _model_inputs(source, x, edge_index)
    nodes = [node_index(v, int(x.size(0))) for v in nodes]
    _, mapping, logits = forward_on(model, x, edge_index, nodes, len(model.convs))
    return logits[mapping].argmax(dim=1).cpu()
