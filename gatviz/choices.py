"""Every layer and head of one view in one payload, so the browser switches between them at once.

A layer or head switch then draws in the browser (tens of milliseconds) instead of waiting for
a round trip to the server and a page update (~250 ms on 2 cores); the server follows
afterwards with the table. The nodes, positions and edge field are the centre's and the
hops', whatever the layer and head: only the panels differ, ``render.view``'s own.
"""
from __future__ import annotations

import hashlib

from .attention import AttentionTable
from .render import Layouts, to_json, view


def head_options(att: AttentionTable, layer: int) -> list:
    """What a layer offers: "all" (every head and their mean), "mean" and each head; one head only
    when the layer has one."""
    heads = att.heads(layer)
    return ["all", "mean", *range(heads)] if heads > 1 else [0]


def with_choices(graph, att: AttentionTable, center: int, layer: int, head, *, labels: dict,
                 layouts: Layouts | None = None, **options) -> dict:
    """``render.view`` of (layer, head) plus ``choices``: every layer's panels, to switch in place.

    Args:
        head: a head index, "all" or "mean" (one of :func:`head_options`).
        labels: the controls' text in the page's language: "layer", "head", "layer_of"
            (one label per layer), "all", "mean", "head_n" (with "{head}").
        options: ``render.view``'s keyword arguments (hops, top_k, encoding, ...).

    Returns:
        the payload of (layer, head), with ``choices`` = {"layer", "head", "heads" (per layer),
        "panels" (per layer: one per head, then the mean; None for the shown layer when every
        head is shown: the payload's own panels), "notes" (per layer), "nodes" and "classes"
        (those of the other layers' panels that the shown view lacks), "options" (per layer, as
        :func:`head_options`), "labels", "key" (identifies the data: a payload with the same
        key differs only in its choice)}.
    """
    layouts = layouts if layouts is not None else Layouts(graph)
    per_layer = []
    for l in range(att.layers):
        heads = [*range(att.heads(l)), "mean"] if att.heads(l) > 1 else [0]
        per_layer.append(view(graph, att, center, l, heads, layouts=layouts, **options))
    # every head of a layer is that layer's view above (the same call): not built twice
    payload = dict(per_layer[layer]) if head == "all" else view(graph, att, center, layer, [head],
                                                                  layouts=layouts, **options)
    nodes = {n["id"]: n for p in per_layer for n in p["nodes"]}
    classes = {c["id"]: c for p in per_layer for c in p["classes"]}
    choices = {"heads": [att.heads(l) for l in range(att.layers)],
               "panels": [p["panels"] for p in per_layer], "notes": [p["note"] for p in per_layer],
               "nodes": sorted(nodes.values(), key=lambda n: (n["id"] != center, n["id"])),
               "classes": sorted(classes.values(), key=lambda c: c["id"]),
               "options": [head_options(att, l) for l in range(att.layers)], "labels": labels}
    choices["key"] = hashlib.sha1(to_json({**choices, "center": center, "hops": payload["hops"],
                                           "encoding": payload["encoding"]}).encode()).hexdigest()[:16]
    # sent once: what the shown view already carries is not repeated (None: the view's own panels)
    if head == "all":
        choices["panels"][layer] = None
    shown_nodes = {n["id"] for n in payload["nodes"]}
    shown_classes = {c["id"] for c in payload["classes"]}
    choices["nodes"] = [n for n in choices["nodes"] if n["id"] not in shown_nodes]
    choices["classes"] = [c for c in choices["classes"] if c["id"] not in shown_classes]
    payload["choices"] = {**choices, "layer": int(layer), "head": head}
    return payload
