"""Read a user's edge list (and optional node file) into a :class:`Graph`.

Edge file: ``source<delim>target[<delim>ignored…]`` per row; CSV, TSV, ``;``,
``|`` or whitespace (any run of spaces/tabs), header optional. Names follow
the naming rule of :mod:`gatviz.rows`: unquoted names are trimmed of spaces
and tabs on both sides, quoted names are kept exactly (quote one holding the
delimiter, a quote, doubled: ``"a ""q"" b"``, or edge spaces). A line whose
``#``/``%`` is followed by whitespace, ``#``, ``%``, ``!``, ``-``, ``=`` or
nothing is a comment (``# Nodes: 4``, ``%%MatrixMarket``); ``#tag`` is a name.
Headers, index columns and other graph formats: :mod:`gatviz.columns`. Node
file: ``node,label[,f…]``. The report says which delimiter was used, which
first row was read as a header and how many comment lines were skipped.
"""
from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np

from . import columns, limits, rows as rowsplit
from .errors import GatvizError
from .graphs import Graph, Report, build
from .textfile import decode as _decode, size as _size

FLOAT32_MAX = float(np.finfo(np.float32).max)   # features are stored as float32
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]*,[0-9]+(e[+-]?[0-9]+)?", re.I)
LABEL_WORDS = frozenset("label class y group community category cluster type block club".split())
# a missing label as pandas, R and spreadsheets write it: no class to learn, as an empty label
MISSING_LABELS = frozenset("nan na n/a #n/a <na> null none -".split())



def parse_upload(edges: bytes, nodes: bytes | None = None, *, directed: bool = False, seed: int = 0,
                 name: str = "upload", source: str = "uploaded edge list") -> Graph:
    """Build a Graph from the bytes of an edge file and, optionally, a node file.

    Headers, index columns ahead of the endpoints and files in other graph formats:
    :mod:`gatviz.columns`. Node file: the first row is a header when its first cell is
    no edge-file node and either it is a header word, or its second cell is in
    LABEL_WORDS (``node,label``, ``id,class``), or every later row's node is in the edge
    file. An empty first cell (a pandas index) makes the first column an index.

    Unreadable rows go to ``report.bad_rows`` with line numbers. Node order:
    first appearance in the edge file, then nodes only in the node file
    (isolated). :func:`graphs.build` drops and counts self-loops and
    duplicates, and adds Louvain labels, features and a split where missing.

    Args:
        edges: raw bytes; UTF-8 (BOM or not), UTF-16/32 with a BOM, else
            Windows-1252, else latin-1. A file mixing UTF-8 characters with
            bytes that are not UTF-8 is refused, naming the first such line.
        nodes: ``node,label[,feature…]`` rows or None; every edge-file node
            needs one, with a label that is neither empty nor a missing value
            written as text (MISSING_LABELS, any case: ``NaN``, ``NA``,
            ``N/A``, ``null``, ``None``, ``-``). class_names sort numerically
            when all are numbers; features (finite numbers) become ``x`` (N, F).
        directed: one edge source -> target per row; else edge_index (2, E)
            holds both directions.

    Raises:
        GatvizError: a file too big, not text or without a readable edge; a
            malformed node-file row, a missing label, a non-numeric feature,
            a missing node.
    """
    text, encoding = _decode(edges, "edge file")
    columns.refuse_other_formats(text, "edge file")
    text, size_line = _matrix_market(text)
    rows, bad, delimiter, comments, spanning = rowsplit.read(
        text, "edge file", max_rows=2 * limits.MAX_EDGES + 1,
        why=f"gatviz handles at most {limits.MAX_EDGES:,} edges, an undirected one listed at most both ways "
            f"(MAX_EDGES in {limits.WHERE})")
    columns.refuse_other_layouts(rows)
    notes = [rowsplit.NAMES[delimiter]] + [f"edge file read as {encoding}"] * bool(encoding)
    found: list[str] = []
    names, pairs, header = _edges(rows, bad, found)
    notes += [f"first row read as a header: {_show_row(header)}"] * bool(header) + found
    notes += [_spanning("", spanning)] if spanning else []
    notes += [f"Matrix Market size line skipped: {size_line}"] * bool(size_line)
    report = Report(source, bad_rows=sorted(bad), comment_lines=comments)
    report.warnings += [w for w in [columns.decimal_ids(names)] if w]
    labels = class_names = features = None
    if nodes is not None:
        names, labels, class_names, features = _node_file(nodes, names, report, notes)
    report.source, report.origin = source + (f" ({'; '.join(notes)})" if notes else ""), source
    graph = build(pairs, names, name=name, report=report, labels=labels, class_names=class_names,
                  features=features, directed=directed, seed=seed)
    if graph.num_edges == 0:   # every row a self-loop: an index column read as the source, say
        raise GatvizError(f"the edge file has no edge between two different nodes: all {report.self_loops:,} "
                          f"row(s) name one node twice (is the first column a row number?)")
    return graph


