"""The CLI contract of DESIGN.md: files written, names as given, exit 2 + one line on mistakes."""
import json
import subprocess
import sys

import os
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]

def gatviz(*args, cwd=None):
    """``python -m gatviz`` in a process of its own (the real entry point, exit code and streams)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}   # runs from any folder, like a user's shell in the repo
    return subprocess.run([sys.executable, "-m", "gatviz", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=600, env=env)


class Done(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def in_process(capsys, *args) -> Done:
    """The CLI called in this process (cli.main, as ``python -m gatviz`` calls it): a
    subprocess would only add ~5 s of imports to each call."""
    from gatviz import cli
    capsys.readouterr()
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return Done(code, out, err)


def check_run_dir(run):
    for name in ("config.json", "metrics.json", "attention.csv", "model.pt", "graph.json"):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text())
    table = pd.read_csv(run / "attention.csv", dtype={"source": str, "target": str}, keep_default_na=False)
    assert list(table.columns) == ["layer", "head", "source", "target", "alpha"]
    assert table["layer"].min() == 1                  # layers are numbered from 1, as in the app
    sums = table.groupby(["layer", "head", "target"])["alpha"].sum()
    assert ((sums - 1).abs() < 1e-5).all()
    return metrics, table


def test_cora_200_epochs_seed_0_reaches_80_percent(tmp_path):
    run = tmp_path / "cora"
    result = gatviz("train", "--dataset", "cora", "--epochs", 200, "--seed", 0, "--device", "cpu", "--out", run)
    assert result.returncode == 0, result.stderr
    assert "epoch  200/200" in result.stderr          # progress on stderr
    metrics, table = check_run_dir(run)
    assert metrics["test_acc"] >= 0.80, metrics["test_acc"]
    assert len(metrics["history"]) == 200
    assert table["target"].nunique() == 2708


def test_quoted_names_with_commas_train_end_to_end(tmp_path, capsys):
    edges = tmp_path / "edges.csv"
    names = ['Smith, John', 'O"Brien, Pat', 'plain', '<b>bold</b>', 'space y', 'x']
    rows = ["source,target"]
    pairs = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2), (5, 0), (5, 3)]
    quote = lambda s: '"' + s.replace('"', '""') + '"'
    rows += [f"{quote(names[a])},{quote(names[b])}" for a, b in pairs]
    edges.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    run = tmp_path / "run"
    result = in_process(capsys, "train", "--edges", edges, "--epochs", 5, "--heads", 2, "--out", run)
    assert result.returncode == 0, result.stderr
    _, table = check_run_dir(run)
    assert set(table["source"]) == set(names)         # names exactly as given
    self_rows = table[table["source"] == table["target"]]
    assert len(self_rows) == len(names) * (2 + 1)     # one self row per node, head and layer

    out = tmp_path / "view.html"
    result = in_process(capsys, "view", run, "--node", "Smith, John", "--head", "all", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "<b>bold</b>" not in out.read_text()       # a name is never markup in the page

    result = in_process(capsys, "explain", run, "--node", 'O"Brien, Pat', "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["node"] == 'O"Brien, Pat'
    assert abs(sum(r["alpha"] for r in data["neighbours"]) + data["self_alpha"] - 1) < 1e-5
    assert data["layer"] == 1                         # the default layer is the first, numbered 1
    # neighbour ranks count neighbours only; the self-loop's rank among all inputs is apart
    assert sorted(r["rank"] for r in data["neighbours"]) == list(range(1, len(data["neighbours"]) + 1))
    assert 1 <= data["self_rank"] <= len(data["neighbours"]) + 1


@pytest.mark.parametrize("args,message", [
    (["train", "--dataset", "nope", "--out", "x"], "invalid choice"),
    (["train", "--edges", "missing.csv", "--out", "x"], "cannot read"),
    (["train", "--dataset", "karate", "--heads", "0", "--out", "x"], "heads"),
    (["view", "no_such_run", "--node", "1", "--out", "x.html"], "not a gatviz run"),
    (["train"], "required"),
])
def test_mistakes_exit_2_with_one_line(tmp_path, capsys, monkeypatch, args, message):
    # the last one through ``python -m gatviz`` from another folder: the real exit code and stderr
    if args == ["train"]:
        result = gatviz(*args, cwd=tmp_path)
    else:
        monkeypatch.chdir(tmp_path)
        result = in_process(capsys, *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr


def test_unknown_node_and_head_on_a_real_run(tmp_path, capsys):
    run = tmp_path / "k"
    assert in_process(capsys, "train", "--dataset", "karate", "--epochs", 3, "--out", run).returncode == 0
    for args, message in ((["--node", "99"], "unknown node"), (["--node", "1", "--head", "8"], "head"),
                          (["--node", "1", "--layer", "3"], "from 1 to 2"),
                          (["--node", "1", "--layer", "0"], "from 1 to 2")):
        result = in_process(capsys, "explain", run, *args)
        assert result.returncode == 2 and result.stderr.startswith("error: ") and message in result.stderr
    result = in_process(capsys, "explain", run, "--node", "1")
    assert result.returncode == 0 and "self-attention" in result.stdout


def test_garbage_edge_file(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    result = in_process(capsys, "train", "--edges", bad, "--out", tmp_path / "r")
    assert result.returncode == 2 and result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def karate_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("cli") / "k"
    from gatviz import cli
    assert cli.main(["train", "--dataset", "karate", "--epochs", "2", "--heads", "2", "--out", str(run)]) == 0
    return run


def one_error_line(capsys, argv):
    """Runs the CLI in-process; returns its single stderr line after checking exit 2 and no traceback."""
    from gatviz import cli
    code = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


@pytest.mark.parametrize("args,message", [
    (["--epochs", "0"], "epochs must be an integer from 1 to 100,000, not 0 (limit epochs in gatviz/limits.py)"),
    (["--seed", str(2**64)], "seed must be an integer from 0 to"),
    (["--lr", "nan"], "lr must be a number"),
    (["--sbm-nodes", "2000000", "--sbm-blocks", "1"], "sbm_nodes must be an integer from 2 to"),
    (["--fanout", "10,x"], "fanout must be whole numbers separated by commas, like 10,10, not '10,x'"),
    (["--fanout", "5,5,5"], "fanout '5,5,5' gives 3 numbers for 2 layers"),
    (["--batch-size", "-1"], "batch_size must be an integer from 0 to 1,000,000, not -1"),
])
def test_train_settings_out_of_range(tmp_path, capsys, args, message):
    line = one_error_line(capsys, ["train", "--dataset", "sbm", *args, "--out", tmp_path / "r"])
    assert message in line
    assert not (tmp_path / "r").exists()          # refused before anything is written


@pytest.mark.parametrize("args,message", [
    (["--top-k", "-5"], "--top-k must be an integer from 1 to 1,000, not -5 (limit top_k in gatviz/limits.py)"),
    (["--top-k", "0"], "--top-k must be an integer from 1 to 1,000, not 0"),
    (["--hops", "0"], "--hops must be an integer from 1 to 2, not 0"),
    (["--hops", "3"], "--hops must be an integer from 1 to 2, not 3"),
])
def test_view_numbers_out_of_range(karate_run, tmp_path, capsys, args, message):
    line = one_error_line(capsys, ["view", karate_run, "--node", "1", *args, "--out", tmp_path / "v.html"])
    assert message in line


@pytest.mark.parametrize("head", ["²", "x", "-1"])
def test_steps_need_a_plain_head_number(karate_run, capsys, head):
    line = one_error_line(capsys, ["explain", karate_run, "--node", "1", "--steps", "--head", head])
    assert f"--steps replays one head: give --head a number, not {head!r}" in line


def test_train_summary_without_validation_nodes_prints(tmp_path, capsys):
    # every node its own class: the split leaves no validation (or test) nodes, so the
    # best-validation epoch and its accuracy are unknown; the summary still prints
    edges = tmp_path / "e.csv"
    edges.write_text("a,b\nb,c\n")
    nodes = tmp_path / "n.csv"
    nodes.write_text("a,x\nb,y\nc,z\n")
    from gatviz import cli
    code = cli.main(["train", "--edges", str(edges), "--nodes", str(nodes), "--epochs", "2", "--heads", "1",
                     "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "no validation nodes" in err
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["best_val_epoch"] is None and metrics["test_acc_at_best_val"] is None


def test_an_empty_out_is_refused_not_the_current_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = one_error_line(capsys, ["train", "--dataset", "karate", "--epochs", "1", "--out", " "])
    assert "--out" in line and not (tmp_path / "config.json").exists()


def test_features_too_large_for_training_are_one_line_and_no_run_is_written(tmp_path, capsys):
    names = [f"n{i}" for i in range(30)]
    (tmp_path / "edges.csv").write_text("\n".join(f"{names[i]},{names[(i + 1) % 30]}\n{names[i]},{names[(i + 7) % 30]}"
                                                  for i in range(30)))
    (tmp_path / "nodes.csv").write_text("\n".join(f"{n},{i % 3},{i * 1e36},{(i % 5) * 1e36}" for i, n in enumerate(names)))
    from gatviz import cli
    code = cli.main([str(a) for a in ("train", "--edges", tmp_path / "edges.csv", "--nodes", tmp_path / "nodes.csv",
                                      "--epochs", "5", "--out", tmp_path / "run")])
    err = capsys.readouterr().err.strip().splitlines()   # the graph's report, then the error
    errors = [line for line in err if line.startswith("error: ")]
    assert code == 2 and errors == [err[-1]] and "Traceback" not in "".join(err)
    assert err[-1].startswith("error: training stopped at epoch ") and "scale them" in err[-1]
    assert not (tmp_path / "run" / "attention.csv").exists()


def test_a_folder_holding_other_files_is_refused_before_training(tmp_path, capsys):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    (folder / "config.json").write_text('{"mine": true}')
    line = one_error_line(capsys, ["train", "--dataset", "karate", "--epochs", "2", "--out", folder])
    assert "holds files that are not a gatviz run's (notes.txt)" in line
    assert (folder / "config.json").read_text() == '{"mine": true}' and sorted(p.name for p in folder.iterdir()) == [
        "config.json", "notes.txt"]
    (tmp_path / "afile").write_text("x")
    assert "is a file" in one_error_line(capsys, ["train", "--dataset", "karate", "--out", tmp_path / "afile"])
    (tmp_path / "folder.zip").mkdir()
    assert "is a folder" in one_error_line(capsys, ["train", "--dataset", "karate", "--out", tmp_path / "folder.zip"])
    import torch
    if not torch.cuda.is_available():   # said before the graph is loaded: no report lines first
        assert "no CUDA GPU" in one_error_line(capsys, ["train", "--dataset", "karate", "--device", "cuda",
                                                        "--out", tmp_path / "new"])
    assert not (tmp_path / "new").exists()


def test_an_earlier_run_in_the_folder_is_replaced_whole(tmp_path, capsys):
    from gatviz import cli, runs
    run = tmp_path / "run"
    assert cli.main(["train", "--dataset", "karate", "--epochs", "3", "--out", str(run)]) == 0
    assert (run / "attention.csv").is_file() and (run / "snapshots.pt").is_file()
    assert cli.main(["train", "--dataset", "karate", "--model", "gcn", "--epochs", "3", "--out", str(run)]) == 0
    assert not (run / "attention.csv").exists() and not (run / "snapshots.pt").exists()   # not the GAT's
    assert runs.load(run).config.model == "gcn"
    capsys.readouterr()
    assert "GCN" in one_error_line(capsys, ["explain", run, "--node", "0", "--epoch", "3"])


def test_edges_from_a_pipe_are_kept_in_the_run(tmp_path):
    import threading
    from gatviz import cli, runs
    pipe = tmp_path / "edges-pipe"
    os.mkfifo(pipe)
    writer = threading.Thread(target=lambda: pipe.write_bytes(b"a,b\nb,c\nc,a\nc,d\n"), daemon=True)
    writer.start()
    assert cli.main(["train", "--edges", str(pipe), "--epochs", "2", "--out", str(tmp_path / "run")]) == 0
    writer.join(5)
    assert (tmp_path / "run" / "input" / "edges.txt").read_bytes() == b"a,b\nb,c\nc,a\nc,d\n"
    assert runs.load(tmp_path / "run").graph.names == ["a", "b", "c", "d"]


def test_a_run_zip_in_a_new_folder(tmp_path):
    from gatviz import cli, runs
    target = tmp_path / "new" / "deeper" / "run.zip"
    assert cli.main(["train", "--dataset", "karate", "--epochs", "2", "--out", str(target)]) == 0
    assert runs.load(target).epoch == 2


def test_explain_an_isolated_node(tmp_path, capsys):
    from gatviz import cli
    (tmp_path / "e.csv").write_text("a,b\nb,c\nc,a\n")
    (tmp_path / "n.csv").write_text("a,x\nb,y\nc,x\nlonely,y\n")
    assert cli.main(["train", "--edges", str(tmp_path / "e.csv"), "--nodes", str(tmp_path / "n.csv"), "--epochs", "2",
                     "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    assert cli.main(["explain", str(tmp_path / "run"), "--node", "lonely"]) == 0
    out = capsys.readouterr().out
    assert "0 neighbour(s)" in out and "alpha_ii = 1.0000" in out and "attends only to itself" in out
    assert "Empty DataFrame" not in out


@pytest.mark.parametrize("argv,message", [
    (["train", "--dataset", "karate", "--sbm-nodes", "500"], "--sbm-nodes sets the sbm graph: give --dataset sbm, not karate"),
    (["train", "--dataset", "cora", "--dict-size", "5"], "--dict-size sets the dictionary graph: give --dataset dictionary"),
    (["train", "--dataset", "karate", "--directed"], "--directed keeps an edge file's edges one-way"),
])
def test_a_setting_of_another_graph_is_refused_not_ignored(tmp_path, capsys, argv, message):
    assert message in one_error_line(capsys, [*argv, "--out", tmp_path / "run"])
    assert not (tmp_path / "run").exists()


def test_rollout_heads_without_rollout_is_refused(karate_run, capsys):
    line = one_error_line(capsys, ["explain", karate_run, "--node", "1", "--rollout-heads", "0,0"])
    assert "--rollout-heads chooses the heads of --rollout: give --rollout too" in line


@pytest.mark.parametrize("extra, named", [(["--head", "0"], "--head"), (["--layer", "1"], "--layer"),
                                          (["--layer", "2", "--head", "mean"], "--layer and --head")])
def test_rollout_refuses_a_layer_or_head_it_would_ignore(karate_run, capsys, extra, named):
    line = one_error_line(capsys, ["explain", karate_run, "--node", "1", "--rollout", *extra])
    assert f"{named} would be ignored" in line and "--rollout-heads" in line


def test_a_path_with_a_line_break_is_still_one_error_line(tmp_path, capsys):
    line = one_error_line(capsys, ["train", "--edges", tmp_path / "two\nlines.csv", "--out", tmp_path / "run"])
    assert "two\\nlines.csv" in line
