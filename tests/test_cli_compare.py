"""CLI: heads, explain --epoch / --rollout / --drop-edge / --add-edge."""
import json

import pytest

from gatviz import GatvizError, runs
from gatviz.cli import main
from gatviz.cli_compare import parse_edge


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", "--dataset", "karate", "--epochs", "10", "--heads", "2", "--hidden", "4",
                 "--snapshot-every", "5", "--device", "cpu", "--out", str(out)]) == 0
    return out


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_explain_epoch_answers_from_the_snapshot(run, capsys):
    got = _json(capsys, ["explain", str(run), "--node", "0", "--epoch", "5", "--json"])
    trainer = runs.load(run)
    alpha = trainer.snapshots[0].alpha[0].float()[trainer.attention().incoming(0), 0]
    assert got["epoch"] == 5 and got["self_score"] is None
    shown = sorted([got["self_alpha"]] + [r["alpha"] for r in got["neighbours"]])
    assert shown == pytest.approx(sorted(alpha.tolist()))


def test_explain_epoch_not_held_is_one_line(run, capsys):
    assert main(["explain", str(run), "--node", "0", "--epoch", "7"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "epochs 5, 10" in err


def test_rollout_json_sums_to_one(run, capsys):
    got = _json(capsys, ["explain", str(run), "--node", "0", "--rollout", "--json"])
    assert sum(got["rollout"].values()) == pytest.approx(1.0, abs=1e-6)
    per_head = _json(capsys, ["explain", str(run), "--node", "0", "--rollout", "--rollout-heads", "1,0",
                              "--json"])
    assert per_head["heads"] == [1, 0] and sum(per_head["rollout"].values()) == pytest.approx(1.0, abs=1e-6)


def test_drop_edge_json_renormalises_the_first_layer(run, capsys):
    got = _json(capsys, ["explain", str(run), "--node", "0", "--drop-edge", "1,0", "--head", "1", "--json"])
    assert got["removed"] == [["1", "0"], ["0", "1"]] and got["layer"] == 1
    rows = {r["name"]: r for r in got["alpha"]}
    gone = rows.pop("1")
    assert gone["after"] is None
    for r in rows.values():
        assert r["after"] == pytest.approx(r["before"] / (1 - gone["before"]), abs=1e-6)
    assert sum(p["after"] for p in got["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("argv, message", [
    (["--drop-edge", "1,nobody"], "unknown node 'nobody'"),
    (["--drop-edge", "10"], "SRC,DST"),
    (["--drop-edge", "9,0"], "no edge"),
    (["--add-edge", "1,0"], "already there"),
    (["--drop-edge", "1,0", "--rollout"], "cannot be combined"),
])
def test_edit_mistakes_are_one_line_errors(run, capsys, argv, message):
    assert main(["explain", str(run), "--node", "0", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_names_with_commas_split_where_both_sides_are_nodes(tmp_path):
    from gatviz.parse import load_files
    edges = tmp_path / "e.csv"
    edges.write_text('source,target\n"Smith, J",b\nb,c\n"c,d",b\n')
    graph = load_files(edges)
    assert parse_edge("Smith, J,b", graph) == (graph.index("Smith, J"), graph.index("b"))
    assert parse_edge("c,d,b", graph) == (graph.index("c,d"), graph.index("b"))
    with pytest.raises(GatvizError, match="more than one"):
        # with nodes "c,d", "b", "c" and "d,b", c,d,b reads both ways
        edges.write_text('source,target\n"c,d",b\nc,"d,b"\n')
        parse_edge("c,d,b", load_files(edges))


def test_heads_json(run, capsys):
    got = _json(capsys, ["heads", str(run), "--json"])
    assert [l["layer"] for l in got["layers"]] == [1, 2]
    first = got["layers"][0]
    assert first["heads"] == 2 and set(first["ablate_head"]) == {"0", "1"} and first["ablate_all"]
    assert len(first["js_divergence"]) == 2 and first["js_divergence"][0][0] == 0


def test_gcn_trains_and_says_it_has_no_attention(tmp_path, capsys):
    out = tmp_path / "gcn"
    assert main(["train", "--dataset", "karate", "--model", "gcn", "--epochs", "3", "--device", "cpu",
                 "--out", str(out)]) == 0
    assert not (out / "attention.csv").exists()
    for argv in (["explain", str(out), "--node", "0"], ["heads", str(out)]):
        capsys.readouterr()
        assert main(argv) == 2
        assert "GCN has no attention" in capsys.readouterr().err
