"""Text rows into fields: the delimiter, quoting and the naming rule of uploads.

The naming rule (README, "Graphs"):

- An unquoted field is trimmed of spaces and tabs on both sides
  (``a , b`` gives ``a`` and ``b``), and of the no-break and ideographic spaces
  that spreadsheets and web pages leave there (U+00A0, U+2007, U+202F, U+3000:
  ``Alice\u00a0`` is ``Alice``); inside a name they are kept.
- A quoted field is kept exactly: ``" a\\tb "`` is space, a, tab, b, space. A
  quote inside one is doubled (``"a ""q"" b"``). It may hold line breaks, as
  CSV writes them (``"a\\nb"``): its row runs on to the closing quote. A quote
  inside an unquoted field is an ordinary character (``O"Brien``).
- A comment is a line whose ``#`` or ``%`` is followed by whitespace, another
  ``#``/``%``/``!``, a ``-`` or ``=`` (a rule line), or the line's end: SNAP's
  ``# Nodes: 4039``, KONECT's ``% sym unweighted``, Matrix Market's
  ``%%MatrixMarket`` and ``%-----``, a lone ``#``.
  Any other ``#``/``%`` starts a name (``#tag``, ``%x``, ``#0 key a0=v4``).
  Comments are skipped and counted; blank lines are skipped.

Delimiters: comma, tab, semicolon, pipe, or runs of spaces and tabs. The one
chosen is the one that splits the most of the first SNIFF_LINES rows into
two or more fields, the first two non-empty, in the column count most of its
rows have; then the one that splits fewer rows into another count (a TSV with
one row written with spaces stays a TSV: spaces would split its ``New York``
names too), all counted outside quotes. Remaining ties, in order:

- a comma only ever between two digits is a decimal comma (``1,5``), so
  another delimiter wins;
- spaces lose when they leave a comma, semicolon or pipe stuck to a name or
  standing alone (``a, b, 0.5`` and ``a | b | 1`` are three fields by the
  punctuation, not names ``a,`` or ``|``);
- the one splitting more rows into exactly two fields, none holding a tab
  (``Müller, Hans;Schmidt, Eva`` is two names by ``;``, three by ``,``);
  not counted for spaces, which split ``a,b,2021-01-01 12:00`` in two;
- the one followed by a space in fewer rows: ``, `` is prose inside a name
  (``Müller, Hans;Schmidt, Eva;1``), a delimiter is written bare;
- tab, comma, semicolon, pipe, spaces (a file with a tab in every row is a
  TSV even when its names hold commas).

Written here rather than with :mod:`csv`, which cannot say whether a field
was quoted (so cannot trim only unquoted ones) and turns tabs in quoted names
into spaces when it splits on whitespace.
"""
from __future__ import annotations

import io
import re
from itertools import islice
from typing import Iterator, NamedTuple

from . import limits
from .errors import GatvizError

DELIMITERS = ("\t", ",", ";", "|", " ")   # tie order; " " means any run of spaces and tabs
NAMES = {",": "comma-separated", "\t": "tab-separated", ";": "semicolon-separated",
         "|": "pipe-separated", " ": "separated by spaces/tabs"}
SNIFF_LINES = 50
_BLANKS = re.compile(r"[ \t]+")
EDGE = " \t\u00a0\u2007\u202f\u3000"   # trimmed off an unquoted field's ends (module doc)
_DECIMAL_COMMA = re.compile(r"(?<![0-9]),|,(?![0-9])")   # a comma NOT between two digits
_QUOTED = re.compile(r'"[^"]*"')   # near enough to drop quoted names before looking at delimiters
_COMMENT = re.compile(r"[#%](?:[\s#%!=-]|$)")


def is_comment(body: str) -> bool:
    """Is a line (trimmed of EDGE spaces) a comment? See the module doc."""
    return _COMMENT.match(body) is not None


def _physical(text: str, what: str) -> Iterator[tuple[int, str]]:
    """(line number, line with its line end) of every line.

    Raises:
        GatvizError: a line longer than MAX_LINE_CHARS, before it is split.
    """
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):   # \n, \r\n, \r only
        length = len(line.rstrip("\r\n"))
        if length > limits.MAX_LINE_CHARS:
            raise GatvizError(f"line {number:,} of the {what} is {length:,} characters long; gatviz reads "
                              f"rows of at most {limits.MAX_LINE_CHARS:,} (MAX_LINE_CHARS in {limits.WHERE})")
        yield number, line


def lines(text: str, what: str) -> Iterator[tuple[int, str]]:
    """(line number, body) of every line; comments blanked, ends trimmed of EDGE spaces."""
    for number, line in _physical(text, what):
        body = line.rstrip("\r\n").strip(EDGE)
        yield number, "" if is_comment(body) else body


def _closing(body: str, start: int) -> int:
    """Index just after the quote closing a quoted field whose text starts at ``start``; -1 if open."""
    while True:
        k = body.find('"', start)
        if k < 0:
            return -1
        if body.startswith('"', k + 1):   # "" is a quote inside the name
            start = k + 2
            continue
        return k + 1


