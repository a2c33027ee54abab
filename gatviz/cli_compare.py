"""The comparison parts of the command line (see :mod:`gatviz.cli`).

::

    python -m gatviz heads RUN_DIR [--json]
    python -m gatviz explain RUN_DIR --node N --epoch E [--json]
    python -m gatviz explain RUN_DIR --node N --rollout [--rollout-heads mean|H1,H2,...] [--epoch E] [--json]
    python -m gatviz explain RUN_DIR --node N --drop-edge SRC,DST [--add-edge SRC,DST] [--layer L] [--head H] [--json]

Layers are numbered from 1, heads from 0 (as ``--head`` and the app). ``--drop-edge`` and
``--add-edge`` may be given several times. A node name may itself contain commas: SRC,DST is
split at the one comma that leaves two known node names, and a value that could be split in
more than one way is refused with a one-line error (rename, or pick a unique split).
"""
from __future__ import annotations

import json

from . import compare, edits, heads, timeline
from .errors import GatvizError


def add_arguments(sub, explain) -> None:
    """The ``heads`` command, and ``explain``'s --epoch, --rollout, --drop-edge, --add-edge."""
    explain.add_argument("--epoch", type=int, metavar="E",
                         help="answer from the attention snapshot kept at epoch E")
    explain.add_argument("--rollout", action="store_true",
                         help="attention rollout: the share of every source node in the node (row of A_L…A_1)")
    explain.add_argument("--rollout-heads", default="mean", metavar="mean|H1,H2,...",
                         help="with --rollout: the head mean in every layer (default) or one head per layer")
    explain.add_argument("--drop-edge", action="append", default=[], metavar="SRC,DST",
                         help="re-run the trained model without this edge (repeatable)")
    explain.add_argument("--add-edge", action="append", default=[], metavar="SRC,DST",
                         help="re-run the trained model with this edge added (repeatable)")
    parser = sub.add_parser("heads", help="per layer: how alike the heads are (Jensen-Shannon) and "
                                          "accuracy with each head ablated to uniform attention")
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")


def attention_at(args, trainer):
    """The AttentionTable explain should read: the snapshot of --epoch, else the final one."""
    return trainer.attention() if args.epoch is None else timeline.at_epoch(trainer, args.epoch)


def handle_explain(args, trainer, node: int, layer: int) -> bool:
    """Answer --rollout or --drop-edge/--add-edge; False when neither was asked for."""
    edited = args.drop_edge or args.add_edge
    if getattr(args, "steps", False) and args.epoch is not None:
        raise GatvizError("--steps replays the trained weights; weights of earlier epochs are not kept, "
                          "so it cannot be combined with --epoch")
    if args.rollout_heads != "mean" and not args.rollout:
        raise GatvizError("--rollout-heads chooses the heads of --rollout: give --rollout too")
    if not (args.rollout or edited):
        return False
    if getattr(args, "steps", False):
        raise GatvizError("--steps cannot be combined with --rollout, --drop-edge or --add-edge")
    if args.rollout and edited:
        raise GatvizError("--rollout cannot be combined with --drop-edge/--add-edge")
    if args.rollout and args.chosen:
        raise GatvizError(f"--rollout follows every layer (its heads: --rollout-heads); "
                          f"{' and '.join(args.chosen)} would be ignored")
    if args.rollout:
        _rollout(args, trainer, node)
    else:
        if args.epoch is not None:
            raise GatvizError("--drop-edge/--add-edge re-run the trained model; they cannot be "
                              "combined with --epoch")
        _edit(args, trainer, node, layer)
    return True


def _rollout(args, trainer, node: int) -> None:
    att = attention_at(args, trainer)
    choice = args.rollout_heads
    if choice != "mean":
        try:
            choice = [h if h == "mean" else int(h) for h in choice.split(",")]
        except ValueError:
            raise GatvizError(f"--rollout-heads must be 'mean' or one head per layer like 0,0, "
                              f"not {args.rollout_heads!r}") from None
    weights = compare.rollout_named(att, node, trainer.graph.names, choice)
    name = trainer.graph.names[node]
    if args.json:
        print(json.dumps({"node": name, "epoch": att.epoch, "heads": choice, "rollout": weights}, indent=2))
        return
    print(f"attention rollout into node {name!r} over {att.layers} layer(s), epoch {att.epoch}, "
          f"heads {choice}: {len(weights)} source node(s), weights sum to 1")
    for source, w in list(weights.items())[:40]:
        print(f"{w:10.6f}  {source}")
    if len(weights) > 40:
        print(f"... and {len(weights) - 40} more (--json has all)")


