"""Edge-list and node-file parsing: formats, exact names, bad rows, refusals."""
import csv
import re
import io

import pytest
import torch

from gatviz import RunConfig, graphs, limits, parse
from gatviz.errors import GatvizError
from gatviz.parse import load_files, parse_upload


def edge_names(g):
    """Set of (source name, target name) for every directed edge."""
    return {(g.names[j], g.names[i]) for j, i in g.data.edge_index.t().tolist()}


def test_csv_with_header():
    g = parse_upload(b"source,target\na,b\nb,c\n")
    assert g.names == ["a", "b", "c"]
    assert g.num_edges == 4       # undirected: both directions
    assert ("b", "a") in edge_names(g)
    assert g.report.bad_rows == []


@pytest.mark.parametrize("header", ["src,dst", "From,To", "node1,node2", "Source Node,Target Node", "u,v"])
def test_header_words_dropped(header):
    g = parse_upload(f"{header}\nx,y\ny,z\n".encode())
    assert g.names == ["x", "y", "z"]


@pytest.mark.parametrize("header", ["user_id,item_id", "citing,cited", "follower,followee", "gene_a,gene_b",
                                    "Person1,Person2", "protein1 protein2 combined_score",
                                    "Interactor A\tInteractor B"])
def test_common_header_rows_are_not_edges(header):
    sep = "\t" if "\t" in header else " " if " " in header else ","
    g = parse_upload(f"{header}\nx7{sep}y7\ny7{sep}z7\n".encode())
    assert g.names == ["x7", "y7", "z7"]
    assert "first row read as a header" in g.report.source


@pytest.mark.parametrize("text", ["a,b\n1,2\n2,3\n", "Alice,Bob\n10,20\n20,30\n-1,10\n"])
def test_a_first_row_of_words_over_integer_rows_is_a_header(text):
    g = parse_upload(text.encode())
    assert all(name.lstrip("-").isdigit() for name in g.names)
    assert "first row read as a header" in g.report.source


@pytest.mark.parametrize("text", ["a,b\n1,2\nc,3\n", "a,b\n1,2\n", "1.5,2.5\n1,2\n2,3\n"])
def test_words_over_rows_not_all_integers_stay_an_edge(text):
    assert "header" not in parse_upload(text.encode()).report.source


def test_single_edge_file():
    assert parse_upload(b"a,b\n").names == ["a", "b"]


def test_no_header():
    g = parse_upload(b"1,2\n2,3\n3,1\n")
    assert g.names == ["1", "2", "3"]
    assert g.num_edges == 6


def test_first_edge_that_looks_like_header_is_kept():
    # "u" and "v" are header words, but "v" is a node of a later row
    g = parse_upload(b"u,v\nv,w\n")
    assert g.names == ["u", "v", "w"]
    assert ("u", "v") in edge_names(g)


@pytest.mark.parametrize("text", ["a,b\nc,d\n", "v1,v2\nv3,v4\n", "1,2\n3,4\n"])
def test_node_names_are_not_header_words(text):
    assert len(parse_upload(text.encode()).names) == 4


def test_tsv_with_weight_column():
    g = parse_upload(b"from\tto\tweight\nNew York\tBoston\t1.5\nBoston\tChicago, IL\t2\n")
    assert g.names == ["New York", "Boston", "Chicago, IL"]
    assert "columns after the second ignored" in g.report.source


def test_whitespace_separated_runs_of_spaces_and_tabs():
    g = parse_upload(b"node1 node2\n  a   b\nb \t c\n\"New York\" a\n")
    assert g.names == ["a", "b", "c", "New York"]
    assert g.num_edges == 6


def test_utf8_bom_and_crlf():
    g = parse_upload("\ufeffsource,target\r\nZoë,Åsa\r\nÅsa,李\r\n".encode("utf-8"))
    assert g.names == ["Zoë", "Åsa", "李"]
    assert "file read as" not in g.report.source      # no encoding note for UTF-8


def test_latin1_fallback():
    g = parse_upload("Zoë,Bob\nBob,Ève\n".encode("latin-1"))
    assert g.names == ["Zoë", "Bob", "Ève"]
    assert "not valid UTF-8" in g.report.source


def test_a_stray_latin1_byte_in_a_utf8_file_is_refused():
    # one name typed in a latin-1 program: read as Windows-1252, every other accent became mojibake
    raw = "José,Zoë\n".encode() + b"Zo\xc3\xab,Ren\xe9\n" + "René,José\n".encode()
    with pytest.raises(GatvizError) as err:
        parse_upload(raw)
    assert str(err.value).startswith("line 2 of the edge file is not UTF-8 (byte 0xE9) while the rest of the file "
                                     "is (UTF-8 'é' on line 1)")
    assert str(err.value).endswith("save the file as UTF-8") and "\n" not in str(err.value)
    with pytest.raises(GatvizError, match=r"^line 2 of the node file is not UTF-8 \(byte 0xE9\) while the rest "
                                          r"of the file is \(a UTF-8 byte-order mark on line 1\)"):
        parse_upload(b"a,b\n", b"\xef\xbb\xbfa,x\nb,\xe9\n")
    g = parse_upload("José,Zoë\nZoë,“René”\n".encode("cp1252"))   # pure Windows-1252 is still read
    assert g.names == ["José", "Zoë", "“René”"]
    # a latin-1 file where "Â°" happens to be a valid UTF-8 pair: mostly not UTF-8, read as latin-1
    g = parse_upload("Élise»,Zoë\nZoë,Ève\nÈve,BÂ°\nBÂ°,Noël\n".encode("latin-1"))
    assert g.names == ["Élise»", "Zoë", "Ève", "BÂ°", "Noël"] and "not valid UTF-8" in g.report.source


