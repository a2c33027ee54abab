r"""Synthetic graphs built to make a point about attention.

``dictionary``: the DictionaryLookup task of the GATv2 paper (Brody, Alon,
Yahav, "How Attentive are Graph Attention Networks?", ICLR 2022). It needs
*dynamic* attention: each query must rank the same keys differently.

One instance has k key nodes and k query nodes. Key a holds the pair
(attribute a, value π(a)) for a random permutation π of 0..k-1; query a holds
only attribute a and must output π(a), the value of the key with its
attribute. Every key has an edge to every query of its instance (directed,
key j -> query i, so a query attends over the k keys plus its own self-loop;
keys receive nothing but their self-loop). GAT's score
e_ij = LeakyReLU(a_dst·z_i + a_src·z_j) is monotone in a_src·z_j, so every
query ranks the keys the same way and cannot pick its own one; GATv2's
e_ij = a·LeakyReLU(W_r h_i + W_l h_j) can.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Data

from . import limits
from .errors import GatvizError
from .graphs import TRAIN_FRACTION, VAL_FRACTION, Graph, Report

DICT_INSTANCES = 400   # as in the paper-like setting measured in DESIGN.md


def dictionary(k: int = 10, instances: int = DICT_INSTANCES, seed: int = 0) -> Graph:
    r"""``instances`` seeded DictionaryLookup instances in one disconnected, directed graph.

    Node order: instance by instance, its k keys (attribute 0..k-1) then its k
    queries (attribute 0..k-1). Names read in a view: ``#12 key a3=v7`` (instance
    12, attribute 3, value 7) and ``#12 query a3``.

    Features x (N, 2k): one-hot attribute ‖ one-hot value for a key, one-hot
    attribute ‖ zeros for a query (a linear W on this is the paper's attribute
    embedding plus value embedding, with "no value" embedded as 0).

    Edges (2, instances·k²): source = key j, target = query i of the same
    instance, every pair; no other edges (the GAT layers add self-loops).

    Labels y (N,): the value π(a) for both a key and the query with attribute a
    (class names ``value 0..k-1``). The split is by instance (seeded 60/20/20):
    only query nodes are in the masks, keys are in none.
    """
    limits.check("dict_size", k)
    if isinstance(instances, bool) or not isinstance(instances, int) or instances < 3:
        raise GatvizError(f"the dictionary needs at least 3 instances (train, val, test), not {instances!r}")
    if instances * k * k > limits.MAX_EDGES or instances * 2 * k > limits.MAX_NODES:
        subject = f"the dictionary (dict_size {k}, {instances:,} instances)"
        if instances * k * k > limits.MAX_EDGES:
            raise limits.over(subject, instances * k * k, "edges", "MAX_EDGES")
        raise limits.over(subject, instances * 2 * k, "nodes", "MAX_NODES")
    rng = np.random.default_rng(seed)
    values = np.stack([rng.permutation(k) for _ in range(instances)])   # (instances, k): π per instance
    per = 2 * k
    base = np.arange(instances)[:, None] * per                        # first node of each instance
    attr = np.arange(k)

    # x: keys [e_a ‖ e_π(a)], queries [e_a ‖ 0]
    x = np.zeros((instances, per, 2 * k), dtype=np.float32)
    x[:, :k, :k] = np.eye(k, dtype=np.float32)
    x[:, k:, :k] = np.eye(k, dtype=np.float32)
    x[np.arange(instances)[:, None], attr, k + values] = 1.0
    y = np.concatenate([values, values], axis=1)                     # key and query of attribute a

    # every key -> every query of its instance
    src = (base[:, :, None] + attr[None, :, None]).repeat(k, axis=2)        # key j
    dst = (base[:, None, :] + k + attr[None, None, :]).repeat(k, axis=1)    # query i
    edge_index = torch.from_numpy(np.stack([src.ravel(), dst.ravel()]).astype(np.int64))

    # split by instance: a whole instance is train, val or test
    order = rng.permutation(instances)
    n_train = max(1, round(TRAIN_FRACTION * instances))
    n_val = max(1, round(VAL_FRACTION * instances))
    part = np.empty(instances, dtype=np.int64)
    part[order[:n_train]], part[order[n_train:n_train + n_val]], part[order[n_train + n_val:]] = 0, 1, 2
    is_query = np.tile(np.arange(per) >= k, instances)
    node_part = np.repeat(part, per)
    masks = [torch.from_numpy(is_query & (node_part == p)) for p in range(3)]

    names: list[str] = []
    for n in range(instances):
        names += [f"#{n} key a{a}=v{values[n, a]}" for a in attr]
        names += [f"#{n} query a{a}" for a in attr]

    data = Data(x=torch.from_numpy(x.reshape(-1, 2 * k)), edge_index=edge_index,
                y=torch.from_numpy(y.reshape(-1)), num_nodes=instances * per,
                train_mask=masks[0], val_mask=masks[1], test_mask=masks[2])
    data.key_of = torch.from_numpy(matching_keys(k, instances))
    counts = [int(m.sum()) for m in masks]
    report = Report(
        f"DictionaryLookup (GATv2 paper, Brody et al. 2022), k = {k}, {instances:,} instances, seed {seed}",
        nodes=instances * per, edges=int(edge_index.size(1)), directed=True,
        labels=(f"a query's value (0..{k - 1}): that of the key with the query's attribute, one of "
                f"the {k} keys of its instance, each with a directed edge key -> query"),
        features=f"one-hot attribute ‖ one-hot value ({2 * k} columns; a query's value part is 0)",
        split=(f"by instance (seed {seed}): {n_train:,} / {n_val:,} / {instances - n_train - n_val:,} "
               f"instances; only queries are classified: {counts[0]:,} train / {counts[1]:,} val / "
               f"{counts[2]:,} test queries, {instances * k:,} keys in no split"))
    return Graph("dictionary", data, names, [f"value {v}" for v in range(k)], report)


def matching_keys(k: int, instances: int) -> np.ndarray:
    """(N,) index of the key a query must find (same instance, same attribute); -1 for keys."""
    per = 2 * k
    key_of = np.full(instances * per, -1, dtype=np.int64)
    queries = (np.arange(instances)[:, None] * per + k + np.arange(k)).ravel()
    key_of[queries] = queries - k
    return key_of


def dictionary_match(graph: Graph, att, layer: int, head: int | str = "mean") -> pd.DataFrame:
    """How much each query's attention lands on its matching key, in one layer and head.

    Args:
        graph: a ``dictionary`` graph (its ``data.key_of`` names each query's key).
        att: an :class:`~gatviz.attention.AttentionTable` of a model trained on it;
            alpha over edges key j -> query i plus self-loops, summing to 1 per query.
        layer: 0-based layer.
        head: head index, or "mean" for the mean over heads.

    Returns:
        One row per query node i (index = node index): ``name``, ``match`` (alpha on the
        matching key), ``best_other`` (largest alpha on any other input, the self-loop
        included), ``top`` (the matching key has the largest alpha), ``top_key`` (node
        index of the key with the largest alpha among the keys), ``uniform`` (1 / (k + 1)).
        GAT's ranking of the keys is the same for every query of an instance, so its
        ``top_key`` is the same for all of them; GATv2's can differ per query.
    """
    key_of = getattr(graph.data, "key_of", None)
    if key_of is None:
        raise GatvizError(f"{graph.name!r} is not a dictionary graph: it has no matching keys")
    key_of = key_of.numpy()
    w = att.weights(layer, head)
    src, dst = att.edge_index.numpy()
    into_query = key_of[dst] >= 0
    hit = into_query & (src == key_of[dst])
    match = np.zeros(graph.num_nodes)
    np.add.at(match, dst[hit], w[hit])
    other = np.full(graph.num_nodes, -np.inf)
    miss = into_query & ~hit
    np.maximum.at(other, dst[miss], w[miss])
    from_key = into_query & (src != dst)
    order = np.lexsort((-w[from_key], dst[from_key]))      # per query, highest alpha first
    first = np.unique(dst[from_key][order], return_index=True)[1]
    top_key = np.full(graph.num_nodes, -1)
    top_key[dst[from_key][order][first]] = src[from_key][order][first]
    queries = np.flatnonzero(key_of >= 0)
    k = graph.num_classes
    return pd.DataFrame({"name": [graph.names[i] for i in queries], "match": match[queries],
                         "best_other": other[queries], "top": match[queries] > other[queries],
                         "top_key": top_key[queries], "uniform": 1.0 / (k + 1)},
                        index=pd.Index(queries, name="node"))