def _matrix_market(text: str) -> tuple[str, str]:
    """A Matrix Market file's size line ("rows cols entries", the first after its comments)
    is not an edge: the text without it, and the line ("" for other files)."""
    if not text.lstrip("\ufeff").lower().startswith("%%matrixmarket"):
        return text, ""
    lines = text.splitlines(keepends=True)
    for k, line in enumerate(lines):
        body = line.strip()
        if body and not body.startswith("%"):
            return "".join(lines[:k]) + "\n" + "".join(lines[k + 1:]), body
    return text, ""


def load_files(edges_path, nodes_path=None, *, directed: bool = False, seed: int = 0) -> Graph:
    """:func:`parse_upload` on files; the graph is named after the edge file."""
    edges = _read_file(edges_path)
    nodes = None if nodes_path is None else _read_file(nodes_path)
    source = Path(edges_path).name + (f" + {Path(nodes_path).name}" if nodes_path is not None else "")
    return parse_upload(edges, nodes, directed=directed, seed=seed, name=Path(edges_path).stem, source=source)


def _read_file(path) -> bytes:
    try:
        size = os.path.getsize(path)
        if size > limits.MAX_FILE_BYTES:    # refuse before reading gigabytes into memory
            raise GatvizError(f"{path} is {_size(size)}; gatviz reads files of at most "
                              f"{_size(limits.MAX_FILE_BYTES)} (MAX_FILE_BYTES in {limits.WHERE})")
        with open(path, "rb") as f:   # a device or pipe reports size 0: read no more than the cap
            data = f.read(limits.MAX_FILE_BYTES + 1)
        if len(data) > limits.MAX_FILE_BYTES:
            raise GatvizError(f"{path} is larger than {_size(limits.MAX_FILE_BYTES)}; gatviz reads files of at "
                              f"most that (MAX_FILE_BYTES in {limits.WHERE})")
        return data
    except OSError as e:
        raise GatvizError(f"cannot read {path}: {e.strerror or e}") from None