def split(body: str, delimiter: str) -> tuple[list[str], bool, str | None]:
    """Fields of one line by the naming rule.

    Returns:
        (fields, open, error): ``open`` when the line ends inside a quoted field;
        ``error`` when text follows a closing quote (``"a"b,c``).
    """
    if not body:
        return [], False, None
    if '"' not in body:   # the common case: nothing quoted, every field trimmed
        fields = _BLANKS.split(body) if delimiter == " " else body.split(delimiter)
        if not body.isascii() or " " in body or "\t" in body:
            fields = [f.strip(EDGE) for f in fields]
        return fields, False, None
    blank = EDGE if delimiter == " " else EDGE.replace(delimiter, "")
    fields, i, n = [], 0, len(body)
    while True:
        while i < n and body[i] in blank:
            i += 1
        if i < n and body[i] == '"':
            end = _closing(body, i + 1)
            if end < 0:
                return fields, True, None
            field = body[i + 1:end - 1].replace('""', '"')
            i = end
            after = i
            while i < n and body[i] in blank:
                i += 1
            if i < n and (body[i] != delimiter if delimiter != " " else i == after):
                return fields, False, f"text after the closing quote of field {len(fields) + 1}"
        else:
            if delimiter == " ":
                m = _BLANKS.search(body, i)
                k = m.start() if m else n
            else:
                k = body.find(delimiter, i)
                k = n if k < 0 else k
            field, i = body[i:k].strip(EDGE), k
        fields.append(field)
        if i >= n:
            return fields, False, None
        if delimiter == " ":
            while i < n and body[i] in blank:
                i += 1
        else:
            i += 1   # the delimiter
            if i == n:
                fields.append("")
                return fields, False, None


def still_open(body: str, delimiter: str) -> bool:
    """Does a quoted field that began on an earlier line stay open past this line?"""
    end = _closing(body, 0)
    return end < 0 or split(body[end:], delimiter)[1]


def delimiter(text: str, what: str) -> str:
    """The delimiter of a file, chosen from its first SNIFF_LINES non-empty lines (see module doc)."""
    sample = [body for _, body in islice((x for x in lines(text, what) if x[1]), SNIFF_LINES)]
    best, best_score = DELIMITERS[0], None
    for d in DELIMITERS:
        ok, two, spaced, glued = [], 0, 0, 0
        for body in sample:
            fields, open_, error = split(body, d)
            if open_ or error:
                continue
            if len(fields) >= 2 and fields[0] != "" and fields[1] != "":
                ok.append(len(fields))
            two += d != " " and len(fields) == 2 and not any("\t" in f for f in fields)
            glued += d == " " and any(f[-1] in ",;|" for f in fields[:-1] if f) or ("|" in fields and d == " ")
            spaced += d != " " and d + " " in _QUOTED.sub("", body)
        consistent = max(ok.count(c) for c in set(ok)) if ok else 0   # rows in the usual column count
        decimal = d == "," and all(not _DECIMAL_COMMA.search(b) for b in sample if "," in b)
        score = (consistent, consistent - len(ok), not decimal, -glued, two, -spaced)
        if best_score is None or score > best_score:
            best, best_score = d, score
    return best if best_score[0] else ","   # nothing splits: say comma, the usual format


class Table(NamedTuple):
    """What :func:`read` found in a file."""
    rows: list[tuple[int, list[str]]]    # (first line, fields) of every non-empty row
    bad: list[tuple[int, str]]           # (line, why) of every unreadable row
    delimiter: str
    comments: int                        # comment lines skipped
    spanning: list[tuple[int, int]]      # (first, last line) of rows with a quoted line break


def read(text: str, what: str, max_rows: int, why: str) -> Table:
    """The rows of a file, split by its delimiter and the naming rule.

    A quoted field may hold line breaks, as CSV writes them (``"a\\nb",c``):
    its row runs on to the line where the quote closes, the breaks kept as
    written (``\\n`` or ``\\r\\n``); lines inside it are never comments. A quote
    that never closes makes one unreadable row of the rest of the file; a
    row that runs past MAX_LINE_CHARS before its quote closes is one
    unreadable row too.

    Raises:
        GatvizError: more than ``max_rows`` rows (``why`` says which limit), said as
            soon as the row past it is met, not after reading the whole file.
    """
    d = delimiter(text, what)
    rows, bad, comments, spanning = [], [], 0, []
    it = _physical(text, what)
    for number, line in it:
        body = line.rstrip("\r\n").strip(EDGE)
        if is_comment(body):
            comments += 1
            continue
        fields, open_, error = split(body, d)
        if open_:   # read on to the closing quote, keeping the line breaks
            record, end, size = [line], number, len(line)
            for end, more in it:
                size += len(more)
                if size <= limits.MAX_LINE_CHARS:
                    record.append(more)
                if not still_open(more.rstrip("\r\n"), d):
                    break
            else:
                skipped = f" (lines {number:,}-{end:,} skipped)" if end > number else ""
                bad.append((number, f"a quote opened on this line never closes{skipped}"))
                continue
            if size > limits.MAX_LINE_CHARS:
                bad.append((number, f"a quote opened on this line closes only on line {end:,}, past "
                                    f"{limits.MAX_LINE_CHARS:,} characters (MAX_LINE_CHARS in {limits.WHERE})"))
                continue
            fields, open_, error = split("".join(record).rstrip("\r\n").strip(EDGE), d)
            if error:
                error += f" (the row runs over lines {number:,}-{end:,})"
            else:
                spanning.append((number, end))
        if error:
            bad.append((number, error))
        elif fields:
            rows.append((number, fields))
        if len(rows) + len(bad) > max_rows:
            raise GatvizError(f"the {what} has more than {max_rows - 1:,} rows; {why}")
    return Table(rows, bad, d, comments, spanning)
