"""Data-parallel training under torchrun: 2 CPU processes (gloo), one run directory.

The full comparison (5 seeds, 200 epochs, 1 vs 2 processes, means within 1.5 points) is
bench/distributed.py, whose figures are in BENCHMARKS.md; here one seed and fewer epochs
keep CI short (about a minute on 2 cores).
"""
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from gatviz import RunConfig, cli, graphs, runs
from gatviz.training import Trainer

ROOT = Path(__file__).resolve().parent.parent
EPOCHS = 60


@pytest.mark.slow
def test_two_processes_write_one_consistent_run_and_match_one_process(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         "-m", "gatviz", "train", "--dataset", "cora", "--epochs", str(EPOCHS), "--batch-size", "64",
         "--distributed", "--out", str(out)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    # rank 0 alone talks and writes: one "done" line, one set of files, nothing beside the run
    assert done.stderr.count("done in ") == 1 and "2 processes (gloo)" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert sorted(p.name for p in out.iterdir()) == ["attention.csv", "config.json", "graph.json",
                                                    "metrics.json", "model.pt", "snapshots.pt"]
    trainer = runs.load(out)
    assert trainer.epoch == EPOCHS and len(trainer.history) == EPOCHS
    assert trainer.config.batch_size == 64
    table = pd.read_csv(out / "attention.csv")
    sums = table.groupby(["layer", "head", "target"])["alpha"].sum()
    assert len(sums) == 2708 * (8 + 1) and (sums - 1).abs().max() < 1e-4
    # the saved weights are the ones that scored: reloading gives the recorded test accuracy
    pred = trainer.predictions()
    mask = trainer.graph.data.test_mask
    acc = float((pred[mask] == trainer.graph.data.y[mask]).float().mean())
    assert acc == pytest.approx(trainer.history[-1]["test_acc"], abs=1e-6)
    # the accuracy band of one process with the same settings and seed
    single = Trainer(graphs.load("cora"), RunConfig(dataset="cora", epochs=EPOCHS, batch_size=64, device="cpu"))
    single.step(EPOCHS)
    assert acc > 0.7 and abs(acc - single.history[-1]["test_acc"]) < 0.05


def test_distributed_without_torchrun_is_one_line(tmp_path, capsys, monkeypatch):
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(key, raising=False)
    code = cli.main(["train", "--dataset", "karate", "--distributed", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--distributed needs torchrun" in err[0]
    assert not (tmp_path / "r").exists()


ONE_RANK_NAN = """
import os
import sys
from gatviz import RunConfig, graphs
from gatviz.distributed import Run
from gatviz.errors import GatvizError

with Run("cpu") as group:
    trainer = group.trainer(graphs.load("karate"), RunConfig(dataset="karate", epochs=5, batch_size=2, device="cpu"))
    if group.rank == 1:   # this rank's outputs (and so its loss) stop being finite; rank 0's stay finite
        ddp = trainer.batches.forward
        trainer.batches.forward = lambda x, edge_index: ddp(x, edge_index) * float("nan")
    try:
        trainer.step(3)
    except GatvizError as e:
        os.write(1, f"rank {group.rank}: {e}\\n".encode())   # one write: the ranks share stdout
        sys.exit(2)
os.write(1, f"rank {group.rank}: trained\\n".encode())
"""


@pytest.mark.slow
def test_a_non_finite_loss_on_one_rank_stops_every_rank(tmp_path):
    # Without agreement rank 0 waits in DDP's gradient all-reduce for rank 1, which has stopped:
    # torchrun then kills it (SIGTERM) without a word of why (started another way: gloo's 30 min).
    script = tmp_path / "one_rank_nan.py"
    script.write_text(ONE_RANK_NAN)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(script)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode != 0
    lines = sorted(l for l in done.stdout.splitlines() if l.startswith("rank "))
    assert len(lines) == 2 and "trained" not in done.stdout, done.stdout + done.stderr[-2000:]
    assert lines[0].startswith("rank 0: training stopped at epoch 1: the loss is nan on another process")
    assert lines[1].startswith("rank 1: training stopped at epoch 1: the loss is nan (")
