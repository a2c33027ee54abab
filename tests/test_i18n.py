"""The interface's catalogue: every key in both languages, every key used exists."""
import re
import string
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui import i18n

ROOT = Path(__file__).resolve().parents[1]


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_has_both_languages_with_the_same_placeholders():
    for key, (en, zh) in i18n.CATALOGUE.items():
        assert en.strip() and zh.strip(), key
        assert fields(en) == fields(zh), key
        if key not in ("dropout",):            # a term both languages write the same way
            assert en != zh or not re.search("[A-Za-z]{4}", en), key


def test_every_key_the_interface_uses_exists():
    used = set()
    for path in [*(ROOT / "ui").glob("*.py"), *(ROOT / "pages").glob("*.py")]:
        used |= set(re.findall(r"""\bt\(\s*f?["']([a-z0-9_.{}]+)["']""", path.read_text("utf-8")))
    literal = {k for k in used if "{" not in k}
    assert literal and literal <= set(i18n.CATALOGUE), literal - set(i18n.CATALOGUE)
    for pattern in (k for k in used if "{" in k):   # t(f"ds.{d}") and the like: every expansion exists
        prefix = pattern.split("{")[0]
        assert any(k.startswith(prefix) for k in i18n.CATALOGUE), pattern
    for name in ("karate", "cora", "citeseer", "sbm", "dictionary"):
        assert f"ds.{name}" in i18n.CATALOGUE
    for key in ("page.explorer", "page.explain", "page.compare", "edges.uniform", "edges.absolute"):
        assert key in i18n.CATALOGUE


def test_the_app_in_chinese_from_a_link():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception
    assert [b.label for b in at.sidebar.button] == ["训练", "停止", "重置"]
    assert at.title[0].value == "图注意力，实时演示"
    assert at.number_input(key="gv_heads").label == "注意力头"
    from tests.test_app import progress
    column = progress(at)                                   # the progress column (ui.curves)
    assert column["progress"]["text"].startswith("第 0 轮（共 ") and "按" in column["info"]
    assert [c["title"] for c in column["charts"]] == ["损失", "准确率"] and column["x_label"] == "轮次"
    assert [s["name"] for s in column["charts"][1]["series"]] == ["训练集", "验证集", "测试集"]
    at.switch_page("pages/explain.py")
    at.run()
    assert not at.exception and at.main.header[0].value.startswith("1 · 共享线性变换")


def test_the_compare_page_in_chinese():
    from test_app import run, trained_on
    at = trained_on("pages/compare.py", {"lang": "zh"}, gv_epochs=4, gv_per_update=4)
    assert at.session_state["gv_trainer"].epoch == 4
    assert at.title[0].value == "比较：训练轮次、注意力头、层、模型、边编辑"
    assert at.radio(key="gv_cmp_section").options == [
        "训练过程", "注意力头", "层", "模型", "编辑一条边", "α 重要吗？"]
    assert at.select_slider(key="gv_cmp_epoch").label == "训练轮次"
    assert at.toggle(key="gv_cmp_play").label == "播放"
    assert at.caption[0].value.startswith("保存的快照")
    for name, seen in (("Heads", lambda: at.subheader[0].value == "各注意力头的注意力有多相似"),
                       ("Edit an edge", lambda: at.selectbox(key="gv_cmp_edit_other").label == "来自此节点的边"),
                       ("Does α matter?", lambda: any("GNNExplainer 运行了" in x.value for x in at.text))):
        run(at.radio(key="gv_cmp_section").set_value(name))
        assert seen() and not at.error, name
    (said,) = [*at.success, *at.warning]                         # the verdict, in Chinese too
    assert said.value.startswith(("注意力", "只有", "这里")), said.value


def test_the_views_words_match_the_script_and_have_both_languages():
    import json
    from gatviz import encoding
    script = (ROOT / "gatviz" / "static" / "gatviz-view.js").read_text("utf-8")
    english = {key: json.loads(f'"{text}"') for key, text in
               re.findall(r'\btr\("([a-z.]+)",\s*"((?:[^"\\]|\\.)*)"', script)}
    assert english and set(english) == set(i18n.VIEW_TEXT)          # every word the view says, and no more
    for key, (en, zh) in i18n.VIEW_TEXT.items():
        assert en == english[key], key                              # the catalogue's English is the script's
        assert fields(en) == fields(zh) and en != zh, key
    for name in encoding.ENCODINGS:                                 # every legend's English is translated
        legend = encoding.legend(name)
        assert legend["title"] in i18n.LEGEND_TEXT
        assert all(i["label"] in i18n.LEGEND_TEXT or not re.search("[a-z]", i["label"]) for i in legend["items"])


