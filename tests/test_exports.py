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


# ---------------------------------------------------------------- table JSON, metrics CSV, bundle
def test_attention_table_json_carries_its_context_and_the_numbers(karate_trainer):
    t = karate_trainer
    frame = exports.attention_table(t, 0, 0, 2)
    assert abs(frame["alpha"].sum() - 1) < 1e-6 and len(frame) == t.graph.degree[0] + 1
    assert (abs(frame["ratio"] - frame["alpha"] * len(frame)) < 1e-9).all()
    data = json.loads(exports.table_json(frame, exports.context(t, 0, 0, 2)))
    assert data["context"] == {"graph": "karate", "model": "GAT", "epoch": 30, "centre": "0", "layer": 1,
                               "head": "head 2"}
    assert data["columns"] == list(frame.columns) and len(data["rows"]) == len(frame)
    assert [r["alpha"] for r in data["rows"]] == pytest.approx(frame["alpha"].tolist(), abs=1e-12)
    mean = [r for r in json.loads(exports.table_json(exports.attention_table(t, 0, 0, "mean"),
                                                     exports.context(t, 0, 0, "mean")))["rows"]]
    assert all(r["score"] is None for r in mean)                         # NaN (no mean e_ij) is null


def test_attention_table_all_heads_has_one_column_per_head_and_their_mean(karate_trainer):
    frame = exports.attention_table(karate_trainer, 33, 0, "all")
    heads = frame[[f"head {h}" for h in range(8)]].to_numpy()
    assert abs(heads.mean(axis=1) - frame["alpha"].to_numpy()).max() < 1e-6
    assert abs(heads.sum(axis=0) - 1).max() < 1e-5                        # every head sums to 1


def test_metrics_csv_has_one_row_per_epoch_and_names_are_safe(tmp_path):
    edges = tmp_path / "=evil.csv"
    edges.write_text("a,b\nb,c\nc,a\nc,d\n")
    t = Trainer(load_files(edges), RunConfig(dataset="upload", epochs=3, heads=1, device="cpu"))
    t.step(3)
    back = pd.read_csv(io.StringIO(exports.metrics_csv(t)), keep_default_na=False)
    assert list(back.columns) == ["graph", "model"] + exports.METRIC_COLUMNS
    assert back["epoch"].tolist() == [1, 2, 3] and set(back["graph"]) == {"'=evil"}
    assert back["loss"].tolist() == pytest.approx([row["loss"] for row in t.history])


def test_file_stem_is_safe_and_names_the_view(karate_trainer):
    assert exports.file_stem(karate_trainer, 5, 1, 3) == "gatviz-karate-node5-layer2-head3-epoch30"
    t = Trainer(load_files_bytes(b'"../<x> y",b\nb,c\n'), RunConfig(dataset="upload", epochs=1, heads=1,
                                                                    device="cpu"))
    stem = exports.file_stem(t, 0, 0, "mean")
    assert "/" not in stem and "<" not in stem and " " not in stem and stem.endswith("meanhead-epoch0")


def load_files_bytes(data):
    from gatviz.parse import parse_upload
    return parse_upload(data, name="up")


def test_bundle_holds_every_export_and_the_run(karate_trainer):
    import zipfile
    png = b"\x89PNG\r\n\x1a\nfake"
    data = exports.bundle(karate_trainer, 0, 1, 0, png=png)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        stem = "gatviz-karate-node0-layer2-head0-epoch30"
        assert sorted(z.namelist()) == sorted(f"{stem}/{n}" for n in (
            "attention.csv", "attention.json", "metrics.csv", "view.html", "view.png", "run.zip"))
        assert z.read(f"{stem}/view.png") == png
        table = pd.read_csv(io.BytesIO(z.read(f"{stem}/attention.csv")), keep_default_na=False)
        assert set(table["layer"]) == {2} and set(table["centre"]) == {0}
        assert json.loads(z.read(f"{stem}/attention.json"))["context"]["layer"] == 2
        assert len(pd.read_csv(io.BytesIO(z.read(f"{stem}/metrics.csv")))) == 30
        html = z.read(f"{stem}/view.html").decode()
        assert "gatvizRender" in html and "layer 2" in html
        run = runs.load_zip_bytes(z.read(f"{stem}/run.zip"))
    import torch
    for x, y in zip(karate_trainer.attention().alpha, run.attention().alpha):
        assert torch.equal(x, y)
    with zipfile.ZipFile(io.BytesIO(exports.bundle(karate_trainer, 0, 0, "all", run_zip=b"R"))) as z:
        assert not any(n.endswith("view.png") for n in z.namelist())
        assert z.read("gatviz-karate-node0-layer1-allheads-epoch30/run.zip") == b"R"


def test_a_name_with_a_bare_carriage_return_stays_one_cell():
    import csv
    import io
    from gatviz import RunConfig
    from gatviz.parse import parse_upload
    from gatviz.training import Trainer
    graph = parse_upload(b'"a\rb",c\nc,d\n')
    assert graph.names[0] == "a\rb"
    trainer = Trainer(graph, RunConfig(dataset="upload", epochs=1))
    trainer.step(1)
    text = exports.safe_csv(exports.attention_table(trainer, graph.index("c"), 0, 0))
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len({len(r) for r in rows}) == 1 and "a\rb" in [cell for r in rows for cell in r]
    plain = exports.safe_csv(exports.attention_table(trainer, graph.index("d"), 0, 0))
    assert "\r" not in plain                                 # other files keep \n line ends
