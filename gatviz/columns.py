"""Which rows and columns of an upload hold its graph: headers, index columns, other formats.

Names are arbitrary strings, so types alone cannot tell a header from an edge. The
rules (README, "Graphs"):

- **Header words.** A cell is a header word when, lowercased, less a single trailing
  letter after a separator (``gene_a``), one of its words (split at separators and
  camelCase: ``src_ip``, ``nodeFrom``, ``Source airport``), less trailing
  id/name/node/vertex/digits, is empty or in HEADER_WORDS: ``source,target``, ``u v``,
  ``node1,node2``, ``user_id,item_id``, ``Person1,Person2`` (but not ``a,b`` or ``v1,v2``);
  or, less spaces, separators and digits, in OTHER_HEADER_WORDS (``起点,终点``, ``节点1``,
  ``Origen,Destino``, ``источник;цель``).
- **Edge file.** The first row is a header when its two endpoint cells differ, and either
  both are header words and neither is a node name in any later row (a row repeating the
  header, as concatenated exports have, does not count, and is skipped), or both hold a
  letter and every later row's two names (at least two rows) are integers (``Alice,Bob``
  over ``1,2``). Before the endpoints, a header may name index or attribute columns (an
  empty cell as pandas' ``to_csv`` and R's ``write.csv`` write it, ``Unnamed: 0``, ``id``,
  ``index``, ``weight``, …): the endpoints are then the columns the header names
  (``id,source,target``). A header one cell shorter than its rows (R's ``write.table``)
  over rows whose first cells count 1, 2, 3, … (or 0, 1, 2, …) has row names first.
- **Other formats** (GraphML, GEXF, GML, Pajek, DOT, JSON, UCINET DL, an HTML page, a
  Git LFS pointer) are refused in one line naming the format, not read as junk names; so
  are adjacency lists (a node, then its neighbours: rows of varying length whose later
  cells are nodes of the first two columns) and PyG's ``edge_index`` saved as it is (two
  rows of numbers, sources and targets).
"""
from __future__ import annotations

import json
import re
from collections import Counter

from .errors import GatvizError

HEADER_WORDS = frozenset(
    "source target src dst dest destination from to u v i j head tail node vertex "
    "neighbor neighbour start end origin sender receiver recipient caller callee parent child id name "
    "user item customer product movie citing cited follower followee followed following friend "
    "person author paper actor member gene protein interactor left right row col subject object "
    "quelle ziel von nach cible".split())
# the same in other languages (a cell less spaces, separators and digits): 节点1, 起点, Origen, источник
OTHER_HEADER_WORDS = frozenset(
    "起点 终点 源 目标 源节点 目标节点 节点 起始节点 终止节点 来源 去向 源点 目标点 起始 终止 出发 到达 头节点 尾节点 "
    "用户 好友 关注者 被关注者 作者 论文 起點 終點 節點 目標 "
    "источник цель откуда куда узел вершина "
    "origen destino desde hasta nodo fuente objetivo knoten cible noeud nœud départ arrivée origine destinazione "
    "sorgente".split())
# columns before the endpoints that number or describe the edge, not name a node
INDEX_WORDS = frozenset("id index idx edge edgeid eid key row rowid no nr number weight w time timestamp "
                        "date interaction interactionid".split())
INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?", re.I)
_UNNAMED = re.compile(r"unnamed: ?0")   # pandas' name for a saved index column read back and saved again
_FORMATS = (   # (pattern on the text's first lines, what it is)
    (re.compile(r"\s*<\?xml|\s*<graphml|\s*<gexf", re.I), "XML (GraphML or GEXF)"),
    (re.compile(r"\s*<(!doctype|html)", re.I), "an HTML page (a download that failed?)"),
    (re.compile(r"\s*version https://git-lfs", re.I), "a Git LFS pointer, not the file itself (git lfs pull)"),
    (re.compile(r"(\s*(creator|version)\b[^\n]*\n)*\s*(di)?graph\s*\[", re.I), "GML"),
    (re.compile(r"\s*\*(vertices|network|arcs|edges)\b", re.I), "a Pajek .net file"),
    (re.compile(r"\s*(strict\s+)?(di)?graph\b[^\n{]*\{", re.I), "a DOT (Graphviz) file"),
    (re.compile(r"\s*dl\s+n\s*=", re.I), "a UCINET DL file"),
)


def refuse_other_formats(text: str, what: str) -> None:
    """A file in a graph format that is not an edge list: one line naming it (GatvizError)."""
    head = text[:4096]
    for pattern, kind in _FORMATS:
        if pattern.match(head):
            raise GatvizError(f"the {what} looks like {kind}, not rows of names: save the edges as CSV, "
                              f"one source,target per row")
    if head.lstrip()[:1] in ("{", "["):
        try:
            json.loads(text)
        except ValueError:
            return   # a name that starts with a bracket
        raise GatvizError(f"the {what} is JSON, not rows of names: save the edges as CSV, one source,target "
                          f"per row (networkx: nx.write_edgelist(G, path, delimiter=',', data=False))")