@pytest.mark.parametrize("raw", [b"a,b\nb,c\x1a", b"a,b\r\nb,c\r\n\x1a", "a,b\nb,c\x1a".encode("utf-16"),
                                 b"a,b\nb,\xe7\x1a"])
def test_a_trailing_dos_end_of_file_byte_is_dropped(raw):
    g = parse_upload(raw)
    assert g.names[:2] == ["a", "b"] and g.names[2] in ("c", "ç")
    assert g.report.bad_rows == []
    assert parse_upload(b"a,b\n", b"a,x\nb,y\x1a").class_names == ["x", "y"]
    assert parse_upload(b"a,b\x1a\nb\x1a,c\n").names == ["a", "b\x1a", "c"]   # only at the file's end


def test_utf16_with_bom():
    g = parse_upload("a\tZoë\nZoë\tc\n".encode("utf-16"))
    assert g.names == ["a", "Zoë", "c"]


def test_quoted_names_kept_exactly():
    text = '"1,2","a ""q"" b"\n"a ""q"" b"," padded "\n" padded ",<b>x</b>\n<b>x</b>,"1,2"\n'
    g = parse_upload(text.encode())
    assert g.names == ["1,2", 'a "q" b', " padded ", "<b>x</b>"]
    assert g.num_edges == 8


def test_html_names_verbatim():
    g = parse_upload(b"<script>alert(1)</script>,&amp;\n&amp;,<b>x</b>\n")
    assert g.names == ["<script>alert(1)</script>", "&amp;", "<b>x</b>"]
    assert g.index("<b>x</b>") == 2


def test_duplicates_and_self_loops_counted():
    g = parse_upload(b"a,b\nb,a\na,b\nc,c\nb,c\n")
    assert g.report.duplicate_edges == 2     # b,a and the second a,b (undirected)
    assert g.report.self_loops == 1
    assert g.num_edges == 4
    assert not bool((g.data.edge_index[0] == g.data.edge_index[1]).any())


def test_directed_keeps_one_way_edges():
    undirected = parse_upload(b"a,b\nb,c\nb,a\n")
    directed = parse_upload(b"a,b\nb,c\nb,a\n", directed=True)
    assert undirected.num_edges == 4 and undirected.report.duplicate_edges == 1
    assert directed.num_edges == 3 and directed.report.duplicate_edges == 0
    assert edge_names(directed) == {("a", "b"), ("b", "c"), ("b", "a")}
    assert directed.report.directed


def test_bad_rows_reported_with_line_numbers():
    text = b"# a comment\nsource,target\na,b\nlonely\n\n% another comment\nb,\n,c\nb,c\n\"open,d\ne,f\n"
    g = parse_upload(text)
    assert g.report.bad_rows == [(4, "only one field; need source and target"), (7, "empty node name"),
                                 (8, "empty node name"),
                                 (10, "a quote opened on this line never closes (lines 10-11 skipped)")]
    assert g.names == ["a", "b", "c"]
    assert any("line 4" in line for line in g.report.lines())


def test_comments_and_blank_lines_skipped_and_counted():
    g = parse_upload(b"% matrix-market style\n\n# edges\na b\n   \nb c\n")
    assert g.names == ["a", "b", "c"] and g.report.bad_rows == []
    assert g.report.comment_lines == 2
    assert "skipped 2 comment line(s)" in "\n".join(g.report.lines())


def test_a_name_starting_with_hash_or_percent_is_a_name():
    # only # or % followed by a space, #, %, !, -, = or the line's end starts a comment
    g = parse_upload(b"a,b\n#tag,a\nb,c\n%x,c\n")
    assert g.names == ["a", "b", "#tag", "c", "%x"]
    assert g.num_edges == 8 and g.report.comment_lines == 0
    text = b"# Nodes: 3\n#\tFromNodeId\n%%MatrixMarket matrix coordinate\n% sym unweighted\n#!\n##\n#\na b\nb c\n"
    g = parse_upload(text)
    assert g.names == ["a", "b", "c"] and g.report.comment_lines == 7
    g = parse_upload(b"a,b\n", b"# node,label\na,x\nb,y\n")
    assert g.report.comment_lines == 1
    assert parse_upload(b'"# 1",a\na,b\n').names == ["# 1", "a", "b"]            # quoted: a name
    g = parse_upload(b"#FromNodeId\tToNodeId\n1\t2\n2\t3\n")                  # SNAP's header without a space
    assert g.names == ["1", "2", "3"] and "first row read as a header: #FromNodeId, ToNodeId" in g.report.source


