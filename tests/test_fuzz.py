"""Property-based fuzz of everything gatviz reads from strangers: uploads and run directories.

Every input is either read (a Graph, a Trainer) or refused with a GatvizError whose
message is one non-empty line; nothing else may escape, and no example may take
more than 10 s (hypothesis' deadline). Seeded (derandomize): the same ~2,100
examples on every run, in the normal test run (not marked slow).
"""
import json
import shutil
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatviz import GatvizError, RunConfig, runs
from gatviz.parse import parse_upload
from gatviz.training import Trainer


def fuzz(examples: int):
    return settings(max_examples=examples, derandomize=True, deadline=10_000, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


def read_or_refuse(call):
    """The call's result, or None after checking its GatvizError is one plain line."""
    try:
        return call()
    except GatvizError as err:
        text = str(err)
        assert text and "\n" not in text and "\r" not in text, repr(text)
        assert "weights_only" not in text and "Traceback" not in text, text
        return None


# --- uploads -------------------------------------------------------------------------------

SPECIAL = ["nan", "NaN", "inf", "-inf", "1e39", "-0", "", " ", "\t", "#x", "%x", '"', "'", ",", ";", "|",
           "source", "target", "node1", "id", "<img src=x onerror=alert(1)>", "</script>", "{{7*7}}",
           "$\\alpha$", ":smile:", "\u202eRTL\u202c", "مرحبا", "😀", "a\u00a0b", "=1+1", "-1", "@x",
           "n" * 300, "x" * 100_000]
NAME = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(alphabet=string.ascii_letters + string.digits + " _-.", min_size=1, max_size=6),
    st.text(min_size=1, max_size=8),                     # any unicode, controls and surrogates excluded
    st.integers(-5, 40).map(str),
)
DELIMITER = st.sampled_from([",", "\t", ";", "|", " ", "  ", " , "])
NEWLINE = st.sampled_from(["\n", "\r\n", "\r"])
ENCODING = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32", "latin-1", "cp1252", "utf-16-le"])


def cell(name: str, quote: bool) -> str:
    return '"' + name.replace('"', '""') + '"' if quote else name


@st.composite
def table(draw, columns=st.integers(1, 4), rows=st.integers(0, 25), names=NAME):
    """Text of a delimited file: ragged rows, quoting, comments, blank lines, a header sometimes."""
    d, nl = draw(DELIMITER), draw(NEWLINE)
    lines = [draw(st.sampled_from(["source,target", "node1 node2", "id\tclass", "# comment"]))] \
        if draw(st.booleans()) else []
    for _ in range(draw(rows)):
        kind = draw(st.integers(0, 12))
        if kind == 0:
            lines.append(draw(st.sampled_from(["", "   ", "# note", "% note", '"unclosed,x', 'a"b,c'])))
            continue
        fields = [cell(draw(names), draw(st.booleans())) for _ in range(draw(columns))]
        lines.append(d.join(fields))
    return nl.join(lines) + draw(st.sampled_from(["", nl]))


def encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace" if encoding in ("latin-1", "cp1252") else "surrogatepass")


@fuzz(800)
@given(st.binary(max_size=3000))
def test_random_bytes(raw):
    read_or_refuse(lambda: parse_upload(raw))


@fuzz(500)
@given(table(), ENCODING, st.booleans())
def test_edge_files(text, encoding, directed):
    graph = read_or_refuse(lambda: parse_upload(encode(text, encoding), directed=directed))
    if graph is not None:
        assert graph.num_nodes == len(graph.names) == len(set(graph.names))
        assert not any("\x00" in n for n in graph.names)
        assert graph.report.lines()


SMALL = st.sampled_from(["a", "b", "c", "d", "e", "a ", '"a"', "x" * 100_000])


@fuzz(200)
@given(st.lists(st.tuples(SMALL, SMALL), min_size=1, max_size=6), st.booleans())
def test_one_node_self_loops_and_huge_names(pairs, directed):
    text = "\n".join(f"{a},{b}" for a, b in pairs)       # only self-loops when every a == b
    read_or_refuse(lambda: parse_upload(text.encode(), directed=directed))


