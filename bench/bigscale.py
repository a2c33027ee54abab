"""Benchmarks of big graphs: full batch vs mini-batch, 1 vs 2 processes, peak RSS, exact view.

``bigscale``: a seeded SBM (10 blocks, mean degree 10: 200k nodes, ~2M directed edges in the
full run; 1M nodes where the 200k run projects under MAX_PROJECTED_GB). Each measurement
runs in a fresh process (``python -m bench.bigscale WHAT NODES``) so its peak RSS (VmHWM,
reset after imports, minus the RSS then; building or loading the graph included) is its own:

- ``full``: one full-batch training step (forward + backward + Adam on the whole graph),
- ``mini``: a mini-batch epoch (batch 1024, fanout 10,10, gatviz.minibatch) over the training
  nodes (60 % of the nodes): BENCH_BATCHES (20) batches timed after 2 warm-up ones, scaled to the
  epoch's batch count; and the exact full-graph eval pass (α, e_ij, logits),
- ``view``: from a node's name to its exact view (gatviz.subgraph.local_attention on its
  receptive field, predictions of the drawn nodes, gatviz.render.view), median of 5 nodes,
- ``ddp``: the same mini-batch epoch split over 2 processes under torchrun (gloo), DDP
  averaging gradients.

Every process runs one torch thread (BENCH_THREADS): on the shared 2-core machine two threads
in one process spun against the other processes' load (a 200k mini-batch epoch took 338 s
with 2 threads, 52 s with 1).

``distributed``: Cora, 5 seeds, 200 epochs: test accuracy of 2 processes under torchrun
(``--distributed``, batch 64, fanout 10) against one process (full batch, and mini-batch
with the same batch and fanout). CPU only: no GPU on this machine.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import ROOT, Bench, pick

DEGREE, BLOCKS, INSIDE = 10.0, 10, 0.9
MAX_PROJECTED_GB = 8.0    # the machine is shared: a size whose projected peak is over this is skipped
SEEDS, CORA_EPOCHS, CORA_BATCH = 5, 200, 64


def sbm_params(nodes: int) -> tuple[float, float]:
    size = nodes / BLOCKS
    return DEGREE * INSIDE / (size - 1), DEGREE * (1 - INSIDE) / (nodes - size)


def _rss(key: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(key)


def _graph(nodes: int):
    """The seeded SBM, built once and cached in the temp folder for the other children
    (the build's eigensolve costs minutes at 200k nodes on a busy 2-core machine)."""
    import pickle
    from gatviz import graphs
    import hashlib
    code = hashlib.sha256(Path(graphs.__file__).read_bytes()).hexdigest()[:12]   # a changed builder: a new file
    cache = Path(tempfile.gettempdir()) / f"gatviz-bench-sbm-{nodes}-{DEGREE:g}-{code}.pkl"
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    p_in, p_out = sbm_params(nodes)
    graph = graphs.sbm(nodes, BLOCKS, p_in, p_out, seed=0, minibatch=True)
    cache.write_bytes(pickle.dumps(graph))
    return graph


def _batches(trainer, limit: int) -> tuple[float, int]:
    """Seconds per mini-batch epoch: ``limit`` batches timed (all when 0), scaled to the epoch's count."""
    import torch.nn.functional as F
    model, opt, loader = trainer.model, trainer.optimizer, trainer.batches.loader
    forward = trainer.batches.forward or model
    model.train()
    done, start = 0, time.perf_counter()
    for batch in loader:   # the loop of MiniBatches.train_epoch, stopped after `limit` batches
        opt.zero_grad()
        out = forward(batch.x, batch.edge_index)[:batch.batch_size]
        F.cross_entropy(out, batch.y[:batch.batch_size]).backward()
        opt.step()
        done += 1
        if done == limit:
            break
    return (time.perf_counter() - start) * len(loader) / done, done


BATCHES_TIMED = int(os.environ.get("BENCH_BATCHES", "20"))   # per measurement; 0: a whole epoch


def _config(nodes: int, **kw):
    from gatviz import RunConfig
    p_in, p_out = sbm_params(nodes)
    return RunConfig(dataset="sbm", sbm_nodes=nodes, sbm_blocks=BLOCKS, sbm_p_in=p_in, sbm_p_out=p_out,
                     device="cpu", fanout="10", **kw)


def measure(what: str, nodes: int) -> dict:
    """One measurement in this (fresh) process; see the module docstring."""
    import torch
    import torch.nn.functional as F
    from gatviz import attention, render, subgraph
    from gatviz.training import Trainer

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "1")))
    Path("/proc/self/clear_refs").write_text("5")     # peak from here on
    rss0 = _rss()
    start = time.perf_counter()
    graph = _graph(nodes)
    out = {"nodes": nodes, "edges": graph.num_edges, "build_s": time.perf_counter() - start,
           "graph_mb": (_rss() - rss0) / 1e6}
    trainer = Trainer(graph, _config(nodes, batch_size=1024))
    model, opt = trainer.model, trainer.optimizer
    if what == "full":
        trainer.batches = None
        times = []
        for _ in range(2):
            start = time.perf_counter()
            model.train()
            opt.zero_grad()
            logits = model(trainer.x, trainer.edge_index)
            mask = trainer.masks["train"]
            F.cross_entropy(logits[mask], trainer.y[mask]).backward()
            opt.step()
            times.append(time.perf_counter() - start)
        out["full_epoch_s"] = min(times)
    elif what == "mini":
        _batches(trainer, 2)    # the first batches pay for lazy setup
        out["mini_epoch_s"], out["batches_timed"] = _batches(trainer, BATCHES_TIMED)
        out["batches"] = len(trainer.batches)
        start = time.perf_counter()
        attention.extract(model, trainer.x, trainer.edge_index)
        out["eval_s"] = time.perf_counter() - start
    elif what == "view":   # the untrained model: the cost of a view does not depend on the weights
        names = [graph.names[i] for i in torch.randperm(graph.num_nodes, generator=torch.Generator().manual_seed(0))[:5]]
        times = []
        for name in names:
            start = time.perf_counter()
            node = graph.index(name)
            att = subgraph.local_attention(trainer, None, None, node, hops=1).table
            shown, _ = render.receptive_field(graph, node, 1)
            predictions = graph.data.y.numpy().copy()
            predictions[shown] = subgraph.predict(trainer, torch.as_tensor(shown)).numpy()
            render.view(graph, att, node, 0, [0, "mean"], hops=1, predictions=predictions)
            times.append(time.perf_counter() - start)
        out["view_ms"] = 1e3 * statistics.median(times)
    out["peak_mb"] = (_rss("VmHWM") - rss0) / 1e6
    return out


