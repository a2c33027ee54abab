"""Saving and loading a run directory.

::

    RUN_DIR/config.json     the RunConfig
    RUN_DIR/graph.json      {"format": 1, "dataset", "edges", "nodes"}: the run-directory format
                            version (FORMAT; a run without it is read as format 1, a newer one is
                            refused) and where the graph came from: a built-in name, or the copied
                            input files as paths inside the run directory (nothing else is read)
    RUN_DIR/input/          copies of an uploaded edge file and node file
    RUN_DIR/metrics.json    per-epoch loss and accuracies, final test_acc
    RUN_DIR/attention.csv   layer,head,source,target,alpha (layer from 1; eval mode, after the last epoch);
                            names safe for spreadsheets (gatviz.exports), context in metrics.json
                            under "attention_csv"
    RUN_DIR/model.pt        weights + config (loaded with weights_only=True)
    RUN_DIR/snapshots.pt    the attention snapshots kept while training: {"edge_index": (2, E')
                            with self-loops, "snapshot_every": k, "alpha": {epoch: [(E', H_l)
                            float16 per layer]}} (weights_only=True on load; not for GCN)
"""
from __future__ import annotations

import json
import math
import os
import pickle
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from . import attention, exports, graphs, limits
from .config import RunConfig
from .errors import GatvizError
from . import runzip
from .runzip import load_zip_bytes, pack, save_zip  # noqa: F401  (runs.save_zip etc.; runzip imports runs lazily)
from .training import Trainer

FORMAT = 1   # run-directory format, "format" in graph.json; a run without it is format 1


@dataclass
class GraphSource:
    """How to rebuild a run's graph: a built-in dataset, or edge/node files."""
    dataset: str
    edges: str | None = None
    nodes: str | None = None
    name: str | None = None    # an uploaded graph's name (its file's stem), kept across the copy

    def load(self, config: RunConfig, base: Path | None = None) -> graphs.Graph:
        if self.edges is None:
            return graphs.load(self.dataset, config)
        from .parse import load_files
        base = base or Path(".")
        nodes = base / self.nodes if self.nodes else None
        graph = load_files(base / self.edges, nodes, directed=config.directed, seed=config.seed)
        graph.name = self.name or graph.name
        return graph


def check_target(run_dir: str | Path) -> None:
    """Refuse, before any training, a place a run cannot be written to (GatvizError, one line).

    A folder must be new, empty, or hold nothing but a gatviz run's files (an earlier run,
    which the new run replaces: none of its files is left behind); a folder holding anything
    else is never written into. A ``.zip`` target must not be a folder. The nearest existing parent must be a
    writable folder.
    """
    run = Path(run_dir)
    if run.suffix.lower() == ".zip":
        if run.is_dir():
            raise GatvizError(f"{str(run)!r} is a folder: give a new name for the run zip")
    elif run.exists() and not run.is_dir():
        raise GatvizError(f"{str(run)!r} is a file: --out needs a folder for the run (or a name ending in .zip)")
    elif run.is_dir() and (others := sorted(p.name for p in run.iterdir() if not _is_run_file(p))):
        shown = ", ".join(others[:3]) + (", …" if len(others) > 3 else "")
        raise GatvizError(f"{str(run)!r} holds files that are not a gatviz run's ({shown}): give a new or empty "
                          f"folder, or an earlier run to replace")
    parent = run if run.is_dir() and run.suffix.lower() != ".zip" else run.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise GatvizError(f"cannot write the run in {str(run)!r}: {str(parent)!r} is not a folder this user can "
                          f"write to")


def _is_run_file(path: Path) -> bool:
    """One of the files (or the input folder) :func:`save` writes in a run folder."""
    if path.name == "input" and path.is_dir():
        return all(runzip.INPUT.fullmatch(f"input/{p.name}") for p in path.iterdir())
    return path.name in runzip.FILES and path.is_file()


def _clear(run: Path, keep: set[Path]) -> None:
    """Remove an earlier run's files from ``run`` (not the new run's inputs, in ``keep``)."""
    for name in runzip.FILES:
        (run / name).unlink(missing_ok=True)
    if (run / "input").is_dir():
        for path in (run / "input").iterdir():
            if runzip.INPUT.fullmatch(f"input/{path.name}") and path.resolve() not in keep:
                path.unlink()


