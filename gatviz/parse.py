"""Read a user's edge list (and optional node file) into a :class:`Graph`.

Edge file: ``source<delim>target[<delim>ignored…]`` per row; CSV, TSV, ``;``,
``|`` or whitespace (any run of spaces/tabs), header optional. Names follow
the naming rule of :mod:`gatviz.rows`: unquoted names are trimmed of spaces
and tabs on both sides, quoted names are kept exactly (quote one holding the
delimiter, a quote, doubled: ``"a ""q"" b"``, or edge spaces). A line whose
``#``/``%`` is followed by whitespace, ``#``, ``%``, ``!`` or nothing is a
comment (``# Nodes: 4``, ``%%MatrixMarket``); ``#tag`` is a name. Node file:
``node,label[,f…]``. The report says which delimiter was used, which first
row was read as a header and how many comment lines were skipped.
"""
from __future__ import annotations

import codecs
import math
import os
import re
from pathlib import Path

import numpy as np

from . import limits, rows as rowsplit
from .errors import GatvizError
from .graphs import Graph, Report, build

FLOAT32_MAX = float(np.finfo(np.float32).max)   # features are stored as float32
HEADER_WORDS = frozenset(
    "source target src dst dest destination from to u v i j head tail node vertex "
    "neighbor neighbour start end origin sender receiver parent child id name "
    "user item customer product movie citing cited follower followee followed following friend "
    "person author paper actor member gene protein interactor".split())
_INTEGER = re.compile(r"[+-]?[0-9]+")
LABEL_WORDS = frozenset("label class y group community category cluster type block club".split())
# a missing label as pandas, R and spreadsheets write it: no class to learn, as an empty label
MISSING_LABELS = frozenset("nan na n/a #n/a <na> null none -".split())
MAGIC = {b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
         b"%PDF": "a PDF document", b"\x1f\x8b": "a gzip archive",
         b"PK\x03\x04": "a ZIP archive (an Excel .xlsx is one: save it as CSV)"}
# C0 control bytes never found in text files (tab, newlines, form feed, DOS EOF excluded)
_CONTROL = bytes(range(0, 9)) + bytes(range(14, 26)) + bytes(range(28, 32))


