"""gatviz.show in a notebook: the standalone view in an iframe, no network; the example notebook runs."""
import ast
import json
import re
import subprocess
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

import gatviz
from gatviz import GatvizError, render, runs

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "gatviz-notebook.ipynb"
NETWORK = re.compile(r"""\b(src|href)\s*=\s*["']?\s*(https?:)?//""", re.I)


class Tags(HTMLParser):
    """Start tags with their attributes, and the text of script elements by id."""

    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self._in = [], {}, None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in = dict(attrs).get("id") if tag == "script" else None

    def handle_data(self, data):
        if self._in:
            self.scripts[self._in] = self.scripts.get(self._in, "") + data


def parse(text: str) -> Tags:
    tags = Tags()
    tags.feed(text)
    tags.close()
    return tags


def test_repr_html_is_one_sandboxed_iframe_holding_the_standalone_view(karate_trainer):
    view = gatviz.show(karate_trainer, node=33, layer=1, head=2)
    outer = parse(view._repr_html_())
    assert [t for t, _ in outer.tags] == ["iframe"]
    attrs = outer.tags[0][1]
    assert attrs["sandbox"] == "allow-scripts" and attrs["srcdoc"] == view.html   # parser unescapes it
    payload = render.view(karate_trainer.graph, karate_trainer.attention(), 33, 0, [2],
                          predictions=karate_trainer.predictions().numpy())
    inner = parse(view.html)
    assert json.loads(inner.scripts["gatviz-data"]) == json.loads(render.to_json(payload))
    assert render.to_json(payload) in unescape(view._repr_html_())
    assert not NETWORK.search(view._repr_html_()) and not NETWORK.search(view.html)
    assert not [a for _, a in inner.tags if "src" in a or "href" in a]         # nothing is fetched
    assert "gatvizRender(" in view.html and "layer 1, head 2" in view.title


def test_the_page_cannot_end_the_attribute(tmp_path):
    from gatviz.parse import parse_upload
    from gatviz.training import Trainer
    evil = '"><script>alert(1)</script>'
    graph = parse_upload(f'"{evil.replace(chr(34), chr(34) * 2)}",b\nb,c\n'.encode(), name="evil")
    view = gatviz.show(Trainer(graph, gatviz.RunConfig(dataset="upload", epochs=1, heads=1, device="cpu")),
                       node=evil)
    outer = parse(view._repr_html_())
    assert [t for t, _ in outer.tags] == ["iframe"] and outer.tags[0][1]["srcdoc"] == view.html
    assert evil not in view.html                  # the payload's JSON escapes < > inside the page too


def test_show_takes_a_run_directory_or_zip_and_draws_the_same(karate_trainer, tmp_path):
    run = runs.save(tmp_path / "run", karate_trainer, runs.GraphSource("karate"))
    runs.save_zip(karate_trainer, path=tmp_path / "run.zip")
    expected = gatviz.show(karate_trainer, node="0", layer=2, head="mean").html
    assert gatviz.show(run, node=0, layer=2, head="mean").html == expected
    assert gatviz.show(str(tmp_path / "run.zip"), node=0, layer=2, head="mean").html == expected
    saved = gatviz.show(run, node=0, head="all", hops=2).save(tmp_path / "v.html")
    assert saved.read_text(encoding="utf-8").count('"head":') == 9            # 8 heads and their mean


@pytest.mark.parametrize("kwargs, match", [
    ({"node": "nobody"}, "unknown node"),
    ({"node": 0, "layer": 0}, "layer must be from 1 to 2"),
    ({"node": 0, "layer": 3}, "layer must be from 1 to 2"),
    ({"node": 0, "head": 8}, "head"),
    ({"node": 0, "head": "max"}, "head must be"),
    ({"node": 0, "hops": 3}, "hops"),
    ({"node": 0, "top_k": 0}, "top_k"),
])
def test_show_refuses_bad_arguments_with_one_line(karate_trainer, kwargs, match):
    with pytest.raises(GatvizError, match=match):
        gatviz.show(karate_trainer, **kwargs)


def test_import_gatviz_stays_light():
    code = "import sys, gatviz; gatviz.show; print('torch' in sys.modules, 'torch_geometric' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_example_notebook_is_valid_and_its_cells_run(tmp_path, monkeypatch):
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4 and nb["nbformat_minor"] >= 5 and nb["metadata"]["kernelspec"]["language"] == "python"
    ids = [c["id"] for c in nb["cells"]]
    assert len(set(ids)) == len(ids)
    for cell in nb["cells"]:
        assert cell["cell_type"] in ("markdown", "code") and isinstance(cell["source"], list)
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    monkeypatch.chdir(tmp_path)
    namespace, shown = {}, []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        tree = ast.parse("".join(cell["source"]))
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, cell["id"], "exec"), namespace)
        if last is not None:     # what Jupyter displays: the cell's last expression
            value = eval(compile(ast.Expression(last.value), cell["id"], "eval"), namespace)
            if hasattr(value, "_repr_html_"):
                shown.append(value._repr_html_())
    assert namespace["trainer"].epoch == 50 and len(shown) == 3
    assert all(s.startswith("<iframe srcdoc=") and not NETWORK.search(s) for s in shown)
    assert (tmp_path / "karate-node0.html").is_file() and runs.load(tmp_path / "karate-run.zip").epoch == 50


def test_show_takes_numpy_integers(karate_trainer):
    import numpy as np
    view = gatviz.show(karate_trainer, node=np.int64(33), layer=np.int64(2), head=np.int64(0))
    assert "layer 2" in view.title and "head 0" in view.title