def save(run_dir: str | Path, trainer: Trainer, source: GraphSource) -> Path:
    """Write every file of a run; uploaded inputs are copied so the run is self-contained.

    A ``run_dir`` ending in ``.zip`` gets the same files as one zip (:func:`save_zip`).
    """
    if trainer.spoiled:   # weights that give no finite outputs are not a run
        raise GatvizError(trainer.spoiled)
    run = Path(run_dir)
    check_target(run)
    if run.suffix.lower() == ".zip":
        try:
            run.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise GatvizError(f"cannot create the folder {str(run.parent)!r}: {exc.strerror}") from None
        save_zip(trainer, source, run)
        return run
    try:
        run.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GatvizError(f"cannot create run directory {str(run)!r}: {exc.strerror}") from None
    try:
        _clear(run, {Path(p).resolve() for p in (source.edges, source.nodes) if p})
        _write(run, trainer, source)
    except OSError as exc:   # disk full, read-only folder, a file where a folder should be
        raise GatvizError(f"cannot write the run in {str(run)!r}: {exc.strerror or exc}") from None
    return run


def _write(run: Path, trainer: Trainer, source: GraphSource) -> None:
    stored = GraphSource(source.dataset)
    if source.edges:
        (run / "input").mkdir(exist_ok=True)
        for attr in ("edges", "nodes"):
            path = getattr(source, attr)
            if path:
                suffix = Path(path).suffix    # a plain one only: a run zip takes input/edges.csv, not "edges.b c"
                suffix = suffix if runzip.INPUT.fullmatch("input/edges" + suffix) else ".txt"
                target = run / "input" / f"{attr}{suffix}"
                if Path(path).resolve() != target.resolve():
                    shutil.copyfile(path, target)
                setattr(stored, attr, str(target.relative_to(run)))
        stored.name = trainer.graph.name
    (run / "config.json").write_text(trainer.config.to_json() + "\n")
    fields = {k: v for k, v in stored.__dict__.items() if k != "name" or v is not None}
    (run / "graph.json").write_text(json.dumps({"format": FORMAT, **fields}, indent=2) + "\n")
    metrics = trainer.metrics()
    if trainer.model.has_attention:   # the GCN baseline has no attention to write
        metrics["attention_csv"] = exports.attention_context(trainer.graph.name, trainer.config.model.upper(),
                                                             trainer.epoch)
        graph = trainer.graph
        if limits.fits_full_batch(graph.num_nodes, graph.num_edges, graph.report.directed):
            table = attention.to_frame(trainer.attention(), graph.names)
            (run / "attention.csv").write_text(exports.safe_csv(table), encoding="utf-8")
        else:   # rows = edges x heads x layers: tens of millions past the full-batch caps
            metrics["attention_csv_skipped"] = ("the graph is past the full-batch caps (gatviz/limits.py); "
                                                "view and explain compute any node's attention exactly")
        torch.save({"edge_index": trainer.attention().edge_index, "snapshot_every": trainer.snapshot_every,
                    "alpha": {s.epoch: s.alpha for s in trainer.snapshots}}, run / "snapshots.pt")
    torch.save({"state_dict": trainer.model.state_dict(), "config": trainer.config.to_dict(),
                "epoch": trainer.epoch}, run / "model.pt")
    (run / "metrics.json").write_text(json.dumps(_finite(metrics), indent=2) + "\n")


def load(run_dir: str | Path) -> Trainer:
    """Rebuild a trained run (a run directory, or a run zip): graph, config, weights and history.

    Every file is checked before use; whatever is wrong with one becomes a
    one-line GatvizError naming the file (never torch's own message).
    """
    run = Path(run_dir)
    if run.is_file():   # a run zip: checked member by member, unpacked into a temporary folder
        from . import runzip
        return runzip.load(run)
    if not (run / "config.json").is_file():
        raise GatvizError(f"{str(run)!r} is not a gatviz run directory (no config.json)")
    config = _config(run)
    source = _source(run)
    history = _history(run)
    state = _weights(run)
    try:
        graph = source.load(config, run)
    except GatvizError as exc:
        raise _bad(run, "graph.json", f"names a graph that cannot be loaded: {exc}") from None
    trainer = Trainer(graph, config.replace(device="cpu"))
    try:
        trainer.model.load_state_dict(state["state_dict"])
    except (RuntimeError, KeyError, TypeError, AttributeError, ValueError):
        raise GatvizError(f"model.pt does not match config.json in {str(run)!r}") from None
    trainer.epoch = state["epoch"] if "epoch" in state else len(history)
    trainer.history = history
    if (run / "snapshots.pt").is_file():
        _load_snapshots(run, trainer)
    return trainer


def _bad(run: Path, name: str, what: str) -> GatvizError:
    return GatvizError(f"cannot load the run in {str(run)!r}: {name} {what}")