def test_dictionary_graph_round_trips_through_an_edge_file():
    # its node names ("#0 key a0=v4") start with #
    g = graphs.load("dictionary", RunConfig(dataset="dictionary"))
    out = io.StringIO()
    csv.writer(out).writerows(sorted(edge_names(g)))
    back = parse_upload(out.getvalue().encode(), directed=True)
    assert sorted(back.names) == sorted(g.names)
    assert edge_names(back) == edge_names(g)
    assert back.report.comment_lines == 0 and back.report.bad_rows == []


@pytest.mark.parametrize("raw, message", [
    (b"", "the edge file is empty"),
    (b"\n# only a comment\n\n", "no edges"),
    (b"source,target\n", "looks like a header"),
    (b"just\nsome\nwords\n", "no edges could be read from the edge file (3 unreadable row(s), first at line 1"),
    (b"x\n,y\n", "first at line 1"),
])
def test_nothing_readable_is_an_error(raw, message):
    with pytest.raises(GatvizError, match=None) as err:
        parse_upload(raw)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("raw", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    b"a,b\n\x00\x01\x02\x03c,d\n",
    bytes(range(1, 9)) * 100,
    b"PK\x03\x04rest-of-an-xlsx",
])
def test_binary_is_refused(raw):
    with pytest.raises(GatvizError, match="does not look like text"):
        parse_upload(raw)


def test_file_over_cap_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 100)
    raw = b"a,b\n" * 30
    with pytest.raises(GatvizError, match="120 bytes; gatviz reads files of at most 100 bytes"):
        parse_upload(raw)
    path = tmp_path / "big.csv"
    path.write_bytes(raw)
    with pytest.raises(GatvizError, match="big.csv is 120 bytes"):
        load_files(path)


def test_node_file_labels_and_features():
    edges = b"a,b\nb,c\nc,a\n"
    nodes = b"node,label,f1,f2\nc,10,0.5,1\na,2,1e-3,-2\nb,2,0,0\nlonely,9,3,3\n"
    g = parse_upload(edges, nodes)
    assert g.names == ["a", "b", "c", "lonely"]
    assert g.class_names == ["2", "9", "10"]          # numeric labels in natural order
    assert g.data.y.tolist() == [0, 0, 2, 1]
    assert torch.allclose(g.data.x, torch.tensor([[1e-3, -2], [0, 0], [0.5, 1], [3, 3]]))
    assert g.report.labels == "from the node file (3 classes)"
    assert g.report.features == "2 column(s) from the node file"
    assert "1 node(s) only in the node file" in g.report.source
    assert int(g.degree[3]) == 0


def test_node_file_labels_only_without_header():
    g = parse_upload(b"a\tb\nb\tc\n", b"a\tred\nb\tblue\nc\tred\n")
    assert g.class_names == ["blue", "red"]
    assert g.data.y.tolist() == [1, 0, 1]
    assert g.data.x.shape == (3, 3)   # default one-hot features: none were given


def test_node_file_missing_a_node():
    with pytest.raises(GatvizError, match=r"1 node\(s\) of the edge file have no row in the node file: 'c'"):
        parse_upload(b"a,b\nb,c\n", b"a,x\nb,y\n")


def test_node_file_non_numeric_feature_names_line_and_column():
    with pytest.raises(GatvizError, match="node file line 3, column 4: feature 'high' is not a finite number"):
        parse_upload(b"a,b\n", b"node,label,f1,f2\na,x,1,2\nb,y,1,high\n")


def test_load_files_and_unreadable_path(tmp_path):
    edges = tmp_path / "friends.csv"
    edges.write_bytes(b"source,target\nann,bob\nbob,cy\n")
    g = load_files(edges, directed=True)
    assert g.name == "friends" and g.num_edges == 2
    assert g.report.source.startswith("friends.csv")
    with pytest.raises(GatvizError, match=r"cannot read .*missing\.csv: No such file"):
        load_files(tmp_path / "missing.csv")


@pytest.mark.parametrize("text", ["a;b\nb;c\n", "a|b\nb|c\n", "a, b\nb,  c\n", "a b\nb\tc\n"])
def test_other_delimiters(text):
    assert parse_upload(text.encode()).names == ["a", "b", "c"]


def test_unquoted_spaces_in_csv_names():
    g = parse_upload(b"San Jose,New York City\nNew York City,Los Angeles\n")
    assert g.names == ["San Jose", "New York City", "Los Angeles"]


def test_unclosed_quote_at_end_is_a_bad_row():
    g = parse_upload(b'a,b\n"c,d\ne,f\n')
    assert g.names == ["a", "b"]
    assert g.report.bad_rows == [(2, "a quote opened on this line never closes (lines 2-3 skipped)")]
    with pytest.raises(GatvizError, match=r"first at line 1: a quote opened on this line never closes\)$"):
        parse_upload(b'"a,b\n')


