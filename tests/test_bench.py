"""The benchmark harness runs end to end and its output parses (no timing asserts).

``python -m bench --smoke`` runs every benchmark on tiny sizes into a temp
folder, so bench/results/latest.json and BENCHMARKS.md are left alone.
"""
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import BENCHES

ROOT = Path(__file__).resolve().parent.parent

NAMES = [b.name for b in BENCHES]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    # timeout only stops a hang; how long it takes is not tested
    proc = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stderr[-3000:]}"
    return out, proc.stdout


def parse_result(line: str) -> dict[str, float]:
    pairs = line.split()[1:]
    assert pairs, f"empty RESULT line: {line!r}"
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        assert sep and key, f"not key=value: {pair!r} in {line!r}"
        out[key] = float(value)   # raises if not a number
    return out


@pytest.mark.slow   # (every benchmark end to end: about 80 s)
def test_every_benchmark_prints_a_result_line(smoke):
    _, stdout = smoke
    lines = stdout.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("== ")]
    assert [lines[i].split()[1].rstrip(":") for i in starts] == NAMES
    for i, end in zip(starts, starts[1:] + [len(lines)]):
        results = [line for line in lines[i:end] if line.startswith("RESULT ")]
        assert len(results) == 1, f"{lines[i]}: {len(results)} RESULT lines"
        figures = parse_result(results[0])
        assert all(math.isfinite(v) for v in figures.values()), results[0]


@pytest.mark.slow   # (every benchmark end to end: about 80 s)
def test_json_has_machine_and_every_benchmark(smoke):
    out, stdout = smoke
    data = json.loads((out / "latest.json").read_text())
    for key in ("cpu", "cores", "torch", "torch_geometric", "date", "gpu"):
        assert key in data["machine"], f"machine lacks {key}: {data['machine']}"
    assert sorted(data["benchmarks"]) == sorted(NAMES)
    printed = {}
    for line in stdout.splitlines():
        if line.startswith("== "):
            name = line.split()[1].rstrip(":")
        elif line.startswith("RESULT "):
            printed[name] = parse_result(line)
    for name, entry in data["benchmarks"].items():
        for key in ("title", "mode", "command", "date", "other_cores", "figures", "goals", "met", "details"):
            assert key in entry, f"{name} lacks {key}"
        assert entry["mode"] == "smoke"
        assert entry["figures"].keys() == printed[name].keys()
        assert set(entry["met"]) <= set(entry["goals"])


@pytest.mark.slow   # (every benchmark end to end: about 80 s)
def test_expected_figures(smoke):
    out, _ = smoke
    b = json.loads((out / "latest.json").read_text())["benchmarks"]
    assert {"cora_ref_ms", "cora_ours_ms", "cora_ratio"} <= b["train"]["figures"].keys()
    assert {"cora_final_mean", "cora_bestval_mean"} <= b["accuracy"]["figures"].keys()
    assert {"cora_alpha_ratio", "cora_scores_ratio"} <= b["extract"]["figures"].keys()
    assert {"epochs", "snapshots", "snapshot_mb"} <= b["snapshots"]["figures"].keys()
    assert b["scale"]["figures"]["edges_1k"] > 0
    view = b["view"]["figures"]
    for hops in (1, 2):
        for kind in ("node", "node_all", "head", "head_all", "layer"):
            assert 0 < view[f"h{hops}_{kind}_p50_ms"] <= view[f"h{hops}_{kind}_p95_ms"]
        for size in ("kb", "all_kb"):
            assert 0 < view[f"h{hops}_{size}_p50"] <= view[f"h{hops}_{size}_p95"] <= view[f"h{hops}_{size}_max"]
        assert view[f"h{hops}_kb_max"] < view[f"h{hops}_all_kb_max"]
    assert 0 < view["apptest_node_p50_ms"] <= view["apptest_node_p95_ms"]
    cold = b["coldstart"]["figures"]
    if shutil.which("chromium"):
        stages = [cold[k] for k in ("server_ready_s", "page_loaded_s", "script_ran_s", "first_view_s")]
        assert cold["measured"] == 1 and cold["import_s"] > 0 and 0 < stages[0] and stages == sorted(stages)
    else:
        assert cold == {"measured": 0} and "chromium" in b["coldstart"]["details"]["why"]
    scale = b["scale"]["figures"]
    assert scale["view_ms_1k"] > 0 and 0 < scale["view_kb_1k"] < scale["view_all_kb_1k"]


@pytest.mark.slow   # (every benchmark end to end: about 80 s)
def test_markdown_and_plot(smoke):
    out, _ = smoke
    md = (out / "BENCHMARKS.md").read_text()
    assert "| figure | goal | measured | met? |" in md
    assert "not yet measured" not in md      # every benchmark is implemented
    assert "| switch (library path, Cora) |" in md
    assert "python -m bench --smoke --out" in md
    assert "](scale.png)" in md
    assert (out / "scale.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_busy_grandchild_counts_as_the_benchmark_s_own_cpu_not_other_processes():
    """A browser runs under Playwright's driver: the bench's grandchild, whose own children are
    reaped by init when it closes. Their CPU is the bench's own (``OtherLoad`` reports what
    *other* processes used), counted up to the last look."""
    import time

    from bench.common import OtherLoad

    with OtherLoad() as load:
        # a busy grandchild whose shell exits first (as a closing browser's zygote does): for its
        # last 0.2 s it is init's, and init reaps it
        subprocess.run(["sh", "-c", "timeout 2 sh -c 'while :; do :; done' & sleep 1.8"], check=True)
        time.sleep(0.5)
    assert load.cores < 0.5            # its busy second is not another process's