def _json(run: Path, name: str, kind: type = dict):
    try:
        data = json.loads((run / name).read_text(encoding="utf-8"))
    except OSError as exc:
        raise _bad(run, name, f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise _bad(run, name, "is not valid JSON (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise _bad(run, name, f"is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except RecursionError:
        raise _bad(run, name, "is not valid JSON (nested too deeply)") from None
    if not isinstance(data, kind):
        raise _bad(run, name, f"must be a JSON object, not {type(data).__name__}")
    return data


def _config(run: Path) -> RunConfig:
    try:
        return RunConfig.from_dict(_json(run, "config.json"))
    except GatvizError as exc:
        if str(exc).startswith("cannot load the run"):
            raise
        raise _bad(run, "config.json", f"is wrong: {exc}") from None


def _source(run: Path) -> GraphSource:
    """graph.json: format version and where the graph came from, inside the run directory only."""
    data = _json(run, "graph.json")
    version = data.pop("format", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _bad(run, "graph.json", f"has format {version!r}; formats are whole numbers from 1")
    if version > FORMAT:
        raise _bad(run, "graph.json", f"has format {version}, newer than this gatviz reads "
                                      f"(up to {FORMAT}): update gatviz to load it")
    unknown = sorted(set(data) - {"dataset", "edges", "nodes", "name"})
    if unknown:
        raise _bad(run, "graph.json", f"has unknown key(s): {', '.join(map(repr, unknown))[:80]}")
    if not isinstance(data.get("dataset"), str):
        raise _bad(run, "graph.json", f"dataset must be a name, not {data.get('dataset')!r:.40}")
    if data.get("name") is not None and not (isinstance(data["name"], str) and 0 < len(data["name"]) <= 200):
        raise _bad(run, "graph.json", f"name must be text of 1 to 200 characters, not {data['name']!r:.40}")
    inside = run.resolve()
    for key in ("edges", "nodes"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise _bad(run, "graph.json", f"{key} must be a path relative to the run directory, not {value!r:.40}")
        # only files inside the run: a run from a stranger must not read /etc/passwd or ../secret
        if Path(value).is_absolute() or not (run / value).resolve().is_relative_to(inside):
            raise _bad(run, "graph.json", f"{key} {value!r:.60} points outside the run directory")
    return GraphSource(**data)


HISTORY_KEYS = ("epoch", "loss", "val_loss", "train_acc", "val_acc", "test_acc")


def _history(run: Path) -> list[dict]:
    """metrics.json's per-epoch rows; null (NaN when written, e.g. no validation nodes) back to NaN."""
    history = _json(run, "metrics.json").get("history", [])
    if not isinstance(history, list):
        raise _bad(run, "metrics.json", f"history must be a list, not {type(history).__name__}")
    rows = []
    for n, row in enumerate(history, start=1):
        ok = isinstance(row, dict) and all(
            k in row and (row[k] is None or isinstance(row[k], (int, float)) and not isinstance(row[k], bool))
            for k in HISTORY_KEYS) and isinstance(row["epoch"], int)
        if not ok:
            raise _bad(run, "metrics.json", f"history row {n} is not an epoch's numbers "
                                            f"({', '.join(HISTORY_KEYS)})")
        rows.append({k: math.nan if v is None and k != "epoch" else v for k, v in row.items()})
    return rows


def _torch_load(run: Path, name: str):
    """torch.load with weights_only=True; any failure is one line that never suggests turning it off."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(run / name, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch's text here tells the user to retry with weights_only=False: never pass that on
        raise _bad(run, name, "is damaged or holds Python objects beyond tensors and numbers; "
                              "gatviz does not load those (loading them could run code)") from None
    except OSError as exc:
        raise _bad(run, name, f"cannot be read ({exc.strerror or exc})") from None
    except Exception:   # a damaged file: torch raises RuntimeError, EOFError, KeyError, ...
        raise _bad(run, name, "is truncated or not a PyTorch checkpoint") from None


def _weights(run: Path) -> dict:
    state = _torch_load(run, "model.pt")
    if not isinstance(state, dict) or not isinstance(state.get("state_dict"), dict):
        raise _bad(run, "model.pt", "is not a gatviz checkpoint (no state_dict of tensors)")
    if not all(isinstance(k, str) and torch.is_tensor(v) for k, v in state["state_dict"].items()):
        raise _bad(run, "model.pt", "has a state_dict holding something other than named tensors")
    epoch = state.get("epoch", 0)
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise _bad(run, "model.pt", f"has epoch {epoch!r:.40}; expected a whole number")
    return state


def _load_snapshots(run: Path, trainer: Trainer) -> None:
    """Restore ``trainer.snapshots`` from snapshots.pt (runs saved before it existed have none)."""
    from .training import Snapshot
    saved = _torch_load(run, "snapshots.pt")
    try:
        edge_index, alpha = saved["edge_index"], saved["alpha"]
        ok = all(len(a) == len(trainer.model.convs) and all(t.size(0) == edge_index.size(1) for t in a)
                 for a in alpha.values())
    except (RuntimeError, ValueError, TypeError, KeyError, AttributeError):
        raise _bad(run, "snapshots.pt", "is not a gatviz snapshot file") from None
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
