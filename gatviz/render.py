"""The network view: a k-hop neighbourhood as a small JSON payload.

Python decides everything (which edges, widths, colours, positions); the
script in ``static/gatviz-view.js`` only draws the payload with vis-network
(the copy pyvis ships) and builds hover texts from its numbers. The same
payload feeds the app (sent once per view, script served once) and the
standalone HTML export (script inlined, works from ``file://`` offline).

Edges encode alpha relative to uniform attention by default, or on a fixed
0..1 scale (:mod:`gatviz.encoding`); never normalised by the maximum, so heads
and layers compare at a glance. Names are text, never HTML: the script puts them in the
page with ``textContent``/vis-network's plain-text tooltips, and JSON
inlined into the export escapes ``<``, ``>`` and ``&``.
"""
from __future__ import annotations

import json
import re
from collections import OrderedDict

import networkx as nx
import numpy as np
import torch
from torch_geometric.utils import k_hop_subgraph

from . import encoding as encoding_mod
from . import limits
from .assets import asset  # noqa: F401  (render.asset: what standalone_html inlines)
from .attention import AttentionTable, _check_layer_head
from .errors import GatvizError, node_index
from .graphs import Graph

SPRING_UP_TO = 150       # nodes; bigger neighbourhoods get concentric shells
# Colour-blind-safe palette (Okabe-Ito + Tableau extras), cycled past 10 classes.
PALETTE = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
           "#999999", "#8C564B", "#17BECF"]
# Presenter mode: a washed-out projector loses light colours (Okabe-Ito's yellow and sky
# blue are 1.1-2.2:1 against white); every colour here has at least 3:1 against white
# (WCAG's bar for graphics), tested.
PRESENTER_PALETTE = ["#0072B2", "#D55E00", "#007A5E", "#B8418F", "#6A3D9A", "#8C564B", "#333333",
                     "#A6611A", "#1F78B4", "#B2182B"]
WRONG = "#D62728"