def parse_upload(edges: bytes, nodes: bytes | None = None, *, directed: bool = False, seed: int = 0,
                 name: str = "upload", source: str = "uploaded edge list") -> Graph:
    """Build a Graph from the bytes of an edge file and, optionally, a node file.

    Header rule (names are arbitrary strings, so types alone cannot tell):
    the first row is a header when its first two cells differ, and either
    both are header words and neither is a node name in any later row (a
    lone row needs cells longer than one letter), or both hold a letter and
    every later row's two names (at least two rows) are integers
    (``Alice,Bob`` over ``1,2``). A header word, lowercased, less a single
    trailing letter after a separator (``gene_a``), stripped of
    non-alphanumerics, starts with a letter and, less trailing
    id/name/node/vertex/digits, is empty or in HEADER_WORDS: ``source,target``,
    ``src,dst``, ``From,To``, ``u v``, ``node1,node2``, ``source_id,target_id``,
    ``user_id,item_id``, ``citing,cited``, ``Person1,Person2``, ``protein1
    protein2`` (but not ``a,b`` or ``v1,v2``). Node file: the first row is a
    header when its first cell is no edge-file node and either it is a header
    word or its second cell is in LABEL_WORDS (``node,label``, ``id,class``).

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
    rows, bad, delimiter, comments, spanning = rowsplit.read(
        text, "edge file", max_rows=2 * limits.MAX_EDGES + 1,
        why=f"gatviz handles at most {limits.MAX_EDGES:,} edges, an undirected one listed at most both ways "
            f"(MAX_EDGES in {limits.WHERE})")
    names, pairs, wide, header = _edges(rows, bad)
    notes = [rowsplit.NAMES[delimiter]] + [f"edge file read as {encoding}"] * bool(encoding)
    notes += [f"first row read as a header: {_show_row(header)}"] * bool(header)
    notes += ["columns after the second ignored"] * wide
    notes += [_spanning("", spanning)] if spanning else []
    report = Report(source, bad_rows=sorted(bad), comment_lines=comments)
    labels = class_names = features = None
    if nodes is not None:
        names, labels, class_names, features = _node_file(nodes, names, report, notes)
    report.source = source + (f" ({'; '.join(notes)})" if notes else "")
    return build(pairs, names, name=name, report=report, labels=labels, class_names=class_names,
                 features=features, directed=directed, seed=seed)


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


def _decode(raw: bytes, what: str) -> tuple[str, str]:
    """Text of a file, and the encoding used when it was not UTF-8 ("" for UTF-8).

    A single DOS end-of-file byte (Ctrl-Z, ``\\x1a``) ending the file, as old
    Windows tools write one, is dropped: it would end the last name.
    """
    text, encoding = _text(raw, what)
    return (text[:-1] if text.endswith("\x1a") else text), encoding


def _text(raw: bytes, what: str) -> tuple[str, str]:
    if len(raw) > limits.MAX_FILE_BYTES:
        raise GatvizError(f"the {what} is {_size(len(raw))}; gatviz reads files of at most "
                          f"{_size(limits.MAX_FILE_BYTES)} (MAX_FILE_BYTES in {limits.WHERE})")
    if not raw:
        raise GatvizError(f"the {what} is empty")
    for magic, kind in MAGIC.items():
        if raw.startswith(magic):
            raise GatvizError(f"the {what} does not look like text: it starts like {kind}")
    # UTF-32's BOM begins like UTF-16's: try it first. NUL is never text: a name holding
    # one (UTF-32 read as UTF-16, say) would be a different name than the file shows.
    for bom, encoding in (((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE), "UTF-32"),
                          ((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE), "UTF-16")):   # Excel's "Unicode text"
        if raw.startswith(bom):
            try:
                text = raw.decode(encoding.lower())
            except UnicodeDecodeError:
                continue
            if "\0" in text:
                raise GatvizError(f"the {what} holds NUL characters after decoding it as {encoding}; "
                                  f"save it as UTF-8 text")
            return text, encoding
    head = raw[:65536]
    controls = len(head) - len(head.translate(None, _CONTROL))
    if b"\0" in raw or controls > len(head) // 100:
        raise GatvizError(f"the {what} does not look like text: it holds binary bytes "
                          f"(save it as CSV or plain text)")
    try:
        return raw.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        _refuse_mixed(raw, what)
    # cp1252 before latin-1 gives Windows' curly quotes and €; latin-1 decodes anything
    try:
        return raw.decode("cp1252"), "Windows-1252, not valid UTF-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1, not valid UTF-8"


def _refuse_mixed(raw: bytes, what: str) -> None:
    """Refuse a file holding both UTF-8 characters and bytes that are not UTF-8.

    Such a file was written by two programs (a latin-1 name pasted into a UTF-8
    file): read as Windows-1252, every UTF-8 accent would become two letters
    (``José`` as ``JosÃ©``). A file with more bytes that are not UTF-8 than UTF-8
    characters (and no UTF-8 byte-order mark) is left to the Windows-1252/latin-1
    fallback: in a latin-1 file an accented capital followed by a symbol (``É»``,
    ``Â°``) happens to be a valid UTF-8 pair.
    """
    text = raw.decode("utf-8", "surrogateescape")   # each byte that is not UTF-8 becomes U+DC80..U+DCFF
    good = re.search(r"[^\x00-\x7f\udc80-\udcff]", text)
    if good is None:
        return
    if good.group() != "\ufeff" and (len(re.findall(r"[\udc80-\udcff]", text))
                                     > len(re.findall(r"[^\x00-\x7f\udc80-\udcff]", text))):
        return
    bad = re.search(r"[\udc80-\udcff]", text)
    shown = "a UTF-8 byte-order mark" if good.group() == "\ufeff" else f"UTF-8 {good.group()!r}"
    raise GatvizError(f"line {_line_at(text, bad.start()):,} of the {what} is not UTF-8 (byte "
                      f"0x{ord(bad.group()) - 0xDC00:02X}) while the rest of the file is ({shown} "
                      f"on line {_line_at(text, good.start()):,}): save the file as UTF-8")


def _line_at(text: str, k: int) -> int:
    """Line number of text[k], counting \\n, \\r\\n and \\r line ends as :mod:`gatviz.rows` does."""
    return text.count("\n", 0, k) + text.count("\r", 0, k) - text.count("\r\n", 0, k) + 1


def _edges(rows, bad: list) -> tuple[list[str], list[tuple[int, int]], bool, list[str]]:
    """Names by first appearance, index pairs, whether rows had extra columns, the header row
    dropped ([] if none); adds to ``bad``."""
    header = []
    if rows and _is_header(rows[0][1], rows[1:]):
        if len(rows) == 1 and not bad:
            raise GatvizError(f"the edge file has no edges: its only row, line {rows[0][0]}, looks like a header")
        header, rows = rows[0][1], rows[1:]
    index: dict[str, int] = {}
    pairs, wide = [], False
    for line, fields in rows:
        if len(fields) < 2:
            bad.append((line, "only one field; need source and target"))
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
    return list(index), pairs, wide, header


def _header_word(cell: str) -> bool:
    # "gene_a", "Interactor B": a letter after a separator numbers a column, as digits do
    word = re.sub(r"[^a-z0-9]", "", re.sub(r"(?<=[a-z0-9]{2})[^a-z0-9]+[a-z]$", "", cell.lower()))
    if not word[:1].isalpha():
        return False
    base = re.sub(r"(id|name|node|vertex|\d)+$", "", word)
    # "u" is a header word but "v1" is a node name, not "v" numbered
    return base == "" or base in HEADER_WORDS and (len(base) > 1 or base == word)


def _is_header(first: list[str], rest) -> bool:
    if len(first) < 2 or first[0] == first[1]:
        return False
    if not (_header_word(first[0]) and _header_word(first[1])):
        # words over integer ids ("Alice,Bob" then "1,2", "2,3"): a header whatever its words
        pairs = [fields[:2] for _, fields in rest if len(fields) >= 2]
        return (len(pairs) >= 2 and all(re.search(r"[^\W\d_]", cell) for cell in first[:2])
                and all(_INTEGER.fullmatch(cell) for pair in pairs for cell in pair))
    if not rest:   # a lone "a,b" is more likely a one-edge graph than a header
        return len(first[0]) > 1 and len(first[1]) > 1
    head = set(first[:2])
    return not any(cell in head for _, fields in rest for cell in fields[:2])


def _node_file(raw: bytes, names: list[str], report: Report, notes: list[str]):
    """Names (edge-file ones, then isolated ones), labels (N,), class names, features (N, F) or None."""
    text, encoding = _decode(raw, "node file")
    rows, bad, delimiter, comments, spanning = rowsplit.read(
        text, "node file", max_rows=limits.MAX_NODES + 1,
        why=f"gatviz handles at most {limits.MAX_NODES:,} nodes (MAX_NODES in {limits.WHERE})")
    if bad:
        raise GatvizError(f"node file line {bad[0][0]}: {bad[0][1]}")
    report.comment_lines += comments
    known = set(names)
    first = rows[0][1] if rows else []
    header = first and first[0] not in known and (_header_word(first[0]) or len(first) > 1 and
                                                  re.sub(r"[^a-z]", "", first[1].lower()) in LABEL_WORDS)
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
            (_number(cell, line, column) for column, cell in enumerate(fields[2:], start=3)),
            dtype=np.float32, count=width - 2))
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
    features = None
    if width > 2:
        features = np.stack([table[n][2] for n in names])   # (N, F) float32
        report.features = f"{width - 2} column(s) from the node file"
    notes += [f"node file {rowsplit.NAMES[delimiter]}"]
    notes += [f"node file read as {encoding}"] * bool(encoding)
    notes += [f"node file's first row read as a header: {_show_row(first)}"] * bool(header)
    notes += [_spanning("node file: ", spanning)] if spanning else []
    notes += [f"{len(extra):,} node(s) only in the node file, kept as isolated nodes"] * bool(extra)
    return names, [position[g] for g in given], class_names, features


def _number(cell: str, line: int, column: int) -> float:
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise GatvizError(f"node file line {line}, column {column}: feature {_show(cell)} is not a finite number")
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
    return ", ".join(f if len(f) <= 40 else f[:37] + "..." for f in fields[:4]) + (", …" if len(fields) > 4 else "")


def _show(name: str) -> str:
    """A name for a one-line message: quoted, escaped, shortened."""
    return repr(name if len(name) <= 40 else name[:37] + "...")


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n:,} bytes"
