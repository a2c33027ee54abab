"""Benchmark 4: how build, training, extraction and memory grow with the graph.

Seeded SBM graphs (10 blocks, mean degree ~9, 90 % of a node's edges inside
its block). Each size runs in a fresh process (``python -m bench.scale N MODE``)
so that its peak RSS is its own: peak = the process's high-water RSS
(``VmHWM``, reset just before the build) after building the graph, two
epochs and one extraction, minus the RSS before the build (taken after a
warm-up run on a 600-node graph). Not ``ru_maxrss``: Linux carries the
parent's RSS at fork into a child's ``ru_maxrss`` across exec.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from .common import ROOT, Bench, interleave, pick

SIZES = {"smoke": [300, 1000], "quick": [1000, 5000], "full": [1000, 5000, 20000, 50000]}
BLOCKS, DEGREE, INSIDE = 10, 9.0, 0.9


def _node_switch(trainer) -> str:
    from .interaction import node_switch
    return node_switch(trainer)


def _node_switch_all(trainer) -> str:
    from .interaction import node_switch
    return node_switch(trainer, all_heads_too=True)


# Hooks for the view benchmark: a callable(trainer) -> payload (str, bytes or JSON-able)
# that builds the view of one node. When set, every size also reports its build time
# and payload size (VIEW_BUILD), and the payload size of VIEW_ALL. Both: the app's
# node switch to its default centre (the first node at the 90th degree percentile),
# 1 hop, fresh positions; VIEW_BUILD draws head 0, VIEW_ALL every head and their mean.
VIEW_BUILD: Callable[[object], object] | None = _node_switch
VIEW_ALL: Callable[[object], object] | None = _node_switch_all


def sbm_params(nodes: int) -> tuple[float, float]:
    """p_in, p_out giving mean degree DEGREE with a fraction INSIDE of it inside the block."""
    size = nodes / BLOCKS
    return DEGREE * INSIDE / (size - 1), DEGREE * (1 - INSIDE) / (nodes - size)


def tag(nodes: int) -> str:
    """Figure-name suffix of a size: 300 -> "300", 20000 -> "20k"."""
    return f"{nodes // 1000}k" if nodes >= 1000 and nodes % 1000 == 0 else str(nodes)


def payload_size(payload) -> int:
    """Bytes of a payload: str (UTF-8), bytes, or anything JSON-able."""
    if not isinstance(payload, (str, bytes)):
        payload = json.dumps(payload)
    return len(payload.encode() if isinstance(payload, str) else payload)


def time_view(trainer, build: Callable[[object], object] | None, repeats: int,
              build_all: Callable[[object], object] | None = None) -> dict:
    """Median ms of ``build(trainer)``, the kB of what it returns, and the kB of ``build_all``'s."""
    if build is None:
        return {}
    from .interaction import app_threads

    with app_threads():   # the app's torch threads (1): the view's torch calls are tiny
        size = payload_size(build(trainer))
        t = interleave({"view": lambda: build(trainer)}, repeats, warmup=1)
        out = {"view_ms": 1e3 * t.median("view"), "view_kb": size / 1e3}
        return out | ({"view_all_kb": payload_size(build_all(trainer)) / 1e3} if build_all else {})


def rss_bytes(key: str = "VmRSS") -> int:
    """Current (VmRSS) or high-water (VmHWM) resident memory of this process, from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {key} in /proc/self/status")


def reset_peak() -> None:
    """Set VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
    Path("/proc/self/clear_refs").write_text("5")