def receptive_field(graph: Graph, center: int, hops: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes whose features reach ``center`` in ``hops`` layers, and their hop distance.

    Returns (nodes, distance) with the centre first (distance 0).
    """
    center = node_index(center, graph.num_nodes)
    ei = graph.data.edge_index
    dist = {center: 0}
    frontier = torch.tensor([center])
    for d in range(1, hops + 1):   # one hop at a time, to know each node's distance
        subset, _, _, _ = k_hop_subgraph(frontier, 1, ei, num_nodes=graph.num_nodes)
        new = [v for v in subset.tolist() if v not in dist]
        for v in new:
            dist[v] = d
        if not new:
            break
        frontier = torch.tensor(new)
    nodes = np.fromiter(dist.keys(), dtype=np.int64)
    return nodes, np.fromiter(dist.values(), dtype=np.int64)


class Layouts:
    """Per (centre, hops): the receptive field and its seeded positions, computed once and
    reused for every head and layer switch (LRU of ``size`` centres)."""

    def __init__(self, graph: Graph, seed: int = 0, size: int = 256):
        self.graph, self.seed, self.size = graph, seed, size
        # (centre, hops) -> (nodes, distance, positions)
        self._cache: OrderedDict[tuple[int, int], tuple[np.ndarray, np.ndarray, dict]] = OrderedDict()

    def _entry(self, center: int, hops: int) -> tuple[np.ndarray, np.ndarray, dict]:
        key = (center, hops)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        nodes, dist = receptive_field(self.graph, center, hops)
        entry = (nodes, dist, self._compute(center, hops, nodes, dist))
        self._cache[key] = entry
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return entry

    def field(self, center: int, hops: int) -> tuple[np.ndarray, np.ndarray]:
        """:func:`receptive_field`, cached."""
        nodes, dist, _ = self._entry(center, hops)
        return nodes, dist

    def positions(self, center: int, hops: int) -> dict[int, tuple[float, float]]:
        return self._entry(center, hops)[2]

    def _compute(self, center: int, hops: int, nodes: np.ndarray, dist: np.ndarray
                 ) -> dict[int, tuple[float, float]]:
        rings = [r for r in (nodes[dist == d].tolist() for d in range(1, hops + 1)) if r]
        # shells: centre, then each ring; outer nodes sorted by their first inner neighbour
        # so a node sits near the neighbour it reaches the centre through.
        ei = self.graph.data.edge_index.numpy()
        node_set = set(nodes.tolist())
        sub = nx.Graph()
        sub.add_nodes_from(nodes.tolist())
        keep = np.isin(ei[0], nodes) & np.isin(ei[1], nodes)
        sub.add_edges_from(zip(ei[0][keep].tolist(), ei[1][keep].tolist()))
        order, shells = {center: 0}, [[center]]
        for ring in rings:
            ring = sorted(ring, key=lambda v: (min((order[u] for u in sub.neighbors(v) if u in order),
                                                   default=0), v))
            order.update({v: len(order) + i for i, v in enumerate(ring)})
            shells.append(ring)
        pos = nx.shell_layout(sub, nlist=shells, scale=1.0) if len(shells) > 1 else {center: np.zeros(2)}
        if 2 < len(node_set) <= SPRING_UP_TO:
            pos = nx.spring_layout(sub, pos=pos, seed=self.seed, iterations=60)
        c = np.asarray(pos[center])
        scale = 60.0 * max(np.sqrt(len(node_set)), 2.0)
        return {int(v): (round(float((p[0] - c[0]) * scale), 1), round(float((p[1] - c[1]) * scale), 1))
                for v, p in pos.items()}


def view(graph: Graph, att: AttentionTable, center: int, layer: int, heads: list, *,
         hops: int = 1, top_k: int = 40, layouts: Layouts | None = None,
         predictions: np.ndarray | None = None, encoding: str = "uniform",
         presenter: bool = False, node_weights: np.ndarray | None = None) -> dict:
    """Payload of one view: shared nodes and one panel per head.

    The edges are those of the receptive field: j -> i where i is within
    ``hops - 1`` of the centre and j within ``hops``. Per panel at most
    ``top_k`` of them: the centre's own inputs first, then the rest, each
    highest alpha first; self-loops are not drawn as edges, their alpha goes on
    the node (``self``). Width and colour follow ``encoding`` (see
    :mod:`gatviz.encoding`); an edge whose reverse is drawn too is marked
    ``b`` so the two are drawn apart.

    Args:
        heads: head indices and/or "mean", one panel each.
        layouts: the graph's :class:`Layouts`, so the receptive field and positions are
            reused across head and layer switches (computed here when None).
        predictions: (N,) predicted class, to mark wrong predictions (None before training).
        encoding: "uniform" (alpha relative to 1/(deg_i + 1)) or "absolute" (0..1 scale).
        presenter: high-contrast class colours and larger labels, for a projector.
        node_weights: (N,) non-negative, e.g. an attention rollout: every node of the field
            with a positive weight is shown, sized by sqrt(weight / largest) (``s``, a factor
            on the drawn size) and with the weight in its tooltip (``rw``).

    Returns:
        {"center", "layer", "hops", "nodes": [{id, name, x, y, color, cls, wrong, deg}],
         "panels": [{"head", "edges": [{from, to, a, e, u, r, k, w, c, b}], "self": {id: alpha},
                     "entropy", "shown", "total"}], "classes": [{name, color}],
         "encoding", "legend": {title, items}, "note"}. Per edge j -> i: ``a`` alpha_ij,
        ``e`` e_ij (None for the head mean: the mean of e_ij is not what the mean alpha is
        a softmax of), ``u`` alpha_ij * (deg_i + 1), ``r`` its rank among i's deg_i
        neighbours, ``k`` = deg_i + 1 inputs of i. ``entropy``: the centre's
        H(alpha_i) / log(deg_i + 1) in that panel (1 = uniform).
    """
    limits.check("hops", hops)
    limits.check("top_k", top_k)
    if not heads:
        raise GatvizError("choose at least one head")
    for head in heads:
        _check_layer_head(att, layer, head)
    layouts = layouts if layouts is not None else Layouts(graph)
    nodes, dist = layouts.field(center, hops)
    positions = layouts.positions(center, hops)
    inner = nodes[dist < hops]
    edge_ids = np.concatenate([att.incoming(int(i)) for i in inner])
    src, dst = att.edge_index[0].numpy()[edge_ids], att.edge_index[1].numpy()[edge_ids]
    in_field = np.isin(src, nodes)
    edge_ids, src, dst = edge_ids[in_field], src[in_field], dst[in_field]
    loops = src == dst
    encoding_ = encoding_mod.check(encoding)
    score_all = att.score[layer] if att.score is not None else None
    y = graph.data.y.numpy()
    inputs = np.bincount(dst, minlength=graph.num_nodes)[dst]          # deg_i + 1 of each edge's target
    # drawing order: the centre's inputs first (a hub's must not be crowded out by the
    # second ring), then by alpha; ties keep edge order
    panels, used = [], {center}
    for head in heads:
        alpha = att.weights(layer, head)[edge_ids]
        score = (None if score_all is None or head == "mean" else score_all[:, head].numpy()[edge_ids])
        # rank among the target's neighbours (self-loop apart), 1 = highest alpha
        rank = np.zeros(len(alpha), dtype=np.int64)
        nl = np.flatnonzero(~loops)
        order = nl[np.lexsort((-alpha[nl], dst[nl]))]
        starts = np.searchsorted(dst[order], dst[order], side="left")
        rank[order] = np.arange(len(order)) - starts + 1
        drawn = nl[np.lexsort((-alpha[nl], dst[nl] != center))][:top_k]
        used.update(src[drawn].tolist())
        used.update(dst[drawn].tolist())
        width = encoding_mod.widths(alpha[drawn], inputs[drawn], encoding_)
        colour = encoding_mod.colours(alpha[drawn], inputs[drawn], encoding_)
        shown_pairs = set(zip(src[drawn].tolist(), dst[drawn].tolist()))
        edges = [{"from": int(src[i]), "to": int(dst[i]), "a": round(float(alpha[i]), 4),
                  "e": None if score is None else round(float(score[i]), 4),
                  "u": round(float(alpha[i] * inputs[i]), 3), "r": int(rank[i]), "k": int(inputs[i]),
                  "w": round(float(w), 2), "c": c, "b": (int(dst[i]), int(src[i])) in shown_pairs}
                 for i, w, c in zip(drawn, width, colour)]
        mine = dst == center
        p = np.clip(alpha[mine].astype(np.float64), 1e-12, 1.0)
        entropy = float(-(p * np.log(p)).sum() / np.log(len(p))) if len(p) > 1 else None
        self_alpha = {int(dst[i]): round(float(alpha[i]), 4) for i in np.flatnonzero(loops)}
        panels.append({"head": head, "edges": edges, "self": self_alpha,
                       "entropy": None if entropy is None else round(entropy, 3),
                       "shown": len(edges), "total": int((~loops).sum())})
    node_list, palette = [], PRESENTER_PALETTE if presenter else PALETTE
    if node_weights is not None:
        used.update(int(v) for v in nodes if node_weights[v] > 0)
        top = max(float(node_weights[nodes].max()), 1e-12)
    for v in sorted(used, key=lambda v: (v != center, v)):
        x, yy = positions.get(v, (0.0, 0.0))
        node = {"id": v, "name": graph.names[v], "x": x, "y": yy, "cls": int(y[v]),
                "color": palette[int(y[v]) % len(palette)], "deg": int(graph.degree[v])}
        if predictions is not None and int(predictions[v]) != int(y[v]):
            node["wrong"] = graph.class_names[int(predictions[v])]
        if node_weights is not None:
            node["rw"] = round(float(node_weights[v]), 4)
            node["s"] = round(0.6 + 2.4 * float(np.sqrt(node_weights[v] / top)), 2)
        node_list.append(node)
    classes = sorted({int(y[v]) for v in used})
    return {"center": int(center), "layer": int(layer), "hops": int(hops), "nodes": node_list,
            "panels": panels, "encoding": encoding_, "legend": encoding_mod.legend(encoding_),
            "note": ring_note(layer, att.layers, hops),
            "presenter": bool(presenter), "label_px": 20 if presenter else 14,
            "classes": [{"id": c, "name": graph.class_names[c], "color": palette[c % len(palette)]}
                        for c in classes]}


def ring_note(layer: int, layers: int, hops: int) -> str:
    """Which layer's alpha each ring of a 2-hop view shows, and what reaches the centre."""
    if hops < 2:
        return ""
    text = (f"Both rings show layer {layer + 1}'s α: edges into the centre and edges into its "
            f"neighbours.")
    if layers > 1 and layer == layers - 1:
        text += (f" Layer {layer + 1} is the last: only its edges into the centre feed the centre's "
                 f"prediction; the second ring reaches the centre through layer {layer}'s α, "
                 f"not through the outer edges drawn here.")
    elif layer < layers - 1:
        text += (f" The outer edges reach the centre's prediction through its neighbours in the "
                 f"layers after layer {layer + 1}.")
    return text


def payload_bytes(payload: dict) -> int:
    """Size of the payload as sent to the browser (compact JSON, UTF-8)."""
    return len(to_json(payload).encode("utf-8"))


def to_json(payload: dict) -> str:
    """Compact JSON that is also safe inside an HTML ``<script>`` element."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    for raw, safe in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                      ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, safe)
    return text


def _inline(text: str) -> str:
    """Script or style text that cannot end its element early or open an HTML comment.

    Inside ``<script>``/``<style>`` the HTML parser ends the element at ``</script``
    (``</style``), any case, and ``<!--`` changes how it looks for that end. Written
    ``<\\/`` and ``<\\!--`` they mean the same inside a JS string or regex and a CSS
    comment, and no longer match: true by construction, not by luck of the bundled code.
    """
    text = re.sub(r"</(?=(script|style))", r"<\\/", text, flags=re.I)
    return text.replace("<!--", "<\\!--")


def standalone_html(payload: dict, title: str) -> str:
    """One self-contained HTML page: no network request, works from ``file://``."""
    from html import escape
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title>\n"
        f"<style>{_inline(asset('vis-network.css'))}\n{_inline(asset('gatviz-view.css'))}</style>\n"
        f"<script>{_inline(asset('vis-network.min.js'))}</script>\n"
        f"<script>{_inline(asset('gatviz-view.js'))}</script>\n"
        "</head><body>\n"
        f"<h1 class=\"gatviz-title\">{escape(title)}</h1>\n<div id=\"gatviz-root\"></div>\n"
        f"<script id=\"gatviz-data\" type=\"application/json\">{to_json(payload)}</script>\n"
        "<script>gatvizRender(document.getElementById('gatviz-root'),"
        " JSON.parse(document.getElementById('gatviz-data').textContent));</script>\n"
        "</body></html>\n")