SPECIAL_FEATURES = st.sampled_from(["nan", "inf", "-inf", "1e39", "-1e39", "3.4e38", "1e-45", "1,5", "x", "",
                                    "0x10", "1_000", "  2 "])
FEATURE = st.one_of(st.floats(-1e6, 1e6).map(repr), st.floats(-1e6, 1e6).map(repr), SPECIAL_FEATURES)


@st.composite
def node_file(draw):
    """Edge file over a few names, and a node file: labels, features, duplicates, unknown nodes.

    Mostly one row per edge-file node, so that one odd feature or row is what decides.
    """
    names = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f"]), min_size=2, max_size=6))
    edges = "\n".join(f"{u},{v}" for u, v in zip(names, names[1:] + names[:1]))
    width = draw(st.integers(0, 3))
    rows = ["node,label" + ",f" * width] if draw(st.booleans()) else []
    listed = sorted(set(names))
    listed += draw(st.lists(st.sampled_from(["ghost", "a", "b"]), max_size=2))   # unknown or duplicate
    if draw(st.integers(0, 5)) == 0:
        listed = listed[1:]                                                      # a node without a row
    for name in draw(st.permutations(listed)):
        label = draw(st.sampled_from(["0", "1", "x", "2.0", "10", "0", "1", "nan", ""]))
        width_here = width if draw(st.integers(0, 9)) else draw(st.integers(0, 4))   # ragged sometimes
        rows.append(",".join([name, label] + [draw(FEATURE) for _ in range(width_here)]))
    return edges, draw(NEWLINE).join(rows)


@fuzz(400)
@given(node_file(), st.booleans())
def test_node_files(files, directed):
    edges, nodes = files
    graph = read_or_refuse(lambda: parse_upload(edges.encode(), nodes.encode(), directed=directed))
    if graph is not None:
        assert graph.data.x.isfinite().all() and graph.data.y.size(0) == graph.num_nodes


# --- run directories -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    base = tmp_path_factory.mktemp("fuzz")
    (base / "e.csv").write_text("a,b\nb,c\nc,d\nd,a\na,c\n")
    from gatviz.parse import load_files
    trainer = Trainer(load_files(base / "e.csv"), RunConfig(dataset="upload", epochs=2, heads=2, device="cpu"))
    trainer.step(2)
    return runs.save(base / "run", trainer, runs.GraphSource("upload", str(base / "e.csv")))


FILES = ["config.json", "graph.json", "metrics.json", "model.pt", "snapshots.pt", "input/edges.csv"]
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)
PATHS = st.sampled_from(["input/edges.csv", "../e.csv", "/etc/passwd", "input/../../e.csv", "", "input",
                         "config.json", "model.pt", 5, None, ["x"]])


@st.composite
def corruption(draw):
    name = draw(st.sampled_from(FILES))
    how = draw(st.sampled_from(["truncate", "bytes", "flip", "delete", "json", "field"]))
    return name, how, draw(st.integers(0, 10**6)), draw(st.binary(max_size=200)), draw(JSON), draw(PATHS)


@fuzz(250)
@given(st.lists(corruption(), min_size=1, max_size=2))
def test_corrupted_run_directories(pristine, tmp_path_factory, damage):
    run = shutil.copytree(pristine, tmp_path_factory.mktemp("r") / "run")
    for name, how, at, raw, value, path in damage:
        target = run / name
        if not target.is_file():
            continue
        data = target.read_bytes()
        if how == "truncate":
            target.write_bytes(data[: at % (len(data) + 1)])
        elif how == "bytes":
            target.write_bytes(raw)
        elif how == "flip" and data:
            i = at % len(data)
            target.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:])
        elif how == "delete":
            target.unlink()
        elif how == "json":
            target.write_text(json.dumps(value))
        elif how == "field" and name.endswith(".json"):
            try:
                content = json.loads(data)
                key = sorted(content)[at % len(content)]
                content[key] = path if name == "graph.json" and key in ("edges", "nodes") else value
                target.write_text(json.dumps(content))
            except (ValueError, TypeError, ZeroDivisionError):
                pass
    read_or_refuse(lambda: runs.load(run))