def test_a_quoted_name_may_hold_line_breaks():
    # as csv.writer and pandas write them: the row runs on to the closing quote
    out = io.StringIO()
    csv.writer(out).writerows([["a\nb", "c"], ["c", "d\r\ne"], ["d\r\ne", "  # not a comment\n"]])
    g = parse_upload(out.getvalue().encode())
    assert g.names == ["a\nb", "c", "d\r\ne", "  # not a comment\n"]
    assert g.report.bad_rows == [] and g.report.comment_lines == 0
    assert "3 row(s) with a quoted line break, first over lines 1-2" in g.report.source
    g = parse_upload(b'x,y\n"p\nq"r,s\ny,z\n')   # text after the closing quote: one bad row
    assert g.report.bad_rows == [(2, "text after the closing quote of field 1 (the row runs over lines 2-3)")]
    assert g.names == ["x", "y", "z"]
    g = parse_upload(b"a,b\n", b'a,"first\nclass"\nb,x\n')
    assert g.class_names == ["first\nclass", "x"]
    assert "node file: 1 row(s) with a quoted line break, first over lines 1-2" in g.report.source


def test_a_row_past_the_line_limit_before_its_quote_closes_is_a_bad_row(monkeypatch):
    monkeypatch.setattr(limits, "MAX_LINE_CHARS", 20)
    g = parse_upload(b'a,b\n"c\n' + b"0123456789\n" * 3 + b'",d\nb,e\n')
    assert g.names == ["a", "b", "e"]
    assert g.report.bad_rows == [(2, "a quote opened on this line closes only on line 6, past 20 characters "
                                     "(MAX_LINE_CHARS in gatviz/limits.py)")]


@pytest.mark.parametrize("nodes, message", [
    (b"a,x\nb\n", "node file line 2: need node,label"),
    (b"a,x,1\nb,y\n", "node file line 2 has 2 columns, line 1 has 3"),
    (b"a,x\nb,y\na,z\n", "node 'a' has two rows in the node file (lines 1 and 3)"),
    (b"a,x,nan\nb,y,1\n", "node file line 1, column 3: feature 'nan' is not a finite number"),
    (b"node,label\n", "the node file has no rows"),
])
def test_node_file_mistakes(nodes, message):
    with pytest.raises(GatvizError) as err:
        parse_upload(b"a,b\n", nodes)
    assert message in str(err.value)


@pytest.mark.parametrize("label", ["NaN", "nan", "NA", "N/A", "null", "None", "-", "NULL", "#N/A", " n/a "])
def test_node_file_missing_labels_written_as_text_are_missing(label):
    # pandas and spreadsheets write a missing label so; it must not become a class to predict
    with pytest.raises(GatvizError) as err:
        parse_upload(b"a,b\nb,c\n", f"node,label\na,x\nb,{label}\nc,x\n".encode())
    assert str(err.value) == (f"node file line 3: need node,label[,feature…] with a non-empty node and label; "
                              f"{label.strip()!r} is a missing label")
    with pytest.raises(GatvizError, match=r"^node file line 2: need node,label\[,feature…\] with a non-empty "
                                          r"node and label$"):
        parse_upload(b"a,b\n", b"a,x\nb,\n")
    assert parse_upload(b"a,b\n", b'a,"-x"\nb,NaNa\n').class_names == ["-x", "NaNa"]


def test_too_many_edges_stops_early(monkeypatch):
    monkeypatch.setattr(limits, "MAX_EDGES", 3)
    with pytest.raises(GatvizError, match="more than 6 rows; gatviz handles at most 3 edges"):
        parse_upload(b"a,b\nb,c\nc,d\nd,e\ne,f\nf,g\ng,h\n")


def test_undirected_edges_listed_both_ways_count_once_against_the_cap(monkeypatch):
    monkeypatch.setattr(limits, "MAX_EDGES", 3)
    g = parse_upload(b"a,b\nb,a\nb,c\nc,b\nc,d\nd,c\n")
    assert g.num_edges == 6 and g.report.duplicate_edges == 3
    with pytest.raises(GatvizError, match=r"4 edges; gatviz handles at most 3 \(MAX_EDGES in gatviz/limits.py\)"):
        parse_upload(b"a,b\nb,c\nc,d\nd,a\n")


# The naming rule: unquoted names trimmed on both sides, quoted names kept exactly.
@pytest.mark.parametrize("text,names", [
    (b"1 , 2\n2 ,3\n", ["1", "2", "3"]),
    (b"a ,b\nb, c\n", ["a", "b", "c"]),
    (b'" a ",b\n"b ", c\n', [" a ", "b", "b ", "c"]),
    (b'"a\tb" c\nc "d e"\n', ["a\tb", "c", "d e"]),           # whitespace file: the tab stays a tab
    (b'x\t"y\tz"\n"y\tz"\tw\n', ["x", "y\tz", "w"]),
    # no-break and ideographic spaces at a name's ends (spreadsheets, web pages, CJK input) are
    # trimmed: one node, not "Alice" and "Alice\xa0"; inside a name and quoted they stay
    ("Alice\u00a0,Bob\nBob,Alice\nAlice,Carol\u3000\n".encode(), ["Alice", "Bob", "Carol"]),
    ("\u5f20\u00a0\u4e09\u3000,\u674e\u56db\n\u674e\u56db,\u5f20\u00a0\u4e09\n".encode(), ["\u5f20\u00a0\u4e09", "\u674e\u56db"]),
    ('"a\u00a0",b\nb,a\n'.encode(), ["a\u00a0", "b", "a"]),
    ("a \u00a0b\nb\u00a0 c\n".encode(), ["a", "b", "c"]),                 # spaces file
])
def test_unquoted_names_trimmed_quoted_kept_exactly(text, names):
    assert parse_upload(text).names == names


