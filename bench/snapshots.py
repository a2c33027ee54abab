"""Benchmark 5: memory held by attention snapshots after a default Cora run."""
from __future__ import annotations

from pathlib import Path

from gatviz import RunConfig, graphs
from gatviz.training import SNAPSHOT_BUDGET, Trainer

from .common import Bench, pick
from .scale import BLOCKS, sbm_params


def run_snapshots(mode: str, out: Path) -> dict:
    config = RunConfig(dataset="cora", epochs=pick(mode, 20, 200, 200), device="cpu")
    trainer = Trainer(graphs.load("cora"), config)
    trainer.step(config.epochs)
    count = len(trainer.snapshots)
    # One snapshot holds alpha of every layer and head over E' = edges + one self-loop per node.
    out = {"epochs": config.epochs, "snapshots": count, "snapshot_mb": trainer.snapshot_bytes / 1e6,
           "per_snapshot_kb": trainer.snapshot_bytes / max(count, 1) / 1e3,
           "snapshot_every_end": trainer.snapshot_every, "budget_mb": SNAPSHOT_BUDGET / 1e6}
    if mode == "full":
        out["sbm50k_max_mb"] = most_held(50_000, epochs=12)
    return out


def most_held(nodes: int, epochs: int) -> float:
    """Most snapshot MB held at any point on an SBM graph, snapshotting every epoch."""
    graph = graphs.sbm(nodes, BLOCKS, *sbm_params(nodes), seed=0)
    trainer = Trainer(graph, RunConfig(dataset="sbm", snapshot_every=1, epochs=epochs, device="cpu"))
    most = 0
    for _ in range(epochs):
        trainer.step(1)
        most = max(most, trainer.snapshot_bytes)
    return most / 1e6


BENCHES = [
    Bench("snapshots", "5. Attention snapshots in memory (Cora, default config)", run_snapshots,
          goals={"snapshot_mb": ("<=", 60.0)},
          labels={"epochs": "epochs trained", "snapshots": "len(trainer.snapshots)",
                  "snapshot_mb": "trainer.snapshot_bytes, MB", "per_snapshot_kb": "per snapshot, kB",
                  "snapshot_every_end": "snapshot interval at the end, epochs",
                  "budget_mb": "SNAPSHOT_BUDGET (never exceeded: older snapshots are thinned first), MB",
                  "sbm50k_max_mb": "most held after any epoch, SBM 50k nodes, snapshot every epoch, 12 epochs (measured), MB"},
          notes="float16 alpha every `snapshot_every` (5) epochs and at the last one. MB = 10^6 bytes. "
                "Before a snapshot is added, every other one is dropped (and the interval doubled) while "
                "the total would pass SNAPSHOT_BUDGET; `sbm50k_max_mb` (full mode) measures the most held "
                "on the scale benchmark's 50k-node graph."),
]