def _edges(rows, bad: list, notes: list[str]) -> tuple[list[str], list[tuple[int, int]], list[str]]:
    """Names by first appearance, index pairs, the header row dropped ([] if none); adds to
    ``bad`` and to ``notes`` (which columns were read, rows skipped)."""
    header, at, wide, repeats = [], 0, False, 0
    if rows:
        is_header, named_at, at = columns.edge_header(rows)
        if is_header:
            if len(rows) == 1 and not bad:
                raise GatvizError(f"the edge file has no edges: its only row, line {rows[0][0]}, "
                                  f"looks like a header")
            header, rows = rows[0][1], rows[1:]
            if named_at:
                notes.append(f"source and target from columns {at + 1} and {at + 2}, as the header names them")
            elif at:
                notes.append("row names in column 1 (the header is one cell shorter than its rows)")
    index: dict[str, int] = {}
    pairs = []
    for line, fields in rows:
        if header and fields == header:
            repeats += 1   # concatenated exports repeat their header
            continue
        if at:
            fields = fields[at:]
        if len(fields) < 2:
            bad.append((line, "only one field; need source and target" if not at else
                              f"fewer than {at + 2} fields; need columns {at + 1} and {at + 2}"))
        elif not fields[0] or not fields[1]:
            bad.append((line, "empty node name"))
        elif max(len(fields[0]), len(fields[1])) > limits.MAX_NAME_CHARS:
            bad.append((line, f"a name longer than {limits.MAX_NAME_CHARS:,} characters "
                              f"(MAX_NAME_CHARS in {limits.WHERE})"))
        else:
            pairs.append((index.setdefault(fields[0], len(index)), index.setdefault(fields[1], len(index))))
            wide = wide or len(fields) > 2
            if len(pairs) > 2 * limits.MAX_EDGES:   # stop early rather than read a whole oversized file
                raise GatvizError(f"the edge file has more than {2 * limits.MAX_EDGES:,} rows; gatviz handles "
                                  f"at most {limits.MAX_EDGES:,} edges, an undirected one listed at most "
                                  f"both ways (MAX_EDGES in {limits.WHERE})")
    if not pairs:
        if not bad:
            raise GatvizError("the edge file has no edges (only blank lines, comments or a header)")
        bad.sort()
        raise GatvizError(f"no edges could be read from the edge file ({len(bad):,} unreadable row(s), "
                          f"first at line {bad[0][0]}: {bad[0][1]})")
    notes += [f"{repeats:,} repeated header row(s) skipped"] * bool(repeats)
    notes += ["columns after the second ignored" if not at else "other columns ignored"] * wide
    return list(index), pairs, header


def _node_file(raw: bytes, names: list[str], report: Report, notes: list[str]):
    """Names (edge-file ones, then isolated ones), labels (N,), class names, features (N, F) or None."""
    text, encoding = _decode(raw, "node file")
    columns.refuse_other_formats(text, "node file")
    rows, bad, delimiter, comments, spanning = rowsplit.read(
        text, "node file", max_rows=limits.MAX_NODES + 1,
        why=f"gatviz handles at most {limits.MAX_NODES:,} nodes (MAX_NODES in {limits.WHERE})")
    if bad:
        raise GatvizError(f"node file line {bad[0][0]}: {bad[0][1]}")
    report.comment_lines += comments
    known = set(names)
    first = rows[0][1] if rows else []
    # a pandas index (to_csv's default) first: its header cell is empty, or "Unnamed: 0" once read back
    index = (len(first) > 2 and columns.saved_index(first[0])
             and len(rows) > 1 and all(columns.INTEGER.fullmatch(fields[0]) for _, fields in rows[1:]))
    if index:
        rows = [(line, fields[1:]) for line, fields in rows]
        first = rows[0][1]
    header = first and first[0] not in known and (
        columns.header_word(first[0]) or len(first) > 1 and re.sub(r"[^a-z]", "", first[1].lower()) in LABEL_WORDS
        or first[0] and len(rows) > 2 and all(fields[0] in known for _, fields in rows[1:]))   # "Airport,Country"
    if header:
        rows = rows[1:]
    if not rows:
        raise GatvizError("the node file has no rows (only blank lines, comments or a header)")
    table: dict[str, tuple[int, str, list[float]]] = {}   # name -> (line, label, features)
    width = len(rows[0][1])
    for line, fields in rows:
        if len(fields) < 2 or not fields[0] or not fields[1] or fields[1].lower() in MISSING_LABELS:
            said = f"; {_show(fields[1])} is a missing label" if len(fields) > 1 and fields[1] else ""
            raise GatvizError(f"node file line {line}: need node,label[,feature…] with a non-empty node and "
                              f"label{said}")
        if max(len(fields[0]), len(fields[1])) > limits.MAX_NAME_CHARS:
            raise GatvizError(f"node file line {line}: a name or label longer than {limits.MAX_NAME_CHARS:,} "
                              f"characters (MAX_NAME_CHARS in {limits.WHERE})")
        if len(fields) != width:
            raise GatvizError(f"node file line {line} has {len(fields)} columns, line {rows[0][0]} has {width}")
        if fields[0] in table:
            raise GatvizError(f"node {_show(fields[0])} has two rows in the node file "
                              f"(lines {table[fields[0]][0]} and {line})")
        table[fields[0]] = (line, fields[1], np.fromiter(
            (_number(cell, line, column + index, delimiter, column == width)
             for column, cell in enumerate(fields[2:], start=3)), dtype=np.float32, count=width - 2))
    missing = [n for n in names if n not in table]
    if missing:
        raise GatvizError(f"{len(missing):,} node(s) of the edge file have no row in the node file: "
                          + ", ".join(_show(m) for m in missing[:3]) + (", …" if len(missing) > 3 else ""))
    extra = [n for n in table if n not in known]
    names = names + extra
    given = [table[n][1] for n in names]
    try:    # natural order when every label is a number: 2 before 10
        class_names = sorted(set(given), key=float)
    except ValueError:
        class_names = sorted(set(given))
    position = {c: k for k, c in enumerate(class_names)}
    report.labels = f"from the node file ({len(class_names)} classes)"
    if len(class_names) == len(names) >= 5:   # Gephi's node export has the display name second
        report.warnings.append(f"every node has a class of its own ({len(class_names):,} classes): is column "
                               f"{2 + index} of the node file a name rather than a label?")
    features = None
    if width > 2:
        features = np.stack([table[n][2] for n in names])   # (N, F) float32
        report.features = f"{width - 2} column(s) from the node file"
    notes += [f"node file {rowsplit.NAMES[delimiter]}"]
    notes += [f"node file read as {encoding}"] * bool(encoding)
    notes += ["node file's first column read as an index (its header cell is empty or Unnamed)"] * index
    notes += [f"node file's first row read as a header: {_show_row(first)}"] * bool(header)
    notes += [_spanning("node file: ", spanning)] if spanning else []
    notes += [f"{len(extra):,} node(s) only in the node file, kept as isolated nodes"] * bool(extra)
    return names, [position[g] for g in given], class_names, features


