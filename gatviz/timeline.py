r"""Attention over training: the float16 snapshots a :class:`~gatviz.training.Trainer` keeps.

Every ``snapshot_every`` epochs (and after the last one) the trainer keeps eval-mode alpha of
every layer in float16; when they would pass the 50 MB budget every other one is dropped and
the interval doubles, so the held epochs always span the run. A run directory keeps them in
``snapshots.pt`` (see :mod:`gatviz.runs`).

Training is seeded and chunk-independent (the trainer carries its own RNG state from chunk to
chunk, and the number of planned epochs changes nothing but when the last snapshot is taken),
so the snapshot of epoch E equals the final alpha of a run of E epochs with the same settings,
to float16 precision (tested).

Normalised entropy of target i's attention in one head, over its inputs j ∈ N(i) ∪ {i}:

.. math::
    \tilde H_i = \frac{-\sum_j \alpha_{ij} \log \alpha_{ij}}{\log(\deg_i + 1)} \in [0, 1]

1 is uniform attention, 0 all weight on one input; nodes without neighbours (only the
self-loop, log 1 = 0) have no value.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .attention import AttentionTable, _check_layer_head
from .errors import GatvizError
from .render import Layouts, PALETTE, view

FRAME_INCHES = (6.4, 5.2)


def held_epochs(trainer) -> list[int]:
    """Epochs whose attention is held: the snapshots, and the current epoch (none for a model
    without attention: :func:`at_epoch` has nothing to give for any epoch)."""
    if not trainer.model.has_attention:
        return []
    return sorted({s.epoch for s in trainer.snapshots} | ({trainer.epoch} if trainer.epoch else set()))


def describe_epochs(epochs: list[int], shown: int = 12) -> str:
    """``5, 10, 15`` or, for many, ``5, 10, …, 200 (40 epochs)``."""
    if not epochs:
        return "none"
    if len(epochs) <= shown:
        return ", ".join(map(str, epochs))
    return f"{epochs[0]}, {epochs[1]}, …, {epochs[-1]} ({len(epochs)} epochs)"


def at_epoch(trainer, epoch: int) -> AttentionTable:
    """Attention after ``epoch`` epochs, from its snapshot (float16, as kept) or the live model.

    Raises GatvizError naming the held epochs when ``epoch`` is not one of them.
    """
    if trainer.epoch and epoch == trainer.epoch and trainer.model.has_attention:
        return trainer.attention()
    for snapshot in trainer.snapshots:
        if snapshot.epoch == epoch:
            return trainer.snapshot_table(snapshot)
    if not trainer.model.has_attention:
        raise GatvizError("GCN has no attention, so no snapshots either")
    raise GatvizError(f"epoch {epoch} is not held; the run keeps the attention of epochs "
                      f"{describe_epochs(held_epochs(trainer))}")


def normalised_entropy(att: AttentionTable, layer: int) -> np.ndarray:
    """H(alpha_i) / log(deg_i + 1) of every target and head, (N, H_l); NaN where deg_i = 0."""
    _check_layer_head(att, layer, "mean")
    a = np.clip(att.alpha[layer].numpy().astype(np.float64), 1e-12, 1.0)
    target = att.edge_index[1].numpy()
    contrib = -a * np.log(a)
    entropy = np.stack([np.bincount(target, weights=contrib[:, h], minlength=att.num_nodes)
                        for h in range(a.shape[1])], axis=1)
    inputs = np.bincount(target, minlength=att.num_nodes)          # deg_i + 1 (self-loop included)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = entropy / np.log(inputs)[:, None]
    out[inputs <= 1] = np.nan
    return out


def entropy_over_epochs(trainer) -> pd.DataFrame:
    """Median normalised entropy per head at every held snapshot.

    Returns:
        Rows ``epoch, layer (0-based), head, median`` (NaN if no node has a neighbour).
    """
    rows = []
    for snapshot in trainer.snapshots:
        att = trainer.snapshot_table(snapshot)
        for layer in range(att.layers):
            values = normalised_entropy(att, layer)
            finite = np.isfinite(values).any(axis=0)
            medians = np.full(values.shape[1], np.nan)
            if finite.any():
                medians[finite] = np.nanmedian(values[:, finite], axis=0)
            rows += [{"epoch": snapshot.epoch, "layer": layer, "head": h, "median": float(m)}
                     for h, m in enumerate(medians)]
    return pd.DataFrame(rows, columns=["epoch", "layer", "head", "median"])


def _plain(text: str) -> str:
    """A name as literal text for matplotlib (``$`` would start mathtext)."""
    return str(text).replace("\\", "\\\\").replace("$", r"\$")


def scrub_gif(trainer, node: int, layer: int, head, path: str | Path, *, hops: int = 1,
              top_k: int = 40, fps: float = 2.0, layouts: Layouts | None = None) -> Path:
    """Write the epoch scrub of one node's view as an animated GIF, one frame per snapshot.

    Drawn offline with networkx + matplotlib at the positions of :class:`gatviz.render.Layouts`
    (the app's view), edge width ∝ alpha on the same fixed scale, at most ``top_k`` edges.

    Args:
        node: centre (target i); layer: 0-based; head: index or "mean".
        path: the .gif to write.
    """
    import matplotlib
    from matplotlib.animation import PillowWriter
    from matplotlib.figure import Figure
    import networkx as nx

    if not trainer.model.has_attention:
        raise GatvizError("this run is the GCN baseline: it has no attention to show")
    if not trainer.snapshots:
        raise GatvizError("no attention snapshots are held: train at least one epoch")
    graph = trainer.graph
    layouts = layouts if layouts is not None else Layouts(graph)
    nodes, _ = layouts.field(node, hops)
    pos = {v: (x, -y) for v, (x, y) in layouts.positions(node, hops).items()}   # vis-network y points down
    y = graph.data.y.numpy()
    colors = [PALETTE[int(y[v]) % len(PALETTE)] for v in nodes]
    labels = {int(v): _plain(graph.names[v]) for v in nodes} if len(nodes) <= 60 else {int(node): _plain(graph.names[node])}
    # the first frame's view before the writer opens: a bad layer, head or hops is its own
    # one-line error (raised inside the writer, it was hidden behind matplotlib's IndexError)
    view(graph, trainer.snapshot_table(trainer.snapshots[0]), node, layer, [head], hops=hops, top_k=top_k,
         layouts=layouts)
    fig = Figure(figsize=FRAME_INCHES)
    ax = fig.add_subplot()
    writer = PillowWriter(fps=fps)
    path = Path(path)
    with matplotlib.rc_context({"text.usetex": False}), writer.saving(fig, str(path), dpi=80):
        for snapshot in trainer.snapshots:
            panel = view(graph, trainer.snapshot_table(snapshot), node, layer, [head], hops=hops,
                         top_k=top_k, layouts=layouts)["panels"][0]
            ax.clear()
            ax.set_axis_off()
            g = nx.DiGraph()
            g.add_nodes_from(int(v) for v in nodes)
            g.add_edges_from((e["from"], e["to"]) for e in panel["edges"])
            nx.draw_networkx_nodes(g, pos, nodelist=[int(v) for v in nodes], node_color=colors,
                                   node_size=[260 if v == node else 120 for v in nodes], ax=ax)
            nx.draw_networkx_edges(g, pos, edgelist=[(e["from"], e["to"]) for e in panel["edges"]],
                                   width=[0.5 * e["w"] for e in panel["edges"]], alpha=0.7,
                                   arrowsize=8, edge_color="#555555", ax=ax)
            nx.draw_networkx_labels(g, pos, labels=labels, font_size=7, ax=ax)
            head_text = "mean of heads" if head == "mean" else f"head {head}"   # heads from 0, as in the app
            ax.set_title(f"{_plain(graph.name)}: node {_plain(graph.names[node])}, layer {layer + 1}, "
                         f"{head_text}, epoch {snapshot.epoch}", fontsize=9)
            writer.grab_frame()
    return path
