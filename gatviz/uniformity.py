"""How far each head's attention departs from uniform, in numbers and in one line.

Uniform attention gives each of target i's deg_i + 1 inputs 1/(deg_i + 1). Per layer and
head, over every node with at least one neighbour:

- normalised entropy H(alpha_i) / log(deg_i + 1): 1 for uniform, 0 for all weight on one
  input (its median over nodes is the head's headline number);
- where the graph has labels: the share of alpha_i on same-class neighbours (self-loop
  excluded), against the share uniform attention would give them, both averaged over nodes.

Trained GAT attention on karate and Cora stays close to uniform (median normalised
entropy ~0.95-1.0); the ``dictionary`` task is where a head must select one input.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .attention import AttentionTable
from .timeline import normalised_entropy

CLOSE = 0.95        # median normalised entropy at or above: "close to uniform"
SELECTIVE = 0.80    # below: "selective"; in between: "mildly selective"


def head_summary(att: AttentionTable, labels: np.ndarray | None = None) -> pd.DataFrame:
    """One row per (layer, head): ``layer`` (0-based), ``head``, ``median_entropy``,
    ``same_class`` and ``same_class_uniform`` (NaN without labels), ``nodes`` (targets with
    a neighbour) and ``verdict`` (one line, layers numbered from 1)."""
    src, dst = att.edge_index.numpy()
    inputs = np.bincount(dst, minlength=att.num_nodes)              # deg_i + 1
    has_neighbour = inputs > 1
    same = None
    if labels is not None:
        same = (labels[src] == labels[dst]) & (src != dst)
        uniform_same = np.bincount(dst, weights=same / inputs[dst], minlength=att.num_nodes)
    rows = []
    for layer in range(att.layers):
        entropy = normalised_entropy(att, layer)                      # (N, H), NaN without neighbours
        alpha = att.alpha[layer].numpy().astype(np.float64)
        for head in range(alpha.shape[1]):
            row = {"layer": layer, "head": head, "nodes": int(has_neighbour.sum()),
                   "median_entropy": float(np.nanmedian(entropy[:, head])) if has_neighbour.any() else np.nan,
                   "same_class": np.nan, "same_class_uniform": np.nan}
            if same is not None and has_neighbour.any():
                share = np.bincount(dst, weights=alpha[:, head] * same, minlength=att.num_nodes)
                row["same_class"] = float(share[has_neighbour].mean())
                row["same_class_uniform"] = float(uniform_same[has_neighbour].mean())
            row["verdict"] = verdict(row)
            rows.append(row)
    return pd.DataFrame(rows, columns=["layer", "head", "median_entropy", "same_class",
                                       "same_class_uniform", "nodes", "verdict"])


CLOSENESS = {"none": "no node has a neighbour", "close": "close to uniform", "mild": "mildly selective",
             "selective": "selective"}
# A head's line is HEAD_LINE, then MEDIAN_PART when some node has a neighbour, then SAME_PART
# where the graph has labels. The app words them in its language from the same parts.
HEAD_LINE = "layer {layer}, head {head}: {closeness}"
MEDIAN_PART = ", median normalised entropy {median:.2f}"
SAME_PART = "; {same:.0%} of α on same-class neighbours ({uniform:.0%} if uniform)"
GRAPH_VERDICTS = {
    "none": "No node has a neighbour: every node attends only to itself.",
    "uniform": "Attention on this graph is close to uniform in every head (median normalised entropy "
               "{lo:.2f}–{hi:.2f}; 1 = uniform). ",
    "uniform.dictionary.gatv2": "GATv2 learns to pick each query's key as it trains: train on, or train longer.",
    "uniform.dictionary": "On the dictionary graph that is GAT's static attention: every query ranks the keys "
                          "in the same order, so it cannot pick its own key (the GATv2 paper's point). "
                          "Switch the model to GATv2 to see attention choose.",
    "uniform.other": "That is a known result for GAT on citation graphs such as Cora: the model works, but its "
                     "heads barely choose. Read the edges as departures from uniform, or try the dictionary "
                     "graph with GATv2.",
    "depart": "{departing} of {heads} heads depart from uniform (median normalised entropy {lo:.2f}–{hi:.2f}; "
              "1 = uniform).",
}


def closeness_key(median_entropy: float) -> str:
    """A key of CLOSENESS for a head's median normalised entropy."""
    if not np.isfinite(median_entropy):
        return "none"
    if median_entropy >= CLOSE:
        return "close"
    return "mild" if median_entropy >= SELECTIVE else "selective"


def closeness(median_entropy: float) -> str:
    return CLOSENESS[closeness_key(median_entropy)]


def head_parts(row: dict) -> list[tuple[str, dict]]:
    """The parts of a head's line: (HEAD_LINE | MEDIAN_PART | SAME_PART name, values)."""
    parts = [("head", {"layer": row["layer"] + 1, "head": row["head"],
                       "closeness": closeness_key(row["median_entropy"])})]
    if np.isfinite(row["median_entropy"]):
        parts.append(("median", {"median": row["median_entropy"]}))
    if np.isfinite(row["same_class"]):
        parts.append(("same", {"same": row["same_class"], "uniform": row["same_class_uniform"]}))
    return parts


def verdict(row: dict) -> str:
    """"layer 1, head 3: close to uniform, median 0.97; 81 % of α on same-class neighbours (80 % if uniform)"."""
    templates = {"head": HEAD_LINE, "median": MEDIAN_PART, "same": SAME_PART}
    return "".join(templates[name].format(**(values | {"closeness": CLOSENESS[values["closeness"]]}
                                              if name == "head" else values))
                   for name, values in head_parts(row))


def graph_parts(summary: pd.DataFrame, dataset: str | None = None,
                model: str | None = None) -> list[tuple[str, dict]]:
    """The sentences of :func:`graph_verdict`: (GRAPH_VERDICTS key, values)."""
    finite = summary["median_entropy"].dropna()
    if finite.empty:
        return [("none", {})]
    values = {"lo": float(finite.min()), "hi": float(finite.max())}
    close = int((finite >= CLOSE).sum())
    if close < len(finite):
        return [("depart", values | {"departing": len(finite) - close, "heads": len(finite)})]
    if dataset == "dictionary":
        return [("uniform", values), ("uniform.dictionary.gatv2" if model == "gatv2" else "uniform.dictionary", {})]
    return [("uniform", values), ("uniform.other", {})]


def graph_verdict(summary: pd.DataFrame, dataset: str | None = None, model: str | None = None) -> str:
    """One sentence about all heads together, plain about near-uniform attention; what it
    means (and what to try) depends on the graph (``dataset``) and the ``model``."""
    return "".join(GRAPH_VERDICTS[key].format(**values) for key, values in graph_parts(summary, dataset, model))
