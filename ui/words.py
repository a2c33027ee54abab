"""The library's verdicts, and the graph's one-line summary, in the tab's language.

gatviz.uniformity (how far heads are from uniform) and gatviz.importance (does α agree
with what changes the prediction) word their verdicts in English from named parts; in
English the app shows the library's own text, in Chinese the same parts filled into the
templates below. tests/test_i18n.py checks that every part has its Chinese template with
the same placeholders.
"""
from __future__ import annotations

import re

from gatviz.graphs import NO_VALIDATION

from .i18n import lang

# gatviz.uniformity: HEAD_LINE + MEDIAN_PART + SAME_PART, CLOSENESS, GRAPH_VERDICTS
HEAD_PARTS_ZH = {"head": "第 {layer} 层，头 {head}：{closeness}",
                 "median": "，归一化熵中位数 {median:.2f}",
                 "same": "；{same:.0%} 的 α 落在同类邻居上（均匀时为 {uniform:.0%}）"}
CLOSENESS_ZH = {"none": "没有节点有邻居", "close": "接近均匀", "mild": "略有选择", "selective": "有选择"}
GRAPH_VERDICTS_ZH = {
    "none": "没有节点有邻居：每个节点只关注自己。",
    "uniform": "此图上每个头的注意力都接近均匀（归一化熵中位数 {lo:.2f}–{hi:.2f}；1 = 均匀）。",
    "uniform.dictionary.gatv2": "GATv2 会在训练中学会为每个查询挑出它的键：继续训练，或训练更久。",
    "uniform.dictionary": "在字典图上，这是 GAT 的静态注意力：每个查询对键的排序都相同，所以挑不出自己的键"
                          "（GATv2 论文的要点）。把模型换成 GATv2，就能看到注意力做出选择。",
    "uniform.other": "这是 GAT 在 Cora 等引文图上的已知结果：模型有效，但各头几乎不做选择。请把边看作相对均匀值的"
                     "偏离，或在字典图上试试 GATv2。",
    "depart": "{heads} 个头中有 {departing} 个偏离均匀（归一化熵中位数 {lo:.2f}–{hi:.2f}；1 = 均匀）。",
}
# gatviz.importance: VERDICTS and EXPLAINERS
IMPORTANCE_ZH = {
    "few": "只有 {inputs} 个邻居，太少，无法排序；请直接比较数值。",
    "equal": "这里 α 或各重要性全都相等，没有可比较的排序。",
    "agree": "注意力与改变预测的因素一致：α 对邻居的排序与{taus}的排序很接近。",
    "disagree": "注意力在这里没有指向真正重要的邻居：按{taus}，α 最高的邻居并不是最能改变预测的那些。"
                "这就是已知的“注意力不是解释”结论：α 衡量消息的权重，而预测还取决于这些消息携带的内容。",
}
EXPLAINERS_ZH = {"gnnexplainer": "GNNExplainer", "gradient": "梯度", "leave_one_out": "逐一去掉每条边"}


def _zh(in_lang: str | None) -> bool:
    return (in_lang or lang()) == "zh"


def head_verdict(row: dict, in_lang: str | None = None) -> str:
    """One head's line (a row of uniformity.head_summary)."""
    if not _zh(in_lang):
        return row["verdict"]
    from gatviz import uniformity
    return "".join(HEAD_PARTS_ZH[name].format(**(values | {"closeness": CLOSENESS_ZH[values["closeness"]]}
                                                 if name == "head" else values))
                   for name, values in uniformity.head_parts(row))


def graph_verdict(summary, dataset: str | None = None, model: str | None = None, in_lang: str | None = None) -> str:
    """uniformity.graph_verdict in the tab's language."""
    from gatviz import uniformity
    if not _zh(in_lang):
        return uniformity.graph_verdict(summary, dataset, model)
    return "".join(GRAPH_VERDICTS_ZH[key].format(**values)
                   for key, values in uniformity.graph_parts(summary, dataset, model))


def importance_verdict(correlation: dict, inputs: int, in_lang: str | None = None) -> tuple[str, bool]:
    """(importance.verdict in the tab's language, whether α agrees with the explainers)."""
    from gatviz import importance   # (torch_geometric.explain: only the Compare page needs it)
    key, values, taus = importance.verdict_parts(correlation, inputs)
    if not _zh(in_lang):
        return importance.verdict(correlation, inputs), key == "agree"
    listed = "、".join(f"{EXPLAINERS_ZH[k]}（τ = {tau:.2f}）" for k, tau in taus)
    return IMPORTANCE_ZH[key].format(**values, taus=listed), key == "agree"