def parse_edge(value: str, graph) -> tuple[int, int]:
    """SRC,DST (node names) to indices; split at the one comma that leaves two known names."""
    known = graph._index
    splits = [(value[:k], value[k + 1:]) for k, c in enumerate(value) if c == ","]
    found = [(s, d) for s, d in splits if s in known and d in known]
    if len(found) == 1:
        return known[found[0][0]], known[found[0][1]]
    if len(found) > 1:
        raise GatvizError(f"edge {value!r} can be read as more than one pair of node names")
    if not splits:
        raise GatvizError(f"an edge is SRC,DST (two node names and a comma), not {value!r}")
    if len(splits) == 1:
        graph.index(splits[0][0])      # raises: unknown node …
        graph.index(splits[0][1])
    raise GatvizError(f"edge {value!r} does not name two nodes of the graph (SRC,DST)")


def _edit(args, trainer, node: int, layer: int) -> None:
    graph = trainer.graph
    drop = [parse_edge(v, graph) for v in args.drop_edge]
    add = [parse_edge(v, graph) for v in args.add_edge]
    head = "mean" if args.head == "mean" else _int_head(args.head)
    result = edits.edit(trainer, node, drop, add)
    frame = result.alpha(layer, head, graph.names)
    names = graph.names
    pairs = lambda edges: [[names[s], names[d]] for s, d in edges]   # noqa: E731
    probs = {graph.class_names[c]: {"before": float(result.probs_before[c]), "after": float(result.probs_after[c])}
             for c in range(len(graph.class_names))}
    out = {"node": names[node], "layer": layer + 1, "head": head,
           "removed": pairs(result.removed), "added": pairs(result.added),
           "predicted": {"before": graph.class_names[result.pred_before],
                         "after": graph.class_names[result.pred_after]},
           "probabilities": probs,
           "alpha": [{"name": r["name"], "before": _num(r["before"]), "after": _num(r["after"]),
                      "change": _num(r["change"])} for _, r in frame.iterrows()]}
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"node {names[node]!r}: removed {len(result.removed)} and added {len(result.added)} directed edge(s); "
          f"the trained model re-run, nothing retrained")
    print(f"prediction: {out['predicted']['before']} -> {out['predicted']['after']}")
    for cls, p in probs.items():
        print(f"  P({cls}) {p['before']:.4f} -> {p['after']:.4f}")
    print(f"alpha in layer {layer + 1}, head {head} (NaN: the edge is not there):")
    print(frame.drop(columns=["source"]).to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def _int_head(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise GatvizError(f"--head must be a number or 'mean', not {value!r}") from None


def _num(value):
    value = float(value)
    return None if value != value else value


def cmd_heads(args) -> None:
    from . import runs
    trainer = runs.load(args.run_dir)
    out = heads.report(trainer)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"{out['model'].upper()} after {out['epoch']} epochs: val {out['val_acc']}, test {out['test_acc']}")
    for layer in out["layers"]:
        print(f"\nlayer {layer['layer']}: {layer['heads']} head(s), clustered order {layer['order']}")
        print("mean Jensen-Shannon divergence between heads (bits, 0 = identical):")
        for h, row in enumerate(layer["js_divergence"]):
            print(f"  head {h:>2}: " + " ".join(f"{v:.4f}" for v in row))
        print("accuracy with the head attending uniformly (val / test):")
        for h, acc in layer["ablate_head"].items():
            print(f"  head {h:>2}: {acc['val_acc']} / {acc['test_acc']}")
        print(f"  all heads: {layer['ablate_all']['val_acc']} / {layer['ablate_all']['test_acc']}")
