r"""Edit and compare: remove or add edges and re-run the trained model (no retraining).

The edited graph keeps every node, feature and weight; only ``edge_index`` changes, and the
model runs on it in eval mode. In an undirected graph an edge is removed or added in both
directions (people count it once, as their file does); in a directed one, only SRC -> DST.

In the first GAT layer alpha_ij depends only on the input features of i and j, so removing
k from N(i) re-normalises the rest exactly:

.. math::
    \alpha'_{ij} = \frac{\exp e_{ij}}{\sum_{j' \ne k} \exp e_{ij'}} = \frac{\alpha_{ij}}{1 - \alpha_{ik}}

(tested; GATv2's first layer too, its e_ij also depending on i and j alone). Later layers
change more, since their inputs change too.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from . import attention
from .attention import AttentionTable
from .errors import GatvizError, node_index
from .heads import no_attention_check


@dataclass
class EditResult:
    """Before/after of one edit, for target node ``node``.

    Attributes:
        removed, added: directed edges (j, i) taken out / put in.
        before, after: the attention tables (edge orders differ: compare by node pairs).
        probs_before, probs_after: (C,) class probabilities of ``node``.
    """
    node: int
    removed: list[tuple[int, int]]
    added: list[tuple[int, int]]
    before: AttentionTable
    after: AttentionTable
    probs_before: np.ndarray
    probs_after: np.ndarray

    @property
    def pred_before(self) -> int:
        return int(self.probs_before.argmax())

    @property
    def pred_after(self) -> int:
        return int(self.probs_after.argmax())

    def alpha(self, layer: int, head="mean", names: list[str] | None = None) -> pd.DataFrame:
        """alpha of ``node``'s inputs before and after (NaN where the edge is absent), one row per
        source: ``source, name, before, after, change``; self-loop included."""
        rows = {}
        for key, att in (("before", self.before), ("after", self.after)):
            edges = att.incoming(self.node)
            sources = att.edge_index[0].numpy()[edges]
            for j, a in zip(sources, att.weights(layer, head)[edges]):
                rows.setdefault(int(j), {})[key] = float(a)
        frame = pd.DataFrame([{"source": j, "before": r.get("before", np.nan), "after": r.get("after", np.nan)}
                              for j, r in rows.items()])
        frame["change"] = frame["after"] - frame["before"]
        frame.insert(1, "name", [names[j] for j in frame["source"]] if names else frame["source"].astype(str))
        return frame.sort_values(["before", "source"], ascending=[False, True], na_position="last",
                                 kind="stable").reset_index(drop=True)


def edited_edge_index(graph, drop=(), add=()) -> tuple[torch.Tensor, list, list]:
    """The graph's edge_index (2, E) with ``drop`` removed and ``add`` appended.

    Args:
        drop, add: (source, target) node index pairs; both directions in an undirected graph.

    Returns:
        (edge_index, removed directed pairs, added directed pairs).
    """
    ei = graph.data.edge_index
    n = graph.num_nodes
    for pair in [*drop, *add]:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise GatvizError(f"an edge is a (source, target) pair of node indices, not {pair!r}")
    drop = [(node_index(s, n), node_index(d, n)) for s, d in drop]
    add = [(node_index(s, n), node_index(d, n)) for s, d in add]
    both = not graph.report.directed
    existing = set(zip(ei[0].tolist(), ei[1].tolist()))
    removed, added = [], []
    for s, d in drop:
        pairs = [(s, d), (d, s)] if both else [(s, d)]
        if (s, d) not in existing:
            raise GatvizError(f"there is no edge {graph.names[s]!r} -> {graph.names[d]!r} to remove")
        removed += [p for p in pairs if p in existing and p not in removed]
    for s, d in add:
        if s == d:
            raise GatvizError(f"cannot add a self-loop at {graph.names[s]!r}: every node already has one")
        if (s, d) in existing and (s, d) not in removed:
            raise GatvizError(f"the edge {graph.names[s]!r} -> {graph.names[d]!r} is already there")
        added += [p for p in ([(s, d), (d, s)] if both else [(s, d)]) if p not in added]
    keep = torch.ones(ei.size(1), dtype=torch.bool)
    if removed:
        code = ei[0] * n + ei[1]
        keep = ~torch.isin(code, torch.tensor([s * n + d for s, d in removed]))
    new = torch.tensor(added, dtype=torch.long).t().reshape(2, -1)
    return torch.cat([ei[:, keep], new], dim=1), removed, added


def edit(trainer, node: int, drop=(), add=()) -> EditResult:
    """Re-run the trained model with edges removed/added; the node's alpha and prediction before/after.

    Args:
        node: the target whose attention and prediction are compared.
        drop, add: (source, target) node index pairs.
    """
    no_attention_check(trainer)
    node = node_index(node, trainer.graph.num_nodes)
    if not drop and not add:
        raise GatvizError("name at least one edge to remove or add")
    edge_index, removed, added = edited_edge_index(trainer.graph, drop, add)
    before = trainer.attention()
    logits, after = attention.extract(trainer.model, trainer.x, edge_index.to(trainer.device),
                                      trainer.epoch)
    return EditResult(node, removed, added, before, after,
                      trainer.logits()[node].softmax(-1).cpu().numpy().astype(np.float64),
                      logits[node].softmax(-1).cpu().numpy().astype(np.float64))