def _number(cell: str, line: int, column: int, delimiter: str = ",", last: bool = False) -> float:
    if delimiter != "," and _DECIMAL_COMMA.fullmatch(cell):
        cell = cell.replace(",", ".")   # a European spreadsheet's 0,5 in a ;- or tab-separated file
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        hint = (" (an empty cell: fill it in, or leave the column out)" if not cell.strip() else
                " (the label goes in column 2, numeric features after it)"
                if last and re.search(r"[^\W\d_]", cell) and cell.lower() not in ("nan", "inf", "infinity") else "")
        raise GatvizError(f"node file line {line}, column {column}: feature {_show(cell)} is not a finite "
                          f"number{hint}")
    if abs(value) > FLOAT32_MAX:   # would become inf in float32, and training NaN
        raise GatvizError(f"node file line {line}, column {column}: feature {_show(cell)} does not fit a "
                          f"32-bit float (at most ±{FLOAT32_MAX:.3g}); scale that column down")
    return value


def _spanning(prefix: str, spanning: list[tuple[int, int]]) -> str:
    """A note on rows whose quoted names hold line breaks: an unclosed quote may have joined rows."""
    first, last = spanning[0]
    return f"{prefix}{len(spanning):,} row(s) with a quoted line break, first over lines {first:,}-{last:,}"


def _show_row(fields: list[str]) -> str:
    """The first cells of a row, as a person reads them: ``node1, node2``."""
    return ", ".join("(empty)" if not f else f if len(f) <= 40 else f[:37] + "..." for f in fields[:4]) + (
        ", …" if len(fields) > 4 else "")


def _show(name: str) -> str:
    """A name for a one-line message: quoted, escaped, shortened."""
    return repr(name if len(name) <= 40 else name[:37] + "...")