@pytest.mark.parametrize("text,names,delimiter", [
    (b"a;b;1,5\nb;c;2,5\nc;a;0,25\n", ["a", "b", "c"], "semicolon"),     # decimal commas
    ("Smith, John\tDoe, Jane\nDoe, Jane\tRoe, Richard\n".encode(), ["Smith, John", "Doe, Jane", "Roe, Richard"], "tab"),
    (b'"a;b",c\nc,d\n', ["a;b", "c", "d"], "comma"),                    # a quoted name holding ;
    (b"1,2\n2,3\n", ["1", "2", "3"], "comma"),
])
def test_delimiter_with_consistent_columns_outside_quotes(text, names, delimiter):
    g = parse_upload(text)
    assert g.names == names
    assert f"{delimiter}-separated" in g.report.source


@pytest.mark.parametrize("rows", [
    ["New York\tBoston", "Boston\tChicago", "Los Angeles\tNew York", "Chicago\tLos Angeles"],
    ["Boston\tChicago", "Chicago\tDenver", "Denver\tBoston", "Boston\tAustin", "New York\tBoston"],
])
def test_a_tsv_with_one_row_typed_with_spaces_stays_a_tsv(rows):
    """Spaces split every row of a TSV as well (its tabs are blanks too), and that one row
    besides; read by spaces, ``New York`` would be two nodes. The odd row is the unreadable one."""
    g = parse_upload("\n".join([*rows, "LA Paris", ""]).encode())
    assert "tab-separated" in g.report.source
    assert "New York" in g.names and "York" not in g.names and "LA" not in g.names
    assert [n for n, _ in g.report.bad_rows] == [len(rows) + 1]


@pytest.mark.parametrize("text,names,delimiter", [
    # a German Excel export: ";" between names that hold ", "
    ("Müller, Hans;Schmidt, Eva\nSchmidt, Eva;Weber, Jo\n", ["Müller, Hans", "Schmidt, Eva", "Weber, Jo"],
     "semicolon"),
    ("Müller, Hans;Schmidt, Eva;1\nSchmidt, Eva;Weber, Jo;2\n", ["Müller, Hans", "Schmidt, Eva", "Weber, Jo"],
     "semicolon"),
    ("Müller, Hans; Schmidt, Eva\nSchmidt, Eva; Weber, Jo\n", ["Müller, Hans", "Schmidt, Eva", "Weber, Jo"],
     "semicolon"),
    # a third column with a comma or a space in every row does not outvote tab or comma
    ("a\tb\tred,blue\nb\tc\tred,green\n", ["a", "b", "c"], "tab"),
    ("a,b,2021-01-01 12:00\nb,c,2021-01-02 08:30\n", ["a", "b", "c"], "comma"),
    # punctuation followed by a space, three columns: spaces would leave "a," or "|" as names
    ("a, b, 0.5\nb, c, 0.7\nc, a, 0.1\n", ["a", "b", "c"], "comma"),
    ("a; b; 0.5\nb; c; 0.7\n", ["a", "b", "c"], "semicolon"),
    ("a | b | 1\nb | c | 2\n", ["a", "b", "c"], "pipe"),
])
def test_delimiter_inside_names_loses_a_tie(text, names, delimiter):
    g = parse_upload(text.encode())
    assert g.names == names
    assert f"{delimiter}-separated" in g.report.source


def test_report_says_when_the_first_row_is_a_header():
    g = parse_upload(b"node1,node2\nx,y\ny,z\n")
    assert "first row read as a header: node1, node2" in g.report.source
    assert "header" not in parse_upload(b"x,y\ny,z\n").report.source
    g = parse_upload(b"a,b\n", b"id,class\na,x\nb,y\n")
    assert "node file's first row read as a header: id, class" in g.report.source


def test_features_that_overflow_float32_are_refused():
    with pytest.raises(GatvizError, match=r"node file line 2, column 3: feature '1e39' does not fit"):
        parse_upload(b"a,b\n", b"a,x,1\nb,y,1e39\n")
    g = parse_upload(b"a,b\n", b"a,x,3e38\nb,y,-1e-39\n")   # largest float32 and a denormal are fine
    assert torch.isfinite(g.data.x).all()


def test_absurd_rows_are_refused_up_front(monkeypatch):
    monkeypatch.setattr(limits, "MAX_LINE_CHARS", 1000)
    with pytest.raises(GatvizError, match=r"line 2 of the edge file is 4,000 characters long; gatviz reads rows "
                                          r"of at most 1,000 \(MAX_LINE_CHARS in gatviz/limits.py\)"):
        parse_upload(b"x,y\n" + b"a,b," * 1000 + b"\n")


