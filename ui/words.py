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


def graph_line(report, in_lang: str | None = None) -> str:
    """The first line of the graph's report (its source and size) in the tab's language."""
    if not _zh(in_lang):   # the report's first line, less an upload's reading notes
        return short_source(report) + report.lines()[0][len(report.source):]
    source = short_source(report)   # an upload's notes (delimiter, header…) are in the sidebar's report
    for english, chinese in SOURCES_ZH.items():
        if source.startswith(english):
            source = chinese + source[len(english):]
    counts = (f"{report.edges:,} 条有向边" if report.directed
              else f"{report.edges // 2:,} 条无向边（{report.edges:,} 条有向消息传递边）")
    return f"{source}：{report.nodes:,} 个节点，{counts}"


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
    if _zh(in_lang):
        for pattern, chinese in NOTICES_ZH:
            if re.fullmatch(pattern, text):
                return re.sub(pattern, chinese, text)
    return text


def short_source(report) -> str:
    """The report's source without an upload's notes on reading it: ``edges.csv``."""
    return report.origin or report.source
