"""The command line: ``python -m gatviz train|view|explain``.

Progress goes to stderr, results to files (train, view) or stdout (explain).
A user's mistake prints one line ``error: …`` on stderr and exits 2.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import attention, limits, render, runs
from .config import RunConfig
from .errors import GatvizError
from .graphs import BUILTINS
from .training import Trainer


class _Parser(argparse.ArgumentParser):
    def error(self, message):   # one line, exit 2, like every other user mistake
        raise GatvizError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m gatviz", description="Train a GAT and look at its attention.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = sub.add_parser("train", help="train a GAT/GATv2 and write a run directory")
    src = train.add_mutually_exclusive_group(required=True)
    src.add_argument("--dataset", choices=BUILTINS, help="a built-in graph")
    src.add_argument("--edges", metavar="FILE", help="an edge list (CSV, TSV or whitespace separated)")
    train.add_argument("--nodes", metavar="FILE", help="optional node file: node,label[,feature...]")
    train.add_argument("--directed", action="store_true", help="keep the edge list's edges one-way")
    defaults = RunConfig()
    train.add_argument("--model", choices=("gat", "gatv2"), default=defaults.model)
    for name in ("layers", "heads", "hidden", "out_heads", "epochs", "seed", "snapshot_every",
                 "sbm_nodes", "sbm_blocks"):
        train.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name))
    for name in ("dropout", "lr", "weight_decay", "sbm_p_in", "sbm_p_out"):
        train.add_argument(f"--{name.replace('_', '-')}", type=float, default=getattr(defaults, name))
    train.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    train.add_argument("--out", required=True, metavar="RUN_DIR")

    view = sub.add_parser("view", help="write the attention view around a node as standalone HTML")
    _node_args(view)
    view.add_argument("--hops", type=int, default=1, help="neighbourhood radius, %s to %s" % limits.INT_RANGES["hops"])
    view.add_argument("--top-k", type=int, default=40, help="at most this many edges per panel")
    view.add_argument("--out", required=True, metavar="FILE.html")

    explain = sub.add_parser("explain", help="print what a node attends to")
    _node_args(explain)
    explain.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def _node_args(parser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("--node", required=True, help="node name, exactly as in the edge list")
    parser.add_argument("--layer", type=int, default=0, help="0-based layer (default 0)")
    parser.add_argument("--head", default="0", help="head index, 'mean', or (view only) 'all'")


def cmd_train(args) -> None:
    settings = {k: getattr(args, k) for k in RunConfig.__dataclass_fields__ if hasattr(args, k)
                and k != "dataset"}
    config = RunConfig(dataset=args.dataset or "upload", **settings)
    source = runs.GraphSource(config.dataset, args.edges, args.nodes)
    if args.nodes and not args.edges:
        raise GatvizError("--nodes needs --edges")
    graph = source.load(config)
    for line in graph.report.lines():
        print(line, file=sys.stderr)
    trainer = Trainer(graph, config)
    print(f"training {config.model.upper()} on {trainer.device.type} for {config.epochs} epochs",
          file=sys.stderr)
    start = time.perf_counter()
    every = max(1, config.epochs // 10)
    while trainer.remaining:
        row = trainer.step(min(every, trainer.remaining))[-1]
        print(f"epoch {row['epoch']:>4}/{config.epochs}  loss {row['loss']:.3f}  "
              f"train {_acc(row['train_acc'])}  val {_acc(row['val_acc'])}  test {_acc(row['test_acc'])}",
              file=sys.stderr)
        if trainer.notice:
            print(f"note: {trainer.notice}", file=sys.stderr)
            trainer.notice = None
    run = runs.save(args.out, trainer, source)
    metrics = trainer.metrics()
    best = (f"at best validation epoch {metrics['best_val_epoch']}: {_acc(metrics['test_acc_at_best_val'])}"
            if metrics["best_val_epoch"] is not None else "no validation nodes, so no best-validation epoch")
    print(f"done in {time.perf_counter() - start:.1f} s: test accuracy {_acc(metrics['test_acc'])} "
          f"({best}); wrote {run}", file=sys.stderr)


def _acc(value) -> str:
    """An accuracy for people: None/NaN (a split without nodes) reads "n/a"."""
    return "n/a" if value is None or value != value else f"{value:.3f}"


def _head(value: str, heads: int, allow_all: bool):
    if value == "mean":
        return ["mean"]
    if value == "all":
        if not allow_all:
            raise GatvizError("--head all is for view; explain takes one head or 'mean'")
        return list(range(heads)) + ["mean"]
    try:
        return [int(value)]
    except ValueError:
        raise GatvizError(f"--head must be a number, 'mean' or 'all', not {value!r}") from None


def cmd_view(args) -> None:
    limits.check("hops", args.hops, label="--hops")
    limits.check("top_k", args.top_k, label="--top-k")
    trainer = runs.load(args.run_dir)
    graph, att = trainer.graph, trainer.attention()
    node = graph.index(args.node)
    if not 0 <= args.layer < att.layers:
        raise GatvizError(f"--layer must be from 0 to {att.layers - 1}, not {args.layer}")
    heads = _head(args.head, att.heads(args.layer), allow_all=True)
    payload = render.view(graph, att, node, args.layer, heads, hops=args.hops, top_k=args.top_k,
                          predictions=trainer.predictions().numpy())
    title = f"gatviz: {graph.name}, node {args.node}, layer {args.layer}"
    try:
        Path(args.out).write_text(render.standalone_html(payload, title), encoding="utf-8")
    except OSError as exc:
        raise GatvizError(f"cannot write {args.out!r}: {exc.strerror}") from None
    print(f"wrote {args.out}", file=sys.stderr)


def cmd_explain(args) -> None:
    trainer = runs.load(args.run_dir)
    graph, att = trainer.graph, trainer.attention()
    node = graph.index(args.node)
    [head] = _head(args.head, att.heads(args.layer) if 0 <= args.layer < att.layers else 1, allow_all=False)
    table = attention.neighbourhood(att, node, args.layer, head, graph.degree, graph.names)
    own = table[table["self"]].iloc[0]
    rest = table[~table["self"]].drop(columns=["self", "edge"])
    if args.json:
        print(json.dumps({"node": graph.names[node], "layer": args.layer, "head": head,
                          "self_alpha": float(own["alpha"]), "self_score": float(own["score"]),
                          "neighbours": rest.drop(columns=["source"]).to_dict(orient="records")},
                         indent=2))
        return
    print(f"node {graph.names[node]!r}, layer {args.layer}, head {head}: "
          f"{len(rest)} neighbour(s), uniform 1/(deg+1) = {own['uniform']:.4f}")
    print(f"self-attention alpha_ii = {own['alpha']:.4f}  (e_ii = {own['score']:.3f})")
    print(rest.drop(columns=["source", "uniform"]).to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        {"train": cmd_train, "view": cmd_view, "explain": cmd_explain}[args.command](args)
    except GatvizError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:   # e.g. `explain ... | head`: the reader has gone, nothing to report
        sys.stderr.close()
        return 0
    return 0