def words(cell: str) -> list[str]:
    """A header cell's words, lowercased: ``src_ip`` -> src, ip; ``nodeFrom`` -> node, from."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", cell)
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def _base(word: str) -> str:
    return re.sub(r"(id|name|node|vertex|\d)+$", "", word)


def header_word(cell: str) -> bool:
    """Does a cell name a column (the module doc's rule) rather than a node?"""
    if re.sub(r"[\s_\-.:0-9]+", "", cell.lower()) in OTHER_HEADER_WORDS:
        return True
    # "gene_a", "Interactor B": a letter after a separator numbers a column, as digits do
    word = re.sub(r"[^a-z0-9]", "", re.sub(r"(?<=[a-z0-9]{2})[^a-z0-9]+[a-z]$", "", cell.lower()))
    if not word[:1].isalpha():
        return False
    base = _base(word)
    # "u" is a header word but "v1" is a node name, not "v" numbered
    if base == "" or base in HEADER_WORDS and (len(base) > 1 or base == word):
        return True
    parts = words(cell)
    return len(parts) > 1 and any(len(p) > 1 and p[0].isalpha() and (_base(p) in HEADER_WORDS or _base(p) == "")
                                  for p in parts)


def saved_index(cell: str) -> bool:
    """The header cell of an index pandas or R saved: empty, or "Unnamed: 0" once read back."""
    return cell.strip() == "" or _UNNAMED.fullmatch(cell.strip().lower()) is not None


def index_cell(cell: str) -> bool:
    """A header cell naming an index or attribute column ahead of the endpoints."""
    return saved_index(cell) or re.sub(r"[^a-z0-9]", "", cell.lower()) in INDEX_WORDS


def edge_header(rows) -> tuple[bool, int, int]:
    """(is the first row a header, the header's first endpoint column, the rows' first endpoint
    column). ``rows``: (line, fields) of the edge file."""
    first, rest = rows[0][1], rows[1:]
    k = 0
    while k < 3 and len(first) - k > 2 and index_cell(first[k]):
        k += 1
    if k and len(first) >= k + 2 and _is_header(first[k:], rest, k):
        return True, k, k
    if _is_header(first, rest, 0):
        return True, 0, _row_names(first, rest)
    return False, 0, 0


def _row_names(first: list[str], rest) -> int:
    """1 when the header is one cell shorter than its rows and those start 1, 2, 3, … (or
    0, 1, 2, …): R's write.table writes row names without a header cell."""
    widths = {len(fields) for _, fields in rest}
    if widths != {len(first) + 1} or len(rest) < 2:
        return 0
    numbers = [fields[0] for _, fields in rest]
    if not all(INTEGER.fullmatch(n) for n in numbers):
        return 0
    if len(first) == 2 and all(_NUMBER.fullmatch(f[-1]) and not INTEGER.fullmatch(f[-1]) for _, f in rest):
        return 0   # "source,target" over "1,2,0.5": an unnamed weight last, not row names first
    start = int(numbers[0])
    return int(start in (0, 1) and [int(n) for n in numbers] == list(range(start, start + len(numbers))))


def _is_header(first: list[str], rest, at: int) -> bool:
    if len(first) < 2 or first[0] == first[1]:
        return False
    pairs = [fields[at:at + 2] for _, fields in rest if len(fields) >= at + 2 and fields[at:at + 2] != first[:2]]
    if not (header_word(first[0]) and header_word(first[1])):
        # words over integer ids ("Alice,Bob" then "1,2", "2,3"): a header whatever its words
        return (len(pairs) >= 2 and all(re.search(r"[^\W\d_]", cell) for cell in first[:2])
                and all(INTEGER.fullmatch(cell) for pair in pairs for cell in pair))
    if not rest:   # a lone "a,b" is more likely a one-edge graph than a header
        return len(first[0]) > 1 and len(first[1]) > 1
    head = set(first[:2])
    return not any(cell in head for pair in pairs for cell in pair)



def refuse_other_layouts(rows) -> None:
    """An adjacency list or a saved ``edge_index`` read as an edge list would keep only the
    first two columns of each row: refused in one line (GatvizError)."""
    wide = [fields for _, fields in rows if len(fields) >= 2]
    if len(rows) == 2 and len(wide) == 2 and len(wide[0]) == len(wide[1]) >= 5 and all(
            _NUMBER.fullmatch(cell) for fields in wide for cell in fields):
        raise GatvizError(f"the edge file has 2 rows of {len(wide[0]):,} numbers: sources in one, targets in "
                          f"the other (PyG's edge_index saved as it is)? gatviz reads one edge per row: save "
                          f"edge_index.T, e.g. np.savetxt(path, edge_index.T, fmt='%d', delimiter=',')")
    # rows of different lengths, some of 4 or more (a weight, or a weight and a time, keep
    # an edge list's width), each node first in one row only, 6 or more later cells, mostly nodes
    # (the first row may be a header, whose width says nothing: pandas' tab-separated index
    # loses its empty header cell when the line is trimmed)
    body = wide[1:]
    widths = Counter(len(fields) for fields in body)
    if len(widths) < 2 or max(widths) < 4 or len({fields[0] for fields in body}) < len(body):
        return
    ends = {cell for fields in body for cell in fields[:2]}
    later = [cell for fields in body for cell in fields[2:]]
    if len(later) >= 6 and sum(cell in ends for cell in later) >= 0.5 * len(later):
        raise GatvizError("the edge file looks like an adjacency list (a node, then all its neighbours, on each "
                          "row; rows of different lengths): gatviz reads one source,target pair per row "
                          "(networkx: nx.write_edgelist(G, path, delimiter=',', data=False))")


def decimal_ids(names: list[str]) -> str | None:
    """A warning when the node names are whole numbers written as decimals (``1.0``,
    ``1.000000000000000000e+00``, np.savetxt's default): read as written, they match no
    ``1`` of a node file."""
    sample = names[:1000]
    if not sample or all(INTEGER.fullmatch(n) for n in sample):
        return None
    if not all(_NUMBER.fullmatch(n) and float(n).is_integer() for n in sample):
        return None
    return (f"node names such as {sample[0]!r} are whole numbers written as decimals: they are read as "
            f"written ('1.0' and '1' would be two nodes); save ids as integers (np.savetxt: fmt='%d')")
