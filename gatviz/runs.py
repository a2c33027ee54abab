"""Saving and loading a run directory.

::

    RUN_DIR/config.json     the RunConfig
    RUN_DIR/graph.json      where the graph came from (built-in name, or the copied input files)
    RUN_DIR/input/          copies of an uploaded edge file and node file
    RUN_DIR/metrics.json    per-epoch loss and accuracies, final test_acc
    RUN_DIR/attention.csv   layer,head,source,target,alpha (layer from 1; eval mode, after the last epoch)
    RUN_DIR/model.pt        weights + config (loaded with weights_only=True)
    RUN_DIR/snapshots.pt    the attention snapshots kept while training: {"edge_index": (2, E')
                            with self-loops, "snapshot_every": k, "alpha": {epoch: [(E', H_l)
                            float16 per layer]}} (weights_only=True on load; not for GCN)
"""
from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

from . import attention, graphs
from .config import RunConfig
from .errors import GatvizError
from .training import Trainer


@dataclass
class GraphSource:
    """How to rebuild a run's graph: a built-in dataset, or edge/node files."""
    dataset: str
    edges: str | None = None
    nodes: str | None = None

    def load(self, config: RunConfig, base: Path | None = None) -> graphs.Graph:
        if self.edges is None:
            return graphs.load(self.dataset, config)
        from .parse import load_files
        base = base or Path(".")
        nodes = base / self.nodes if self.nodes else None
        return load_files(base / self.edges, nodes, directed=config.directed, seed=config.seed)


def save(run_dir: str | Path, trainer: Trainer, source: GraphSource) -> Path:
    """Write every file of a run; uploaded inputs are copied so the run is self-contained."""
    run = Path(run_dir)
    try:
        run.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GatvizError(f"cannot create run directory {str(run)!r}: {exc.strerror}") from None
    stored = GraphSource(source.dataset)
    if source.edges:
        (run / "input").mkdir(exist_ok=True)
        for attr in ("edges", "nodes"):
            path = getattr(source, attr)
            if path:
                target = run / "input" / f"{attr}{Path(path).suffix or '.txt'}"
                if Path(path).resolve() != target.resolve():
                    shutil.copyfile(path, target)
                setattr(stored, attr, str(target.relative_to(run)))
    (run / "config.json").write_text(trainer.config.to_json() + "\n")
    (run / "graph.json").write_text(json.dumps(stored.__dict__, indent=2) + "\n")
    (run / "metrics.json").write_text(json.dumps(_finite(trainer.metrics()), indent=2) + "\n")
    if trainer.model.has_attention:   # the GCN baseline has no attention to write
        table = attention.to_frame(trainer.attention(), trainer.graph.names)
        table.to_csv(run / "attention.csv", index=False)
        torch.save({"edge_index": trainer.attention().edge_index, "snapshot_every": trainer.snapshot_every,
                    "alpha": {s.epoch: s.alpha for s in trainer.snapshots}}, run / "snapshots.pt")
    torch.save({"state_dict": trainer.model.state_dict(), "config": trainer.config.to_dict(),
                "epoch": trainer.epoch}, run / "model.pt")
    return run


def load(run_dir: str | Path) -> Trainer:
    """Rebuild a trained run: graph, config, weights and history."""
    run = Path(run_dir)
    if not (run / "config.json").is_file():
        raise GatvizError(f"{str(run)!r} is not a gatviz run directory (no config.json)")
    try:
        config = RunConfig.from_json((run / "config.json").read_text())
        source = GraphSource(**json.loads((run / "graph.json").read_text()))
        metrics = json.loads((run / "metrics.json").read_text())
        state = torch.load(run / "model.pt", map_location="cpu", weights_only=True)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise GatvizError(f"cannot read the run in {str(run)!r}: {exc}") from None
    trainer = Trainer(source.load(config, run), config.replace(device="cpu"))
    try:
        trainer.model.load_state_dict(state["state_dict"])
    except (RuntimeError, KeyError):
        raise GatvizError(f"model.pt does not match config.json in {str(run)!r}") from None
    trainer.epoch = int(state.get("epoch", metrics.get("epochs", 0)))
    trainer.history = metrics.get("history", [])
    if (run / "snapshots.pt").is_file():
        _load_snapshots(run, trainer)
    return trainer


def _load_snapshots(run: Path, trainer: Trainer) -> None:
    """Restore ``trainer.snapshots`` from snapshots.pt (runs saved before it existed have none)."""
    from .training import Snapshot
    try:
        saved = torch.load(run / "snapshots.pt", map_location="cpu", weights_only=True)
        edge_index, alpha = saved["edge_index"], saved["alpha"]
        ok = all(len(a) == len(trainer.model.convs) and all(t.size(0) == edge_index.size(1) for t in a)
                 for a in alpha.values())
    except (OSError, RuntimeError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise GatvizError(f"cannot read snapshots.pt in {str(run)!r}: {exc}") from None
    if not ok:
        raise GatvizError(f"snapshots.pt does not match config.json in {str(run)!r}")
    trainer.loop_index = edge_index
    trainer.snapshot_every = int(saved.get("snapshot_every", trainer.snapshot_every))
    trainer.snapshots = [Snapshot(int(e), list(a)) for e, a in sorted(alpha.items())]


def _finite(value):
    """JSON has no NaN: write null instead (e.g. val accuracy of a graph without a val split)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