def test_a_field_longer_than_csvs_limit_is_a_plain_message():
    long = b"n" * 200_000                              # over csv's field limit (131,072)
    g = parse_upload(long + b",b\nb,c\n")
    assert g.names == ["b", "c"]
    assert g.report.bad_rows == [(1, "a name longer than 10,000 characters (MAX_NAME_CHARS in gatviz/limits.py)")]
    with pytest.raises(GatvizError) as err:
        parse_upload(long + b",b\n")
    assert "field larger than field limit" not in str(err.value) and "\n" not in str(err.value)
    assert "longer than 10,000 characters" in str(err.value)


@pytest.mark.parametrize("raw", [
    "a,b\nb,c\n".encode("utf-32"),
    "a,b\nb,c\n".encode("utf-16-le"),      # no BOM: NULs between the letters
    b'"a\x00b",c\n',
])
def test_nul_characters_never_reach_a_name(raw):
    try:
        g = parse_upload(raw)
    except GatvizError as err:
        assert "\n" not in str(err)
    else:
        assert not any("\x00" in n for n in g.names) and g.names == ["a", "b", "c"]


def test_a_device_or_pipe_is_read_only_up_to_the_cap(monkeypatch):
    # /dev/zero reports size 0 and never ends: reading it whole would never return
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 100)
    with pytest.raises(GatvizError, match=r"/dev/zero is larger than 100 bytes"):
        load_files("/dev/zero")


def edges_of(g) -> set:
    return {tuple(sorted((g.names[a], g.names[b]))) for a, b in g.data.edge_index.t().tolist()}


@pytest.mark.parametrize("raw, edges, said", [
    # pandas to_csv (its index on by default), with a comma and with a tab
    (b",source,target,weight\n0,0,1,3.0\n1,0,2,2.0\n2,1,2,1.5\n3,2,3,1.0\n",
     {("0", "1"), ("0", "2"), ("1", "2"), ("2", "3")},
     "first row read as a header: (empty), source, target, weight; source and target from columns 2 and 3"),
    (b"\tsource\ttarget\tweight\n0\t0\t1\t3.0\n1\t0\t2\t2.0\n2\t1\t2\t1.5\n",
     {("0", "1"), ("0", "2"), ("1", "2")}, "row names in column 1"),
    # a file pandas read back and saved again
    (b",Unnamed: 0,source,target\n0,0,a,b\n1,1,b,c\n2,2,c,a\n", {("a", "b"), ("b", "c"), ("a", "c")},
     "source and target from columns 3 and 4"),
    # R: write.csv (row names, header cell "") and write.table (no header cell for them)
    (b'"","from","to"\n"1",1,2\n"2",2,3\n"3",3,1\n', {("1", "2"), ("2", "3"), ("1", "3")}, "columns 2 and 3"),
    (b'"from" "to"\n"1" 1 2\n"2" 2 3\n"3" 3 1\n', {("1", "2"), ("2", "3"), ("1", "3")}, "row names in column 1"),
    # the header names the endpoints after an id or a weight
    (b"id,source,target\n0,a,b\n1,b,c\n2,c,a\n", {("a", "b"), ("b", "c"), ("a", "c")}, "columns 2 and 3"),
    (b"edge_id,src,dst\n7,a,b\n8,b,c\n", {("a", "b"), ("b", "c")}, "columns 2 and 3"),
    (b"weight,source,target\n1,a,b\n2,b,c\n", {("a", "b"), ("b", "c")}, "columns 2 and 3"),
])
def test_index_columns_before_the_endpoints(raw, edges, said):
    g = parse_upload(raw)
    assert edges_of(g) == edges and said in g.report.source
    assert g.report.self_loops == 0 and g.report.bad_rows == []
    # a weight the header does not name, on a chain whose sources count 1, 2, 3: not row names
    g = parse_upload(b"source,target\n1,2,0.5\n2,3,0.7\n3,4,0.1\n")
    assert edges_of(g) == {("1", "2"), ("2", "3"), ("3", "4")} and "row names" not in g.report.source


@pytest.mark.parametrize("text", [
    "sender,recipient,date\nalice@x.com,bob@x.com,2001-01-01\nbob@x.com,carol@x.com,2001-01-02\n",
    "src_ip,dst_ip\n10.0.0.1,10.0.0.2\n10.0.0.2,10.0.0.3\n",
    "from_account,to_account,amount\nA1,A2,5\nA2,A3,7\n",
    "Source airport,Destination airport\nLHR,JFK\nJFK,SFO\n",
    "caller,callee\nx,y\ny,z\n",
    "nodeA,nodeB\nx,y\ny,z\n",
    "Quelle;Ziel;Gewicht\nMüller;Schmidt;1,5\nSchmidt;Weber;2\n",
    "subject,object\nx,y\ny,z\n",
    "起点,终点\n张三,李四\n李四,王五\n", "源节点,目标节点\n张三,李四\n李四,王五\n", "节点1,节点2\n张三,李四\n李四,王五\n",
    "Origen,Destino\nMadrid,Sevilla\nSevilla,Cádiz\n", "источник;цель\nМосква;Киев\nКиев;Минск\n",
])
def test_more_headers_are_read_as_headers(text):
    g = parse_upload(text.encode())
    assert "first row read as a header" in g.report.source
    assert not set(g.names) & set(re.split(r"[,;]", text.splitlines()[0]))