def measure(nodes: int, mode: str) -> dict:
    """All figures of one size, in this process (call it in a fresh one)."""
    import torch
    from gatviz import RunConfig, attention, graphs
    from gatviz.training import Trainer

    from .common import set_threads
    from .train import Reference

    set_threads()
    # Warm up on a tiny graph first: torch and PyG allocate ~100 MB of lazy state on
    # their first training step and eigensolve, which is not this graph's cost.
    tiny = graphs.sbm(600, 2, 0.02, 0.002, seed=1)   # > 500 nodes: the same feature code path
    Trainer(tiny, RunConfig(dataset="sbm", device="cpu")).step(2)
    p_in, p_out = sbm_params(nodes)
    reset_peak()
    rss0 = rss_bytes()
    start = time.perf_counter()
    graph = graphs.sbm(nodes, BLOCKS, p_in, p_out, seed=0)
    build_s = time.perf_counter() - start
    config = RunConfig(dataset="sbm", sbm_nodes=nodes, sbm_blocks=BLOCKS, sbm_p_in=p_in,
                       sbm_p_out=p_out, device="cpu")
    trainer = Trainer(graph, config)
    trainer.step(2)
    attention.extract(trainer.model, trainer.x, trainer.edge_index, scores=True)
    peak_mb = (rss_bytes("VmHWM") - rss0) / 1e6

    ref = Reference(graph, torch.device("cpu"))
    repeats = max(3, round(pick(mode, 3, 10, 30) * min(1.0, 5000 / nodes) ** 0.5))
    t = interleave({"ref": ref.epoch, "ours": lambda: trainer.step(1),
                    "extract": lambda: attention.extract(trainer.model, trainer.x, trainer.edge_index,
                                                         scores=True)}, repeats, warmup=2)
    return {"nodes": nodes, "edges": graph.num_edges, "build_s": build_s, "epoch_s": t.median("ours"),
            "ref_epoch_s": t.median("ref"), "epoch_ratio": t.ratio("ours", "ref"),
            "eval_s": t.median("extract"),
            "peak_rss_mb": peak_mb, "repeats": repeats} | time_view(trainer, VIEW_BUILD, repeats, VIEW_ALL)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    edges = [r["edges"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.loglog(edges, [r["epoch_s"] for r in rows], "o-", label="gatviz epoch (Trainer.step(1))")
    ax.loglog(edges, [r["ref_epoch_s"] for r in rows], "s--", label="PyG-example epoch (reference)")
    ax.loglog(edges, [r["eval_s"] for r in rows], "^-", label="eval + attention (extract, scores)")
    for r in rows:
        ax.annotate(f"{r['nodes']:,} nodes", (r["edges"], r["epoch_s"]), fontsize=7,
                    textcoords="offset points", xytext=(4, -10))
    ax.set_xlabel("directed edges (both directions, no self-loops)")
    ax.set_ylabel("seconds (median)")
    ax.set_title("gatviz on seeded SBM graphs, CPU")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run_scale(mode: str, out: Path) -> dict:
    rows = []
    for nodes in SIZES[mode]:
        proc = subprocess.run([sys.executable, "-m", "bench.scale", str(nodes), mode], cwd=ROOT,
                              capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"scale {nodes} nodes failed:\n{proc.stderr}")
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"  {nodes:>6,} nodes: {rows[-1]}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    plot(rows, out / "scale.png")
    figures = {f"{k}_{tag(r['nodes'])}": v
               for r in rows for k, v in r.items() if k not in ("nodes", "repeats")}
    return figures | {"plot": "scale.png", "rows": rows}


_WHAT = {"edges": "directed edges", "build_s": "graphs.sbm build, s (absolute, once)",
         "epoch_s": "Trainer.step(1), s", "ref_epoch_s": "reference epoch, s",
         "epoch_ratio": "gatviz / reference epoch", "eval_s": "extract(scores=True), s",
         "peak_rss_mb": "peak RSS above start, MB",
         "view_ms": "node switch, 1 head, 1 hop (positions + view + JSON), ms",
         "view_kb": "view payload, 1 head, kB", "view_all_kb": "view payload, all heads, kB"}

def table(entry: dict) -> list[str]:
    """One row per size."""
    rows = entry["details"]["rows"]
    keys = [k for k in _WHAT if any(k in r for r in rows)]
    lines = ["| nodes | " + " | ".join(_WHAT[k] for k in keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for r in rows:
        cells = [f"{r[k]:,}" if isinstance(r.get(k), int) else f"{r[k]:.3g}" if k in r else "—" for k in keys]
        lines.append(f"| {r['nodes']:,} | " + " | ".join(cells) + " |")
    return lines


BENCHES = [
    Bench("scale", "4. Scale: seeded SBM graphs, CPU", run_scale,
          goals={"epoch_s_20k": ("<=", 0.5), "view_kb_20k": ("<=", 100.0), "view_all_kb_20k": ("<=", 100.0)},
          labels={f"{k}_{tag(n)}": f"{n:,} nodes: {v}" for n in sorted({n for v in SIZES.values() for n in v})
                  for k, v in _WHAT.items()},
          notes="SBM: 10 blocks, mean degree ~9 (90 % of edges inside the block), seed 0; "
                "features are gatviz's defaults (above 500 nodes: log-degree one-hot + 8 Laplacian eigenvectors). "
                "Epoch times are medians interleaved with the PyG-example reference on the same graph; "
                "the 0.5 s goal is absolute, so read it with the ratio beside it. Build time is "
                "measured once. Peak memory: each size in a fresh process, high-water RSS (`VmHWM`, reset "
                "before the build) after build + 2 epochs + 1 extraction, minus RSS before the build; "
                "MB = 10^6 bytes. View: the app's node switch (`bench/interaction.py`'s `node_switch`) to its "
                "default centre, the first node at the 90th degree percentile: fresh `Layouts.positions` "
                "(1 hop) + `render.view(heads=[0], top_k=40)` + `render.to_json`, median of the same repeats "
                "(absolute; torch on 1 thread, as the app sets it); kB = 1000 bytes of compact JSON, all-heads = 8 heads + their mean.",
          extra=table),
]


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]), sys.argv[2])))