def ddp_worker(nodes: int) -> dict | None:
    """Under torchrun: one mini-batch epoch split over the ranks; rank 0 returns the figures."""
    import torch
    import torch.distributed as dist
    from gatviz.distributed import Run

    torch.set_num_threads(1)
    Path("/proc/self/clear_refs").write_text("5")
    rss0 = _rss()
    graph = _graph(nodes)
    with Run("cpu") as group:
        trainer = group.trainer(graph, _config(nodes, batch_size=1024))
        _batches(trainer, 2)     # warm-up, as "mini"
        group.barrier()
        seconds, _ = _batches(trainer, BATCHES_TIMED)
        group.barrier()
        peak = torch.tensor([(_rss("VmHWM") - rss0) / 1e6])
        dist.all_reduce(peak, op=dist.ReduceOp.SUM)
        if group.main:
            return {"ddp_epoch_s": seconds, "ddp_batches_per_rank": len(trainer.batches),
                    "ddp_peak_mb_all_ranks": float(peak)}
    return None


def _child(args: list[str], torchrun: bool = False, timeout: int = 3600) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = ([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
           if torchrun else [sys.executable]) + ["-m", "bench.bigscale", *args]
    done = subprocess.run(["nice", *cmd], env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr[-2000:]}")
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(line)


def run_bigscale(mode: str, out: Path) -> dict:
    """Every size in fresh processes; smoke (for CI) runs the mini-batch child only."""
    sizes = pick(mode, [1000], [20_000], [200_000, 1_000_000])
    if os.environ.get("BIGSCALE_SIZES"):    # e.g. "200000": a shorter full run
        sizes = [int(v) for v in os.environ["BIGSCALE_SIZES"].split(",")]
    figures, details = {}, {}
    for i, nodes in enumerate(sizes):
        tag = f"{nodes // 1000}k"
        if i and figures.get(f"projected_gb_{tag}", 0) > MAX_PROJECTED_GB:
            details[f"skipped_{tag}"] = f"projected peak {figures[f'projected_gb_{tag}']:.1f} GB > {MAX_PROJECTED_GB}"
            continue
        rows = {}
        for what in ("mini",) + (() if mode == "smoke" else ("view",) + (("full",) if i == 0 else ()) + ("ddp",)):
            rows[what] = _child([what, str(nodes)], torchrun=what == "ddp")
            print(f"   {tag} {what}: {rows[what]}", flush=True)
        figures.update(size_figures(tag, rows))
        if i + 1 < len(sizes):   # peaks grow with edges: project the next size's before running it
            nxt = sizes[i + 1]
            peak = max(rows["mini"]["peak_mb"], rows.get("ddp", {}).get("ddp_peak_mb_all_ranks", 0))
            figures[f"projected_gb_{nxt // 1000}k"] = peak * nxt / nodes / 1e3
        details[tag] = rows
    return figures | {"details": details}


def size_figures(tag: str, rows: dict) -> dict:
    """The figures of one size from its children's results."""
    m = rows["mini"]
    out = {f"edges_{tag}": m["edges"], f"build_s_{tag}": m["build_s"], f"mini_epoch_s_{tag}": m["mini_epoch_s"],
           f"eval_s_{tag}": m["eval_s"], f"mini_peak_mb_{tag}": m["peak_mb"]}
    if "view" in rows:
        out[f"view_ms_{tag}"] = rows["view"]["view_ms"]
    if "ddp" in rows:
        d = rows["ddp"]
        out.update({f"ddp_epoch_s_{tag}": d["ddp_epoch_s"], f"ddp_speedup_{tag}": m["mini_epoch_s"] / d["ddp_epoch_s"],
                    f"ddp_peak_mb_{tag}": d["ddp_peak_mb_all_ranks"]})
    if "full" in rows:
        f = rows["full"]
        out.update({f"full_epoch_s_{tag}": f["full_epoch_s"], f"full_peak_mb_{tag}": f["peak_mb"],
                    f"full_over_mini_epoch_{tag}": f["full_epoch_s"] / m["mini_epoch_s"]})
    return out


def _cora_runs(seed: int, tmp: Path, dataset: str = "cora", epochs: int = CORA_EPOCHS) -> dict:
    """Test accuracy of one seed: 2 processes, 1 process full batch, 1 process mini-batch."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    common = ["-m", "gatviz", "train", "--dataset", dataset, "--epochs", str(epochs), "--seed", str(seed)]
    out = {}
    for name, prefix, extra in (
            ("two", [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"],
             ["--batch-size", str(CORA_BATCH), "--distributed"]),
            ("full", [sys.executable], []),
            ("mini", [sys.executable], ["--batch-size", str(CORA_BATCH)]))[:2 if dataset == "karate" or
                                                                            os.environ.get("DIST_NO_MINI") else 3]:
        run = tmp / f"{name}-{seed}"
        start = time.perf_counter()
        done = subprocess.run(["nice", *prefix, *common, *extra, "--out", str(run)], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:])
        out[f"{name}_s"] = time.perf_counter() - start
        out[name] = json.loads((run / "metrics.json").read_text())["test_acc"]
    return out


def run_distributed(mode: str, out: Path) -> dict:
    seeds, dataset, epochs = pick(mode, (1, "karate", 3), (2, "cora", 50), (SEEDS, "cora", CORA_EPOCHS))
    epochs = int(os.environ.get("DIST_EPOCHS", epochs))    # a shorter full run on a busy machine
    with tempfile.TemporaryDirectory() as tmp:
        rows = [_cora_runs(s, Path(tmp), dataset, epochs) for s in range(seeds)]
    for r in rows:
        print(f"   {r}", flush=True)
    ran = [k for k in ("two", "full", "mini") if k in rows[0]]    # smoke and DIST_NO_MINI: no mini
    mean = {k: statistics.fmean(r[k] for r in rows) for k in ran}
    out = {"seeds": seeds, "epochs": epochs, "two_proc_acc": mean["two"], "one_proc_full_acc": mean["full"],
           "gap_points_vs_full": 100 * abs(mean["two"] - mean["full"])}
    if "mini" in mean:
        out.update({"one_proc_mini_acc": mean["mini"], "gap_points_vs_mini": 100 * abs(mean["two"] - mean["mini"])})
    # wall times go with the details: on a shared machine they say more about the others' load
    return out | {"details": {"runs": rows, "dataset": dataset}}


LABELS = {
    "edges": "directed message-passing edges", "build_s": "building the SBM (s)",
    "mini_epoch_s": "mini-batch epoch, 1 process (s)", "eval_s": "exact full-graph eval pass (s)",
    "mini_peak_mb": "peak RSS, mini-batch training + eval (MB)", "view_ms": "node name to exact view (ms)",
    "ddp_epoch_s": "mini-batch epoch, 2 processes (s)", "ddp_speedup": "1 process / 2 processes, epoch time",
    "ddp_peak_mb": "peak RSS, both processes together (MB)", "full_epoch_s": "full-batch training step (s)",
    "full_peak_mb": "peak RSS, full-batch step (MB)", "full_over_mini_epoch": "full-batch step / mini-batch epoch",
    "projected_gb": "projected peak (GB), skipped past MAX_PROJECTED_GB"}


BENCHES = [
    Bench("bigscale", "Big graphs: full batch vs mini-batch, 1 vs 2 processes, peak RSS, exact view",
          run_bigscale, notes=__doc__.split("\n\n")[1],
          labels={f"{k}_{t}": f"{v}, {t} nodes" for k, v in LABELS.items() for t in ("1k", "20k", "200k", "1000k")}),
    Bench("distributed", "Cora under torchrun: 2 processes vs 1, 5 seeds",
          run_distributed, goals={"gap_points_vs_full": ("<=", 1.5)},
          labels={"two_proc_acc": "test accuracy, 2 processes (torchrun, mean of the seeds)",
                  "one_proc_full_acc": "test accuracy, 1 process, full batch (mean)",
                  "one_proc_mini_acc": "test accuracy, 1 process, mini-batch (mean)",
                  "gap_points_vs_full": "|2 processes - 1 process|, points",
                  "gap_points_vs_mini": "|2 processes - 1 process mini-batch|, points"},
          notes="Cora, 2 processes under torchrun (--distributed, batch 64, fanout 10) against one process "
                "(full batch), test accuracy after the last epoch, seeds 0-4."),
]


if __name__ == "__main__":
    what, nodes = sys.argv[1], int(sys.argv[2])
    result = ddp_worker(nodes) if what == "ddp" else measure(what, nodes)
    if result is not None:
        print(json.dumps(result), flush=True)