def test_concatenated_exports_skip_their_repeated_header_and_byte_order_mark():
    g = parse_upload("source,target\na,b\nb,c\n\ufeffsource,target\nc,d\n".encode())
    assert g.names == ["a", "b", "c", "d"] and "1 repeated header row(s) skipped" in g.report.source


def test_matrix_market_size_line_is_not_an_edge():
    raw = b"%%MatrixMarket matrix coordinate pattern symmetric\n%-------\n10 10 2\n1 2\n2 3\n"
    g = parse_upload(raw)
    assert g.names == ["1", "2", "3"] and "Matrix Market size line skipped: 10 10 2" in g.report.source
    assert g.report.comment_lines == 2 and g.report.bad_rows == []


@pytest.mark.parametrize("raw, kind", [
    (b"graph [\n  node [ id 0 ]\n  node [ id 1 ]\n  edge [ source 0 target 1 ]\n]\n", "GML"),
    (b"Creator \"networkx\"\ngraph [\n  directed 0\n]\n", "GML"),
    (b'<?xml version="1.0" encoding="UTF-8"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n',
     "XML (GraphML or GEXF)"),
    (b"<!DOCTYPE html>\n<html><body>404</body></html>\n", "an HTML page"),
    (b"*Vertices 3\n1 \"a\"\n2 \"b\"\n*Edges\n1 2\n", "a Pajek .net file"),
    (b"graph G {\n  a -- b;\n}\n", "a DOT (Graphviz) file"),
    (b"digraph { a -> b }\n", "a DOT (Graphviz) file"),
    (b"DL n=3\nformat = edgelist1\ndata:\n1 2\n", "a UCINET DL file"),
    (b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n", "a Git LFS pointer"),
])
def test_other_graph_formats_are_refused_by_name(raw, kind):
    with pytest.raises(GatvizError, match=rf"^the edge file looks like {re.escape(kind)}"):
        parse_upload(raw)


def test_json_is_refused_but_a_name_may_start_with_a_bracket():
    for raw in (b"[[0, 1], [1, 2], [2, 0]]", b'{"nodes": [], "links": []}'):
        with pytest.raises(GatvizError, match=r"^the edge file is JSON, not rows of names"):
            parse_upload(raw)
    assert parse_upload(b"[a],b\n{c},b\n").names == ["[a]", "b", "{c}"]


def test_a_file_of_self_loops_only_is_refused():
    with pytest.raises(GatvizError, match=r"no edge between two different nodes: all 3 row\(s\) name one node twice"):
        parse_upload(b"1,1\n2,2\n3,3\n")


def test_node_file_index_header_and_decimal_commas():
    edges = b"a;b\nb;c\nc;a\n"
    g = parse_upload(edges, b";node;label;f\n0;a;A;0,5\n1;b;B;1,25\n2;c;A;-3\n")   # pandas' index first
    assert g.class_names == ["A", "B"] and g.data.x[:, 0].tolist() == [0.5, 1.25, -3.0]
    assert "node file's first column read as an index" in g.report.source
    with pytest.raises(GatvizError, match=r"node file line 1: need node,label"):   # an empty name, not an index
        parse_upload(edges, b";A;1\nb;B;2\nc;A;3\n")
    # a header whose words are no header words: its node is in no edge while every other is
    g = parse_upload(b"LHR,JFK\nJFK,SFO\n", b"Airport,Country\nLHR,UK\nJFK,US\nSFO,US\n")
    assert g.names == ["LHR", "JFK", "SFO"] and g.class_names == ["UK", "US"]
    with pytest.raises(GatvizError, match=r"column 4: feature 'x' is not a finite number \(the label goes in column 2"):
        parse_upload(b"a,b\nb,c\n", b"a,1,0,x\nb,0,1,y\nc,1,1,x\n")
    with pytest.raises(GatvizError, match=r"line 2, column 3: feature '' is not a finite number \(an empty cell"):
        parse_upload(b"1,2\n2,3\n", b"Id,Label,timeset,modularity_class\n1,Alice,,0\n2,Bob,,0\n3,Cy,,1\n")


def test_a_name_column_read_as_labels_is_said():
    g = parse_upload(b"1,2\n2,3\n3,4\n4,5\n5,1\n", b"Id,Label,modularity_class\n1,Alice,0\n2,Bob,0\n3,Carol,1\n"
                                                   b"4,Dan,1\n5,Eve,1\n")
    assert any("every node has a class of its own (5 classes)" in w for w in g.report.warnings)


def test_chinese_and_cyrillic_windows_files():
    g = parse_upload("source,target\n北京,上海\n上海,广州\n".encode("gbk"))     # Excel's CSV on Chinese Windows
    assert g.names == ["北京", "上海", "广州"] and "read as GB18030" in g.report.source
    g = parse_upload("Москва,Киев\nКиев,Минск\n".encode("cp1251"))
    assert g.names == ["Москва", "Киев", "Минск"] and "Windows-1251 (Cyrillic)" in g.report.source
    for text, names in (("Müller,Zoë\nZoë,Ève\n", ["Müller", "Zoë", "Ève"]),    # lone accents: Windows-1252
                        ("Þórður,Ásta\nÁsta,São Tomé\n", ["Þórður", "Ásta", "São Tomé"]),
                        # "çã" is a valid GBK pair: once read as Concei玢o
                        ("Conceição,Assunção\nAssunção,Conceição\n", ["Conceição", "Assunção"])):
        g = parse_upload(text.encode("cp1252"))
        assert g.names == names and "Windows-1252" in g.report.source


@pytest.mark.parametrize("text,encoding,said", [
    ("Γιώργος,Μαρία\nΜαρία,Ελένη\n", "cp1253", "Windows-1253 (Greek)"),   # once read as Cyrillic: Гйюсгпт
    ("ΑΘΗΝΑ,ΠΑΤΡΑ\nΠΑΤΡΑ,ΛΑΡΙΣΑ\n", "cp1253", "Windows-1253 (Greek)"),   # capitals, no accents: БИЗНБ
    ("κόμβος,ακμή\n", "cp1253", "Windows-1253 (Greek)"),                    # once read as GBK: 挈焘矧
    ("Москва,Казань\n", "cp1251", "Windows-1251 (Cyrillic)"),               # once read as GBK: 填耜忄
    ("ИВАН,ОЛЬГА\n", "cp1251", "Windows-1251 (Cyrillic)"),
    ("张伟,王芳\n王芳,李娜\n", "gbk", "GB18030 (GBK"),
])
def test_greek_and_cyrillic_files_are_told_apart_and_from_chinese(text, encoding, said):
    """Windows-1253 Greek decodes as Windows-1251 too, and short Russian or Greek words as GBK:
    the reading whose words are cased as words are, with likely letters, is taken."""
    g = parse_upload(text.encode(encoding))
    assert g.names == list(dict.fromkeys(n for row in text.split() for n in row.split(",")))
    assert f"read as {said}" in g.report.source


@pytest.mark.parametrize("rows,encoding,said", [
    (["張偉,王芳", "王芳,李娜", "李娜,劉洋", "劉洋,張偉"], "cp950", "Big5 (CP950, Traditional Chinese)"),
    (["田中,鈴木", "鈴木,佐藤", "たなか,スズキ", "佐藤,田中"], "cp932", "Shift-JIS (CP932, Japanese)"),
    # hanzi whose second GBK byte is an ASCII letter (traditional ones, 喆, 玥): not read as Windows-1252
    (["張偉,王芳", "陳喆,李玥", "李玥,張偉"], "gbk", "GB18030 (GBK"),
    (["김민준,이서연", "이서연,박지훈", "박지훈,김민준", "최지우,김민준"], "cp949", "EUC-KR (CP949, Korean)"),
])
def test_east_asian_windows_files(rows, encoding, said):
    """Excel's CSV on Taiwanese, Japanese, Korean and Chinese Windows: each in its code page."""
    g = parse_upload("\n".join(rows).encode(encoding))
    assert set(g.names) == {n for r in rows for n in r.split(",")}
    assert f"read as {said}" in g.report.source


def test_a_short_korean_file_that_reads_as_chinese_as_well_is_refused_not_guessed():
    # KS X 1001's Hangul are GB2312 hanzi byte for byte: six syllables cannot tell the two apart
    with pytest.raises(GatvizError, match=r"^the edge file is not UTF-8 and reads as GB18030 .* and as EUC-KR "
                                          r"\(CP949, Korean\) alike: save it as UTF-8"):
        parse_upload("김민준,이서연\n".encode("cp949"))


def test_an_adjacency_list_and_a_saved_edge_index_are_refused():
    import networkx as nx
    buf = io.BytesIO()
    nx.write_adjlist(nx.karate_club_graph(), buf)
    with pytest.raises(GatvizError, match=r"^the edge file looks like an adjacency list"):
        parse_upload(buf.getvalue())
    with pytest.raises(GatvizError, match=r"^the edge file has 2 rows of 6 numbers: sources in one, targets"):
        parse_upload(b"0 1 2 3 4 5\n1 2 3 4 5 0\n")
    # an edge list whose rows have a weight, or a weight and a time, now and then: an edge list
    assert parse_upload(b"1 2 1\n2 3\n3 1 2 7\n").names == ["1", "2", "3"]
    # pandas' to_csv(sep="\t") with its index and a weight: the trimmed header is one cell shorter
    g = parse_upload(b"\tsource\ttarget\tweight\n0\tNapoleon\tMyriel\t1\n1\tMlle\tMyriel\t2\n"
                     b"2\tMme\tMyriel\t1\n3\tMyriel\tCount\t1\n")
    assert edges_of(g) == {("Myriel", "Napoleon"), ("Mlle", "Myriel"), ("Mme", "Myriel"), ("Count", "Myriel")}


def test_whole_numbers_written_as_decimals_are_read_as_written_and_said():
    g = parse_upload(b"1.000000000000000000e+00 2.000000000000000000e+00\n2.0 3.0\n")
    assert g.names[0] == "1.000000000000000000e+00"
    assert any("are whole numbers written as decimals" in w for w in g.report.warnings)
    assert not any("decimals" in w for w in parse_upload(b"1,2\n2,3\n").report.warnings)
