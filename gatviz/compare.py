r"""Layers and models compared: attention rollout, GAT vs GATv2 vs GCN.

**Rollout.** With :math:`A_l` the (N, N) attention matrix of layer l, :math:`A_l[i, j] =
\alpha^{(l)}_{ij}` over j ∈ N(i) ∪ {i} (self-loops included; the head mean or one chosen head
per layer), row i of :math:`A_L \cdots A_1` says how much of each source node's input reaches
node i through the attention weights. Every :math:`A_l` is row-stochastic, so the row sums to 1.
It is computed for one node by propagating the one-hot row vector :math:`e_i^\top` backwards
through the layers, :math:`v \leftarrow v A_l` for l = L..1, each a sparse product
(``scipy.sparse``): O(L·|E|), no N×N matrix.

**Models.** :func:`train_models` trains GAT, GATv2 and the GCN baseline (PyG ``GCNConv``, same
depth and hidden width) on the same graph, split and seed. GCN weighs edge j -> i by the fixed
:math:`1/\sqrt{\hat d_i \hat d_j}` (degrees counting the self-loop, PyG's ``gcn_norm``); those
are :func:`gcn_weights`, shaped like attention for the view, but learned from nothing and not
summing to 1. :func:`kendall` compares two models' alpha over one node's inputs.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from scipy.stats import kendalltau
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import add_self_loops, remove_self_loops

from .attention import AttentionTable, _check_layer_head
from .config import RunConfig
from .errors import GatvizError, node_index
from .graphs import Graph
from .training import Trainer

COMPARED = ("gat", "gatv2", "gcn")


def _matrix(att: AttentionTable, layer: int, head) -> sp.csr_matrix:
    """A_l (N, N), rows = targets i, columns = sources j."""
    src, dst = att.edge_index.numpy()
    return sp.csr_matrix((att.weights(layer, head).astype(np.float64), (dst, src)),
                         shape=(att.num_nodes, att.num_nodes))


def rollout(att: AttentionTable, node: int, heads="mean") -> np.ndarray:
    """Row ``node`` of A_L · … · A_1, (N,): the share of each source node's input in ``node``.

    Args:
        att: alpha per layer over edge_index (2, E') with self-loops.
        node: target i.
        heads: "mean" (head mean in every layer), or one head index / "mean" per layer.

    Returns:
        (N,) float64, non-negative, summing to 1; non-zero only within L hops of ``node``.
    """
    node = node_index(node, att.num_nodes)
    if isinstance(heads, str):
        per_layer = [heads] * att.layers
    elif isinstance(heads, (list, tuple)):
        per_layer = list(heads)
    else:
        raise GatvizError(f"heads must be 'mean' or one head index / 'mean' per layer, not {heads!r}")
    if len(per_layer) != att.layers:
        raise GatvizError(f"give one head per layer ({att.layers}), not {len(per_layer)}")
    v = np.zeros(att.num_nodes)
    v[node] = 1.0
    for layer in reversed(range(att.layers)):
        _check_layer_head(att, layer, per_layer[layer])
        v = _matrix(att, layer, per_layer[layer]).T @ v     # v <- v A_l
    return v


def rollout_named(att: AttentionTable, node: int, names: list[str], heads="mean") -> dict[str, float]:
    """:func:`rollout` as ``{source name: weight}``, highest first, zeros left out."""
    v = rollout(att, node, heads)
    nz = np.flatnonzero(v)
    nz = nz[np.lexsort((nz, -v[nz]))]
    return {names[j]: float(v[j]) for j in nz}


def gcn_weights(graph: Graph, layers: int = 2) -> AttentionTable:
    """GCN's fixed edge weights 1/sqrt(d̂_i d̂_j) (d̂ counts the self-loop), as a 1-head table.

    Same edge order as the GAT layers' (self-loops appended at the end), the same weights in
    every layer. Rows do not sum to 1: this is a symmetric normalisation, not a softmax.
    """
    n = graph.num_nodes
    loops, _ = add_self_loops(remove_self_loops(graph.data.edge_index)[0], num_nodes=n)
    loops, weight = gcn_norm(loops, None, n, add_self_loops=False)
    return AttentionTable(loops, [weight.float().unsqueeze(1)] * layers, None, n)


def kendall(first: AttentionTable, second: AttentionTable, node: int, layer: int,
            head="mean") -> float | None:
    """Kendall's τ between two models' alpha over ``node``'s inputs (self-loop included).

    None when there are fewer than two inputs or one side is constant.
    """
    if not torch.equal(first.edge_index, second.edge_index):
        raise GatvizError("the two models were trained on different graphs")
    _check_layer_head(first, layer, head)
    _check_layer_head(second, layer, head)
    edges = first.incoming(node)
    a, b = first.weights(layer, head)[edges], second.weights(layer, head)[edges]
    if len(edges) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(kendalltau(a, b).statistic)


def train_models(graph: Graph, config: RunConfig, models=COMPARED, epochs: int | None = None
                 ) -> dict[str, Trainer]:
    """Train each model on the same graph, split and seed (the settings of ``config``).

    Returns:
        {model: Trainer}; each trainer's ``history`` holds its per-epoch loss and accuracies
        (see :func:`histories`).
    """
    trainers = {}
    for model in models:
        trainer = Trainer(graph, config.replace(model=model))
        trainer.step(config.epochs if epochs is None else epochs)
        trainers[model] = trainer
    return trainers


def histories(trainers: dict[str, Trainer]) -> pd.DataFrame:
    """Long table ``model, epoch, loss, train_acc, val_acc, test_acc`` for curves side by side."""
    return pd.DataFrame([{"model": name, **{k: row[k] for k in
                                             ("epoch", "loss", "train_acc", "val_acc", "test_acc")}}
                         for name, t in trainers.items() for row in t.history])