# the start of a report's source, for the graph's line (what follows, e.g. an upload's
# delimiter and header notes, stays as the library words it)
SOURCES_ZH = {"Zachary's karate club": "Zachary 空手道俱乐部", "uploaded edge list": "上传的边列表",
              "stochastic block model": "随机块模型"}


SOURCE_PATTERNS_ZH = (
    (r"stochastic block model \((\d+) blocks, p_in=([^,]+), p_out=([^,]+), seed (\d+)\)",
     r"随机块模型（\1 个块，p_in=\2，p_out=\3，种子 \4）"),
    (r"DictionaryLookup \(GATv2 paper, Brody et al\. 2022\), k = (\d+), ([\d,]+) instances, seed (\d+)",
     r"DictionaryLookup（GATv2 论文，Brody 等，2022），k = \1，\2 个实例，种子 \3"),
)


def _by_pattern(text: str, table) -> str | None:
    """``text`` in Chinese by the first (pattern, replacement) of ``table`` it matches, else None."""
    for pattern, chinese in table:
        if re.fullmatch(pattern, text):
            return re.sub(pattern, chinese, text)
    return None


def _source_zh(source: str) -> str:
    found = _by_pattern(source, SOURCE_PATTERNS_ZH)
    if found is not None:
        return found
    for english, chinese in SOURCES_ZH.items():
        if source.startswith(english):
            return chinese + source[len(english):]
    return source


def _size_zh(report) -> str:
    """The report's node and edge counts in Chinese."""
    counts = (f"{report.edges:,} 条有向边" if report.directed
              else f"{report.edges // 2:,} 条无向边（{report.edges:,} 条有向消息传递边）")
    return f"{report.nodes:,} 个节点，{counts}"


def graph_line(report, in_lang: str | None = None) -> str:
    """The first line of the graph's report (its source and size) in the tab's language."""
    if not _zh(in_lang):   # the report's first line, less an upload's reading notes
        return short_source(report) + report.lines()[0][len(report.source):]
    # (an upload's notes on reading it, delimiter and header: in the sidebar's report)
    return f"{_source_zh(short_source(report))}：{_size_zh(report)}"


# the library's notices about a graph or a run (report warnings, Trainer.notice), by pattern
NOTICES_ZH = (
    (re.escape(NO_VALIDATION), "划分后没有验证节点（每类节点太少）：验证准确率和最佳验证轮次无从定义"),
    (r"the GPU ran out of memory; training goes on on the CPU", "GPU 显存不足；训练改在 CPU 上继续"),
    (r"the graph is past the full-batch caps \(gatviz/limits\.py\): training in mini-batches of (\d+) nodes, "
     r"fanout (.+)", r"图超过了全批量上限（gatviz/limits.py）：按每批 \1 个节点小批量训练，fanout \2"),
    (r"every node has a class of its own \(([\d,]+) classes\): is column (\d+) of the node file a name rather "
     r"than a label\?", r"每个节点各自成一类（\1 类）：节点文件的第 \2 列是名称而不是标签吗？"),
    (r"node names such as (.+) are whole numbers written as decimals: .*",
     r"像 \1 这样的节点名是写成小数的整数：按原样读取（'1.0' 和 '1' 会是两个节点）；请把编号存为整数"
     r"（np.savetxt：fmt='%d'）"),
)


def notice(text: str, in_lang: str | None = None) -> str:
    """A notice of the library's (a report warning, a trainer's notice) in the tab's language."""
    return (_by_pattern(text, NOTICES_ZH) if _zh(in_lang) else None) or text


