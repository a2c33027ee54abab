"""The command line: ``python -m gatviz train|view|explain``.

Progress goes to stderr, results to files (train, view) or stdout (explain).
A user's mistake prints one line ``error: …`` on stderr and exits 2.
``--layer`` is numbered from 1, as in the app and attention.csv (the library is 0-based).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

from . import attention, cli_compare, explain, limits, render, runs, subgraph
from .config import RunConfig, recommended
from .errors import GatvizError
from .graphs import BUILTINS
from .training import Trainer, resolve_device


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
    train.add_argument("--model", choices=("gat", "gatv2", "gcn"), default=defaults.model,
                       help="gcn: the baseline without attention, to compare with")
    # default None: a flag left out takes the dataset's recommended value, else RunConfig's
    for name in ("layers", "heads", "hidden", "out_heads", "epochs", "seed", "snapshot_every",
                 "sbm_nodes", "sbm_blocks", "dict_size", "batch_size"):
        train.add_argument(f"--{name.replace('_', '-')}", type=int, default=None,
                           help=f"(default {getattr(defaults, name)})")
    for name in ("dropout", "lr", "weight_decay", "sbm_p_in", "sbm_p_out"):
        train.add_argument(f"--{name.replace('_', '-')}", type=float, default=None,
                           help=f"(default {getattr(defaults, name)})")
    train.add_argument("--fanout", default=None, metavar="K[,K...]",
                       help="mini-batch: neighbours sampled per hop, one number or one per layer "
                            f"(default {defaults.fanout})")
    train.add_argument("--distributed", action="store_true",
                       help="data-parallel over the processes torchrun starts "
                            "(torchrun --nproc-per-node 2 -m gatviz train ... --distributed)")
    train.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    train.add_argument("--out", required=True, metavar="RUN_DIR")

    view = sub.add_parser("view", help="write the attention view around a node as standalone HTML")
    _node_args(view)
    view.add_argument("--hops", type=int, default=1, help="neighbourhood radius, %s to %s" % limits.INT_RANGES["hops"])
    view.add_argument("--top-k", type=int, default=40, help="at most this many edges per panel")
    view.add_argument("--out", required=True, metavar="FILE.html")

    explain = sub.add_parser("explain", help="print what a node attends to, or (--steps) how one head computes it")
    _node_args(explain)
    explain.add_argument("--json", action="store_true", help="print JSON instead of a table")
    explain.add_argument("--steps", action="store_true",
                         help="replay the four steps (z = W h, e_ij, softmax, aggregation) for one head")
    cli_compare.add_arguments(sub, explain)   # heads; explain --epoch/--rollout/--drop-edge/--add-edge
    return parser


def _node_args(parser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("--node", required=True, help="node name, exactly as in the edge list")
    # None until given (then _chosen fills in 1 and 0): --rollout refuses a --layer/--head it would ignore
    parser.add_argument("--layer", type=int, help="layer, numbered from 1 (default 1)")
    parser.add_argument("--head", help="head index, 'mean', or (view only) 'all' (default 0)")


def _chosen(args) -> None:
    """``args.chosen``: which of --layer/--head were given; the others take their defaults."""
    args.chosen = [f"--{k}" for k in ("layer", "head") if getattr(args, k) is not None]
    args.layer = 1 if args.layer is None else args.layer
    args.head = "0" if args.head is None else args.head


def cmd_train(args) -> None:
    if not args.out.strip():   # Path("") is the current folder: never write a run over it by accident
        raise GatvizError("--out needs a directory name for the run")
    settings = {k: getattr(args, k) for k in RunConfig.__dataclass_fields__
                if getattr(args, k, None) is not None and k != "dataset"}
    dataset = args.dataset or "upload"
    for prefix, owner in (("sbm_", "sbm"), ("dict_", "dictionary")):   # a graph setting of another graph
        given = [k for k in settings if k.startswith(prefix)]
        if given and dataset != owner:
            raise GatvizError(f"--{given[0].replace('_', '-')} sets the {owner} graph: give --dataset {owner}, "
                              f"not {'an edge file' if dataset == 'upload' else dataset}")
    if args.directed and args.dataset:
        raise GatvizError("--directed keeps an edge file's edges one-way: give --edges, not --dataset")
    advised = {k: v for k, v in recommended(dataset).items() if k not in settings}
    config = RunConfig(dataset=dataset, **advised, **settings)
    if advised:
        shown = ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in advised.items())
        print(f"recommended for {dataset}: {shown} (a flag you give wins)", file=sys.stderr)
    if args.nodes and not args.edges:
        raise GatvizError("--nodes needs --edges")
    runs.check_target(args.out)           # before any loading or training: where the run goes,
    resolve_device(config.device)         # and the device it trains on
    with tempfile.TemporaryDirectory(prefix="gatviz-input-") as tmp:
        edges, nodes = (_regular_file(path, Path(tmp)) for path in (args.edges, args.nodes))
        _train_from(args, config, runs.GraphSource(config.dataset, edges, nodes))


def _regular_file(path: str | None, tmp: Path) -> str | None:
    """``path``, or a copy of what it holds when it is a pipe (``--edges <(…)``, /dev/stdin):
    read once for the graph, it could not be read again for the run's copy of its inputs."""
    if path is None or not os.path.exists(path) or os.path.isdir(path) or os.path.isfile(path):
        return path
    from .parse import _read_file
    copy = tmp / Path(path).name
    copy.write_bytes(_read_file(path))
    return str(copy)