def test_the_view_speaks_chinese():
    from test_app import view
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "zh"
    at.run()
    payload = view(at)
    assert payload["text"]["wrong"] == "预测错误" and payload["text"]["head"] == "头 {h}"
    assert payload["legend"]["title"].startswith("边：α 相对于均匀值")
    assert "均匀" in [i["label"] for i in payload["legend"]["items"]]
    english = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    english.run()
    assert "text" not in view(english) and view(english)["legend"]["title"].startswith("edge: α relative")


def test_the_library_verdicts_have_chinese_parts_with_the_same_placeholders():
    from gatviz import importance, uniformity
    from ui import words
    english = {"head": uniformity.HEAD_LINE, "median": uniformity.MEDIAN_PART, "same": uniformity.SAME_PART}
    for table, zh in ((english, words.HEAD_PARTS_ZH), (uniformity.CLOSENESS, words.CLOSENESS_ZH),
                      (uniformity.GRAPH_VERDICTS, words.GRAPH_VERDICTS_ZH), (importance.VERDICTS, words.IMPORTANCE_ZH),
                      (importance.EXPLAINERS, words.EXPLAINERS_ZH)):
        assert set(table) == set(zh)
        for key, text in table.items():
            assert fields(text) == fields(zh[key]), key


LATIN_TERMS = re.compile(r"GATv2|GAT|Cora|GNNExplainer|LeakyReLU")


def test_the_library_verdicts_in_both_languages():
    import numpy as np
    import pandas as pd
    from gatviz import RunConfig, graphs, importance, uniformity
    from gatviz.training import Trainer
    from ui import words
    trainer = Trainer(graphs.load("karate"), RunConfig(epochs=3, heads=2, device="cpu"))
    trainer.step(3)
    summary = uniformity.head_summary(trainer.attention(), trainer.graph.data.y.numpy())
    def entropies(values):   # the summary with other medians (and their verdicts)
        out = summary.assign(median_entropy=values)
        return out.assign(verdict=[uniformity.verdict(r) for r in out.to_dict("records")])
    # selective, mildly selective, close; and no node with a neighbour
    cases = [(s, d, m) for s in (summary, entropies([0.5, 0.9, 1.0]), entropies(np.nan))
             for d, m in (("karate", "gat"), ("dictionary", "gat"), ("dictionary", "gatv2"))]
    correlations = [({k: {"kendall": tau} for k in importance.EXPLAINERS}, 5) for tau in (0.9, 0.1, None)]
    said = []
    for s, d, m in cases:
        assert words.graph_verdict(s, d, m, in_lang="en") == uniformity.graph_verdict(s, d, m)
        said.append(words.graph_verdict(s, d, m, in_lang="zh"))
        for row in s.to_dict("records"):
            assert words.head_verdict(row, in_lang="en") == row["verdict"]
            said.append(words.head_verdict(row, in_lang="zh"))
    for corr, inputs in [*correlations, (correlations[0][0], 2)]:
        text, agrees = words.importance_verdict(corr, inputs, in_lang="en")
        assert text == importance.verdict(corr, inputs) and agrees == ("agrees with" in text)
        zh, agrees_zh = words.importance_verdict(corr, inputs, in_lang="zh")
        assert agrees_zh == agrees
        said.append(zh)
    assert len(set(said)) > 10
    for text in said:                                              # Chinese, numbers filled, no English left
        assert not re.search("[A-Za-z]{3,}", LATIN_TERMS.sub("", text)) and "{" not in text, text
    assert pd.notna(summary["median_entropy"]).all()


def test_the_verdicts_and_explain_steps_speak_chinese_in_the_app():
    from test_app import run, trained_on
    at = trained_on("pages/explorer.py", {"lang": "zh"}, gv_epochs=3, gv_per_update=3)
    assert any(c.value.startswith("此图上每个头的注意力都接近均匀") for c in at.caption)
    assert any(x.value.startswith("第 1 层，头 0：") for x in at.text)
    at.switch_page("pages/explain.py")
    run(at)
    shown = [x.value for x in [*at.text, *at.caption, *at.latex]]
    assert any(v.startswith("头 0：Σ α_ij z_j = [") and "维，范数" in v for v in shown)
    assert any("LeakyReLU 的负斜率：0.2" in v for v in shown)
    assert not [v for v in shown if re.search(r"entries|heads combined|bias|slope|rows\)", v)]
    assert shown[0].startswith("Zachary 空手道俱乐部：34 个节点，78 条无向边（156 条有向消息传递边） · GAT，2 层，第 3 轮")