# the report's labels / features / split, by pattern (what no pattern matches stays as the library words it)
REPORT_ZH = (
    (r"club each member joined after the split \(Zachary 1977\)", "俱乐部分裂后每个成员加入的一方（Zachary 1977）"),
    (r"paper topics \(Planetoid\)", "论文主题（Planetoid）"),
    (r"block of each node", "每个节点所在的块"),
    (r"([\d,]+) Louvain communities \(networkx, seed (\d+)\); no labels were given",
     r"\1 个 Louvain 社区（networkx，种子 \2）；未给出标签"),
    (r"([\d,]+) spectral communities \(k-means on (\d+) Laplacian eigenvectors, seed (\d+); Louvain is too slow "
     r"above ([\d,]+) nodes\); no labels were given",
     r"\1 个谱聚类社区（对 \2 个拉普拉斯特征向量做 k-means，种子 \3；超过 \4 个节点时 Louvain 太慢）；未给出标签"),
    (r"from the node file \(([\d,]+) classes\)", r"来自节点文件（\1 个类别）"),
    (r"a query's value \(0\.\.(\d+)\): that of the key with the query's attribute, one of the (\d+) keys of its "
     r"instance, each with a directed edge key -> query",
     r"查询的值（0..\1）：与查询属性相同的那个键的值；该键是其实例的 \2 个键之一，每个键有一条有向边 键 -> 查询"),
    (r"([\d,]+)-word bag of words, row-normalised", r"\1 个词的词袋，按行归一化"),
    (r"one-hot node identity \(([\d,]+) columns; none were given\)", r"节点身份的独热编码（\1 列；未给出特征）"),
    (r"log-degree one-hot \(16\) \+ (\d+) Laplacian eigenvectors; none were given",
     r"对数度的独热编码（16 列）+ \1 个拉普拉斯特征向量；未给出特征"),
    (r"([\d,]+) given feature column\(s\)", r"给出的 \1 个特征列"),
    (r"([\d,]+) column\(s\) from the node file", r"来自节点文件的 \1 列"),
    (r"one-hot attribute ‖ one-hot value \((\d+) columns; a query's value part is 0\)",
     r"属性的独热编码 ‖ 值的独热编码（\1 列；查询的值部分为 0）"),
    (r"standard Planetoid split: ([\d,]+) train / ([\d,]+) val / ([\d,]+) test",
     r"Planetoid 标准划分：训练 \1 / 验证 \2 / 测试 \3"),
    (r"seeded stratified split \(seed (\d+)\), (\d+)%/(\d+)%/(\d+)% per class: ([\d,]+) train / ([\d,]+) val / "
     r"([\d,]+) test", r"按类分层的随机划分（种子 \1），每类 \2%/\3%/\4%：训练 \5 / 验证 \6 / 测试 \7"),
    (r"by instance \(seed (\d+)\): ([\d,]+) / ([\d,]+) / ([\d,]+) instances; only queries are classified: "
     r"([\d,]+) train / ([\d,]+) val / ([\d,]+) test queries, ([\d,]+) keys in no split",
     r"按实例划分（种子 \1）：\2 / \3 / \4 个实例；只对查询分类：训练 \5 / 验证 \6 / 测试 \7 个查询，"
     r"\8 个键不属于任何划分"),
)


def _report_part(text: str) -> str:
    return _by_pattern(text, REPORT_ZH) or text


def report_lines(report, in_lang: str | None = None) -> list[str]:
    """The graph's report (Report.lines) in the tab's language: its first line (the source, an
    upload's reading notes, the size), what was dropped or skipped, labels, features, split and
    warnings. The reasons a row was unreadable stay as the library words them."""
    if not _zh(in_lang):
        return report.lines()
    out = [f"{_source_zh(report.source)}：{_size_zh(report)}"]
    if report.duplicate_edges or report.self_loops:
        out.append(f"去掉了 {report.duplicate_edges:,} 条重复的边和 {report.self_loops:,} 个自环")
    if report.bad_rows:
        shown = "，".join(f"第 {n} 行（{why}）" for n, why in report.bad_rows[:5])
        more = f"，另有 {len(report.bad_rows) - 5:,} 行" if len(report.bad_rows) > 5 else ""
        out.append(f"跳过了 {len(report.bad_rows):,} 行读不懂的行：{shown}{more}")
    if report.comment_lines:
        out.append(f"跳过了 {report.comment_lines:,} 行注释（# 或 % 后接空格、#、%、!、- 或 =，或单独一个 # 或 %）")
    out += [f"标签：{_report_part(report.labels)}", f"特征：{_report_part(report.features)}",
            f"划分：{_report_part(report.split)}"]
    return out + [f"警告：{notice(w, in_lang)}" for w in report.warnings]


def short_source(report) -> str:
    """The report's source without an upload's notes on reading it: ``edges.csv``."""
    return report.origin or report.source
