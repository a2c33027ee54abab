"""CSV exports: no cell a spreadsheet would run as a formula; the context travels with the table."""
import io
import json

import pandas as pd
import pytest

from gatviz import RunConfig, exports, runs
from gatviz.parse import load_files
from gatviz.training import Trainer

HOSTILE = ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "'=already", "plain", "a=b", "-"]


def test_safe_cell_prefixes_only_dangerous_starts():
    assert [exports.safe_cell(s) for s in HOSTILE] == [
        "'=1+1", "'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "''=already", "plain", "a=b", "'-"]
    assert exports.safe_cell(-0.5) == -0.5 and exports.safe_cell(3) == 3   # numbers stay numbers


def test_unsafe_cell_reverses_safe_cell():
    for s in HOSTILE + ["'quoted'", ""]:
        assert exports.unsafe_cell(exports.safe_cell(s)) == s


def test_safe_csv_neutralises_strings_keeps_negative_numbers_and_adds_context():
    frame = pd.DataFrame({"name": ["=HYPERLINK(\"http://x\")", "ok"], "score": [-1.5, 2.0]})
    text = exports.safe_csv(frame, {"graph": "karate", "centre": "=evil", "layer": 1, "head": "mean of heads"})
    back = pd.read_csv(io.StringIO(text), keep_default_na=False)
    assert list(back.columns) == ["graph", "centre", "layer", "head", "name", "score"]
    assert back["name"].tolist() == ["'=HYPERLINK(\"http://x\")", "ok"]
    assert back["score"].tolist() == [-1.5, 2.0]          # numeric column untouched
    assert set(back["centre"]) == {"'=evil"} and set(back["head"]) == {"mean of heads"}
    raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    text_cells = raw.drop(columns=["score"]).to_numpy().ravel()
    assert not any(c.startswith(exports.TRIGGERS) for c in text_cells)


def test_safe_csv_refuses_a_context_key_that_clashes():
    with pytest.raises(ValueError, match="name"):
        exports.safe_csv(pd.DataFrame({"name": ["a"]}), {"name": "x"})


def test_attention_csv_of_a_run_is_neutralised_with_its_context_in_metrics(tmp_path):
    names = ["=cmd|'/C calc'!A0", "+x", "-1", "@y", "\tz", "ok"]
    quote = lambda s: '"' + s + '"'
    text = "\n".join(f"{quote(a)},{quote(b)}" for a, b in zip(names, names[1:] + names[:1]))
    edges = tmp_path / "e.csv"
    edges.write_text(text + "\n")
    g = load_files(edges)
    assert set(g.names) == set(names)
    trainer = Trainer(g, RunConfig(dataset="upload", epochs=2, heads=2, device="cpu"))
    trainer.step(2)
    run = runs.save(tmp_path / "run", trainer, runs.GraphSource("upload", str(edges)))
    table = pd.read_csv(run / "attention.csv", dtype={"source": str, "target": str}, keep_default_na=False)
    assert list(table.columns) == ["layer", "head", "source", "target", "alpha"]
    cells = set(table["source"]) | set(table["target"])
    assert all(not c.startswith(tuple("=+-@\t\r")) for c in cells)
    assert {exports.unsafe_cell(c) for c in cells} == set(names)     # reversible
    context = json.loads((run / "metrics.json").read_text())["attention_csv"]
    assert context["graph"] == "e" and context["model"] == "GAT" and context["epoch"] == 2
    assert context["layer"] == "every layer, numbered from 1" and "each head" in context["head"]
    assert "'" in context["cells"]