def test_the_graph_line_in_both_languages():
    from gatviz import graphs
    from gatviz.parse import parse_upload
    from ui import words
    karate = graphs.load("karate").report
    assert words.graph_line(karate, in_lang="en") == karate.lines()[0]
    assert words.graph_line(karate, in_lang="zh") == "Zachary 空手道俱乐部：34 个节点，78 条无向边（156 条有向消息传递边）"
    upload = parse_upload(b"a;b\nb;c\n", directed=True).report
    assert words.graph_line(upload, in_lang="zh") == "上传的边列表：3 个节点，2 条有向边"   # the notes: in the sidebar
    assert words.graph_line(upload, in_lang="en") == "uploaded edge list: 3 nodes, 2 directed edges"


def test_the_librarys_notices_in_chinese():
    from gatviz.graphs import NO_VALIDATION
    from gatviz.parse import parse_upload
    from ui import words
    own = parse_upload(b"1,2\n2,3\n3,4\n4,5\n5,1\n", b"1,A\n2,B\n3,C\n4,D\n5,E\n").report.warnings
    decimal = parse_upload(b"1.0,2.0\n2.0,3.0\n").report.warnings
    notices = [NO_VALIDATION, "the GPU ran out of memory; training goes on on the CPU",
               "the graph is past the full-batch caps (gatviz/limits.py): training in mini-batches of 1024 nodes, "
               "fanout [10, 10]", *own, *decimal]
    assert len(set(notices)) == 5
    for text in notices:
        assert words.notice(text, in_lang="en") == text
        chinese = words.notice(text, in_lang="zh")
        assert not re.search("[A-Za-z]{4,}", re.sub(r"gatviz/limits\.py|fanout|np\.savetxt", "", chinese)), chinese
    assert words.notice("anything else", in_lang="zh") == "anything else"


def test_the_graph_report_in_chinese():
    """The sidebar's report of every built-in graph and of uploads (rows dropped and skipped, a
    node file's labels and features, Louvain and spectral communities) in Chinese: every label,
    feature and split line has its pattern; only names and the library's words for an
    unreadable row or an upload's reading stay as they are."""
    from gatviz import graphs
    from gatviz.parse import parse_upload
    from ui import words
    ring = "".join(f"{i},{(i + 1) % 10_001}\n" for i in range(10_001)).encode()   # spectral communities
    reports = [graphs.load(name).report for name in graphs.BUILTINS] + [
        parse_upload(b"a,b\nb,c\nc,a\nc,c\na,b\nx\n# note\n").report,          # Louvain, dropped, skipped
        parse_upload(b"a,b\nb,c\nc,a\n", b"a,x,1\nb,y,0\nc,x,1\n").report,      # the node file's labels, features
        parse_upload(ring).report]
    seen = set()
    for report in reports:
        english, chinese = words.report_lines(report, in_lang="en"), words.report_lines(report, in_lang="zh")
        assert english == report.lines() and len(chinese) == len(english)
        for part in (report.labels, report.features, report.split):
            assert words._report_part(part) != part, part                    # a pattern for each
        for line in chinese:
            # what is left in Latin letters: names of methods and datasets, an upload's reading notes,
            # why a row was unreadable
            rest = re.sub(r"\(comma-separated[^)]*\)|（only one field[^）]*）|Planetoid|Louvain|networkx|k-means|"
                          r"Zachary|CiteSeer|Cora|DictionaryLookup|GATv2|Brody|p_in|p_out", "", line)
            assert not re.search("[A-Za-z]{4,}", rest), line
        seen.update(line.split("：")[0] for line in chinese[1:])
    assert {"去掉了 1 条重复的边和 1 个自环", "标签", "特征", "划分", "警告"} <= seen
    assert any(line.startswith("跳过了 1 行读不懂的行：第 6 行（") for line in
               words.report_lines(reports[len(graphs.BUILTINS)], in_lang="zh"))