def _train_from(args, config: RunConfig, source) -> None:
    if args.distributed:   # one process per rank; rank 0 alone prints and writes the run
        from .distributed import Run
        group = Run(config.device)     # refused here, before loading, when torchrun did not start us
        graph = source.load(config)
        with group:
            _train(args, config, source, graph, group)
        return
    _train(args, config, source, source.load(config), None)


def _train(args, config: RunConfig, source, graph, group) -> None:
    """Train and write the run; ``group``: this rank of a distributed run, or None."""
    talk = group is None or group.main
    say = (lambda text: print(text, file=sys.stderr)) if talk else (lambda text: None)
    for line in graph.report.lines():
        say(line)
    trainer = group.trainer(graph, config) if group else Trainer(graph, config)
    config = trainer.config
    how = ""
    if trainer.batches is not None:
        how = f", mini-batches of {trainer.batches.batch_size} (fanout {config.fanout})"
    if group:
        how += f", {group.world} processes ({group.backend})"
    say(f"training {config.model.upper()} on {trainer.device.type} for {config.epochs} epochs{how}")
    start = time.perf_counter()
    every = max(1, config.epochs // 10)
    while trainer.remaining:
        row = trainer.step(min(every, trainer.remaining))[-1]
        say(f"epoch {row['epoch']:>4}/{config.epochs}  loss {row['loss']:.3f}  "
            f"train {_acc(row['train_acc'])}  val {_acc(row['val_acc'])}  test {_acc(row['test_acc'])}")
        if trainer.notice:
            say(f"note: {trainer.notice}")
            trainer.notice = None
    try:   # the other ranks write nothing; they wait until rank 0 has written (or failed to)
        run = runs.save(args.out, trainer, source) if talk else None
    finally:
        if group:
            group.barrier()
    if not talk:
        return
    metrics = trainer.metrics()
    best = (f"at best validation epoch {metrics['best_val_epoch']}: {_acc(metrics['test_acc_at_best_val'])}"
            if metrics["best_val_epoch"] is not None else "no validation nodes, so no best-validation epoch")
    say(f"done in {time.perf_counter() - start:.1f} s: test accuracy {_acc(metrics['test_acc'])} "
        f"({best}); wrote {run}")


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


def _layer(value: int, layers: int) -> int:
    """--layer (numbered from 1, as in the app) to the library's 0-based index."""
    if not 1 <= value <= layers:
        raise GatvizError(f"--layer must be from 1 to {layers}, not {value}")
    return value - 1


def cmd_view(args) -> None:
    limits.check("hops", args.hops, label="--hops")
    limits.check("top_k", args.top_k, label="--top-k")
    trainer = runs.load(args.run_dir)
    graph = trainer.graph
    node = graph.index(args.node)
    # exact α and predictions from the node's receptive field alone: no full-graph forward,
    # so a node of a million-node graph is drawn as fast as one of Cora
    att = subgraph.local_attention(trainer, None, None, node, hops=args.hops).table
    layer = _layer(args.layer, att.layers)
    heads = _head(args.head, att.heads(layer), allow_all=True)
    shown, _ = render.receptive_field(graph, node, args.hops)
    predictions = graph.data.y.numpy().copy()     # nodes outside the view: never drawn
    predictions[shown] = subgraph.predict(trainer, torch.as_tensor(shown)).numpy()
    payload = render.view(graph, att, node, layer, heads, hops=args.hops, top_k=args.top_k,
                          predictions=predictions)
    title = f"gatviz: {graph.name}, node {args.node}, layer {args.layer}"
    try:
        Path(args.out).write_text(render.standalone_html(payload, title), encoding="utf-8")
    except OSError as exc:
        raise GatvizError(f"cannot write {args.out!r}: {exc.strerror}") from None
    print(f"wrote {args.out}", file=sys.stderr)


def cmd_explain(args) -> None:
    trainer = runs.load(args.run_dir)
    graph = trainer.graph
    node = graph.index(args.node)
    layer = _layer(args.layer, len(trainer.model.convs))
    if cli_compare.handle_explain(args, trainer, node, layer):
        return
    if args.steps:
        if not (args.head.isascii() and args.head.isdigit()):
            raise GatvizError(f"--steps replays one head: give --head a number, not {args.head!r}")
        steps = explain.steps_of(trainer, node, layer, int(args.head))
        print(json.dumps(steps.to_dict(), indent=2) if args.json else _steps_text(steps))
        return
    att = cli_compare.attention_at(args, trainer)    # --epoch: a kept snapshot (no e_ij)
    [head] = _head(args.head, att.heads(layer), allow_all=False)
    table = attention.neighbourhood(att, node, layer, head, graph.degree, graph.names)
    own = table[table["self"]].iloc[0]
    self_rank = int(table.index[table["self"]][0]) + 1     # among all inputs; rows are sorted by alpha
    rest = table[~table["self"]].drop(columns=["self", "edge"])
    if args.json:
        print(json.dumps(runs._finite({"node": graph.names[node], "layer": args.layer, "head": head,
                          "epoch": att.epoch, "self_alpha": float(own["alpha"]), "self_score": float(own["score"]),
                          "self_rank": self_rank,
                          "neighbours": rest.drop(columns=["source"]).to_dict(orient="records")}),
                         indent=2))
        return
    print(f"node {graph.names[node]!r}, layer {args.layer}, head {head}: "
          f"{len(rest)} neighbour(s), uniform 1/(deg+1) = {own['uniform']:.4f}")
    print(f"self-attention alpha_ii = {own['alpha']:.4f}  (e_ii = {own['score']:.3f}; "
          f"rank {self_rank} of {len(table)} inputs)")
    if rest.empty:   # an isolated node: its own input only
        print("no neighbours: the node attends only to itself (alpha_ii = 1)")
    else:
        print(rest.drop(columns=["source", "uniform"]).to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def _vec(v, n: int = 4) -> str:
    """First n entries and the norm of a vector, for people."""
    head = ", ".join(f"{x:.3f}" for x in v[:n]) + (", ..." if len(v) > n else "")
    return f"[{head}] (|.| = {float((v ** 2).sum()) ** 0.5:.3f}, {len(v)} entries)"


def _steps_text(s) -> str:
    """The four steps of explain.Steps as a readable walk-through (rounded; --json is exact)."""
    gat = s.model == "gat"
    frame = s.frame().drop(columns=["self"])
    frame["name"] = [f"{n} (self)" if own else n for n, own in zip(s.names, s.is_self)]
    frame["rank"] = [str(r) if r else "-" for r in frame["rank"]]   # ranks count neighbours only
    fmt = {"float_format": lambda v: f"{v:.4f}", "index": False}
    lines = [f"{s.model.upper()}, node {s.names[-1]!r}, layer {s.layer + 1} of {s.layers}, head {s.head} "
             f"of {s.heads}: {s.degree} neighbour(s) + the self-loop",
             "", f"1. z = W h   W is {s.weight_shape[0]} x {s.weight_shape[1]} (heads·F' x F_in); "
             f"head {s.head} uses {len(s.z_target)} rows of it"]
    if not gat:
        lines.append(f"   W_r h_i (target side) = {_vec(s.z_target)}")
    shown = [*range(min(s.degree, 10)), s.degree]      # a hub's first 10 neighbours and itself
    lines += [f"   {'z_j = W h_j' if gat else 'W_l h_j (message)'} of {frame['name'][r]}: {_vec(s.z[r])}"
              for r in shown]
    if s.degree > 10:
        lines.append(f"   ... and {s.degree - 10} more neighbours (--json has every vector)")
    if gat:
        lines += ["", f"2. e_ij = LeakyReLU(a_dst·z_i + a_src·z_j), slope {s.negative_slope:g}; "
                      f"a_dst·z_i = {s.a_dst_z:.4f}"]
        cols = ["name", "a_src_z", "pre", "e"]
    else:
        lines += ["", f"2. e_ij = a · LeakyReLU(s_ij), s_ij = W_r h_i + W_l h_j, slope {s.negative_slope:g}"]
        cols = ["name", "s_norm", "e"]
    lines += ["   " + row for row in frame[cols].to_string(**fmt).splitlines()]
    lines += ["", f"3. softmax: exp(e_ij - max e) sums to {s.exp_sum:.4f}; alpha_ij = exp / sum; "
                  f"uniform 1/(deg_i+1) = {s.uniform:.4f}"]
    lines += ["   " + row for row in frame[["name", "exp", "alpha", "rank"]].to_string(**fmt).splitlines()]
    lines.append(f"   self-loop: alpha_ii = {s.self_alpha:.4f}, rank {s.self_rank} of {len(s.alpha)} inputs "
                 "(neighbour ranks count neighbours only)")
    how = (f"{s.heads} heads concatenated ({len(s.combined)} entries)" if s.concat
           else f"mean of {s.heads} head(s)")
    lines += ["", f"4. sum_j alpha_ij z_j (head {s.head}) = {_vec(s.head_output)}",
              f"   {how}: {_vec(s.combined)}",
              f"   + bias = layer output (before ELU) {_vec(s.layer_output)}"]
    if s.logits is not None:
        label = f" ({s.predicted_label})" if s.predicted_label is not None else ""
        lines.append(f"   last layer: logits {_vec(s.logits)}; predicted class {s.predicted}{label}, "
                     f"p = {s.probabilities[s.predicted]:.4f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command in ("view", "explain"):
            _chosen(args)
        {"train": cmd_train, "view": cmd_view, "explain": cmd_explain,
         "heads": cli_compare.cmd_heads}[args.command](args)
    except GatvizError as exc:
        # one line, whatever it quotes: a line break in a name or path is shown as \n
        print("error: " + str(exc).replace("\r", "\\r").replace("\n", "\\n"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:   # e.g. `explain ... | head`: the reader has gone, nothing to report
        sys.stderr.close()
        return 0
    return 0
