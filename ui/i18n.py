"""The interface's words in English and Simplified Chinese (简体中文).

One catalogue: key -> (English, 中文). :func:`t` picks the tab's language (sidebar, or
``?lang=zh`` in a link) and fills ``{placeholders}``. Formulas, numbers, node names and
the library's own messages (``GatvizError`` texts, reports) stay as they are.
tests/test_i18n.py checks that every key has both languages with the same placeholders,
and that every ``t("…")`` in ui/ and pages/ names a key that exists.
"""
from __future__ import annotations

import streamlit as st

LANGUAGES = {"en": "English", "zh": "简体中文"}

CATALOGUE: dict[str, tuple[str, str]] = {
    # navigation and frame
    "page.explorer": ("Explorer", "注意力浏览"),
    "page.explain": ("Explain α step by step", "逐步解释 α"),
    "page.compare": ("Compare", "比较"),
    "language": ("Language", "语言"),
    "presenter": ("Presenter mode", "演示模式"),
    "presenter.help": ("Larger text, labels and legend, high-contrast colours, sidebar folded; the Explain "
                       "page walks one step per screen. Also ?presenter=1 in a link.",
                       "更大的文字、标签和图例，高对比度颜色，折叠侧边栏；解释页每屏一步。链接中也可用 ?presenter=1。"),
    # sidebar: graph
    "graph": ("Graph", "图"),
    "source": ("Source", "来源"),
    "source.builtin": ("Built-in", "内置"),
    "source.upload": ("Upload", "上传"),
    "source.run": ("Saved run", "已保存的运行"),
    "choose.run": ("Choose a run zip to open.", "请选择要打开的运行记录 ZIP。"),
    "download.metrics": ("Download metrics (CSV)", "下载指标（CSV）"),
    "bundle.help": ("Table (CSV, JSON), metrics (CSV), the view (HTML) and the saved run in one zip. "
                    "For a PNG use the button above the view.",
                    "表格（CSV、JSON）、指标（CSV）、视图（HTML）和运行记录打包成一个 ZIP。PNG 请用视图上方的按钮。"),
    "dataset": ("Dataset", "数据集"),
    "ds.karate": ("Karate club (34 nodes)", "空手道俱乐部（34 个节点）"),
    "ds.cora": ("Cora (2,708 papers)", "Cora（2,708 篇论文）"),
    "ds.citeseer": ("CiteSeer (3,327 papers)", "CiteSeer（3,327 篇论文）"),
    "ds.sbm": ("Stochastic block model", "随机块模型"),
    "ds.dictionary": ("Dictionary lookup (GATv2 paper)", "字典查找（GATv2 论文）"),
    "sbm.nodes": ("Nodes", "节点数"),
    "sbm.blocks": ("Blocks", "块数"),
    "dict.size": ("Keys per instance (k)", "每个实例的键数 (k)"),
    "dict.size.help": ("Each instance: k keys (attribute, value) and k queries (attribute).",
                       "每个实例：k 个键（属性，值）和 k 个查询（属性）。"),
    "recommended": ("Settings this task needs were applied: {settings}", "已应用此任务所需的设置：{settings}"),
    "edge.file": ("Edge file", "边文件"),
    "edge.file.help": ("One edge per row: source,target (CSV, TSV or space-separated).",
                       "每行一条边：source,target（CSV、TSV 或空格分隔）。"),
    "node.file": ("Node file (optional)", "节点文件（可选）"),
    "node.file.help": ("node,label[,feature…] per row.", "每行 node,label[,特征…]。"),
    "directed": ("Directed", "有向"),
    "choose.file": ("Choose an edge file to upload.", "请选择要上传的边文件。"),
    "earlier.file": ("Using the file uploaded earlier; choose another to replace it.",
                     "正在使用之前上传的文件；选择另一个文件即可替换。"),
    "not.applied.main": ("Not applied (the sidebar says more; what is on screen stays): {error}",
                         "未应用（详见侧边栏；屏幕上的内容保持不变）：{error}"),
    "not.applied": ("This was not applied: still showing {source}.", "未应用：仍显示 {source}。"),
    "seed.kept": ("The graph on screen keeps seed {seed}: the seed also drew it (its split, labels or features); "
                  "a new seed applies with the chosen graph.",
                  "屏幕上的图保持种子 {seed}：种子也决定了这张图（其划分、标签或特征）；新种子将随所选图一起生效。"),
    "what.read": ("What was read", "读取结果"),
    "graph.failed": ("The graph could not be loaded: {error}", "无法加载图：{error}"),
    # sidebar: model
    "model": ("Model", "模型"),
    "layers": ("Layers", "层数"),
    "heads": ("Heads", "注意力头"),
    "heads.help": ("Heads of each hidden layer (concatenated).", "每个隐藏层的注意力头数（拼接）。"),
    "hidden": ("Hidden / head", "每头隐藏维度"),
    "hidden.help": ("Features per head in hidden layers.", "隐藏层中每个头的特征数。"),
    "out.heads": ("Output heads", "输出层头数"),
    "out.heads.help": ("Heads of the last layer (averaged).", "最后一层的头数（取平均）。"),
    "dropout": ("Dropout", "Dropout"),
    "lr": ("Learn. rate", "学习率"),
    "lr.help": ("Adam's learning rate.", "Adam 优化器的学习率。"),
    "weight.decay": ("Weight decay", "权重衰减"),
    "epochs": ("Epochs", "训练轮数"),
    "seed": ("Seed", "随机种子"),
    "device": ("Device", "设备"),
    "per.update": ("Epochs per update", "每次刷新的轮数"),
    "while.training": ("Training: the view follows the model every {seconds} s (less often while other runs "
                       "train on this server); the table, the head verdicts and the downloads come back when it "
                       "stops.",
                       "训练中：视图每 {seconds} 秒随模型更新（服务器上同时训练的运行越多，更新越慢）；"
                       "表格、注意力头判断和下载在训练停止后恢复。"),
    "boot.loading": ("Loading torch and PyTorch Geometric (a few seconds, once per server)…",
                     "正在加载 torch 与 PyTorch Geometric（每次启动服务器只需几秒）…"),
    "per.update.auto": ("auto (full speed)", "自动（全速）"),
    "per.update.help": ("1 shows every epoch: slow enough to watch attention sharpen.",
                        "设为 1 可显示每一轮：足够慢，可以看到注意力逐渐变尖锐。"),
    "minibatch": ("Mini-batch", "小批量训练"),
    "batch.size": ("Batch size", "批大小"),
    "batch.size.help": ("Training nodes (seeds) per step, each with its sampled neighbourhood. 0 = full batch "
                        "where the graph fits ({nodes} nodes, {edges} edges); past that gatviz trains in "
                        "mini-batches of {default} by itself. Accuracy and α stay exact: they come from the "
                        "whole graph.", "每步的训练节点（种子）数，每个种子带上采样的邻域。0 = 图放得下时全批量训练"
                        "（{nodes} 个节点、{edges} 条边以内）；超过时 gatviz 自动按每批 {default} 个节点小批量训练。"
                        "准确率和 α 仍是精确的：它们在整个图上计算。"),
    "fanout": ("Fan-out", "扇出"),
    "fanout.help": ("In-neighbours sampled per node and hop, {low} to {high}: one number for every layer (10) "
                    "or one per layer (15,10). Used only in mini-batch mode.",
                    "每个节点每跳采样的入邻居数，{low} 到 {high}：一个数用于所有层（10），或每层一个（15,10）。"
                    "只在小批量训练时使用。"),
    "mode.full": ("Training: full batch (every node and edge each step).", "训练方式：全批量（每步用全部节点和边）。"),
    "mode.minibatch": ("Training: mini-batch, {seeds} seeds per step, fan-out {fanout}.",
                       "训练方式：小批量，每步 {seeds} 个种子节点，扇出 {fanout}。"),
    "mode.auto": ("Training: mini-batch (the graph is past the full-batch caps), {seeds} seeds per step, "
                  "fan-out {fanout}.", "训练方式：小批量（图超过了全批量上限），每步 {seeds} 个种子节点，扇出 {fanout}。"),
    "train": ("Train", "训练"),
    "train.help": ("Trains up to Epochs; Stop keeps the model and Train resumes. Once Epochs are done, "
                   "Train adds Epochs more.", "训练到设定轮数；停止会保留模型，再按训练即继续。完成后再按训练会再加同样轮数。"),
    "stop": ("Stop", "停止"),
    "epochs.limit": ("This model has trained {epochs} epochs, the most gatviz runs (limit epochs in "
                     "gatviz/limits.py).", "此模型已训练 {epochs} 轮，达到 gatviz 的上限（gatviz/limits.py 中的 epochs）。"),
    "reset": ("Reset", "重置"),
    "reset.help": ("A fresh, untrained model from the settings below.", "按下面的设置新建一个未训练的模型。"),
    "discard": ("Discard trained model and apply", "丢弃已训练模型并应用"),
    "keep": ("Keep current model", "保留当前模型"),
    "pending": ("Settings changed ({changes}). Applying them discards the model trained for {epochs} epochs; "
                "until then it stays as it is.", "设置已更改（{changes}）。应用它们会丢弃已训练 {epochs} 轮的模型；在此之前模型保持不变。"),
    "pending.training": ("Settings changed ({changes}). Applying them stops the training and discards its model; "
                         "until then it trains on.", "设置已更改（{changes}）。应用它们会停止训练并丢弃其模型；在此之前训练继续。"),
    "the.graph": ("the graph", "图"),
    "model.failed": ("The model could not be built: {error}", "无法构建模型：{error}"),
    "training.stopped": ("Training stopped: {error}", "训练已停止：{error}"),
    # shared view controls
    "centre": ("Centre node", "中心节点"),
    "centre.help": ("Type to search. Or click a node in the network.", "输入以搜索，或在网络图中点击节点。"),
    "centre.help.many": ("Type any node's name and press Enter. The list holds the centre, the centres seen "
                         "before, its neighbours and the highest-degree nodes. Or click a node in the network.",
                         "输入任一节点的名称并按回车。列表中有当前中心、之前看过的中心、它的邻居和度最高的节点。"
                         "或在网络图中点击节点。"),
    "highest": ("Highest degree", "度最高"),
    "random": ("Random", "随机"),
    "layer": ("Layer", "层"),
    "layer.of": ("layer {layer} of {layers}", "第 {layer} 层（共 {layers} 层）"),
    "head": ("Head", "注意力头"),
    "head.all": ("all heads", "全部头"),
    "head.mean": ("mean of heads", "各头平均"),
    "head.n": ("head {head}", "头 {head}"),
    "choose.graph": ("Choose a graph in the sidebar to begin.", "请先在侧边栏选择一个图。"),
    "link": ("Link to this view", "此视图的链接"),
    "link.upload": ("A link cannot carry an uploaded file: download the run instead and open it with "
                    "*Open run* (or `python -m gatviz view RUN.zip`).",
                    "链接无法包含上传的文件：请下载运行记录，再用“打开运行”载入（或 `python -m gatviz view RUN.zip`）。"),
    "link.problems": ("The link was applied except: {problems}.", "链接已应用，以下除外：{problems}。"),
    "link.training": ("Training the linked run: {epochs} epochs…", "正在训练链接中的运行：{epochs} 轮…"),
    # explorer
    "explorer.title": ("Graph attention, live", "图注意力，实时演示"),
    "epoch.of": ("Epoch {epoch} of {epochs}", "第 {epoch} 轮（共 {epochs} 轮）"),
    "training": (" · training…", " · 训练中…"),
    "done": (" · done", " · 完成"),
    "waiting": (" · waiting: {ahead} ahead of you", " · 排队中：前面还有 {ahead} 个"),
    "press.train": ("Press **Train** in the sidebar. Until then the view shows the untrained model's "
                    "attention: close to uniform.", "请按侧边栏中的**训练**。在此之前视图显示未训练模型的注意力：接近均匀。"),
    "accuracy": ("Accuracy", "准确率"),
    "loss": ("Loss", "损失"),
    "hops": ("Neighbourhood", "邻域"),
    "hops.n": ("{hops} hop", "{hops} 跳"),
    "hops.n2": ("{hops} hops", "{hops} 跳"),
    "edges.show": ("Edges show", "边表示"),
    "edges.uniform": ("α vs uniform", "α 相对均匀"),
    "edges.absolute": ("α (0..1)", "α（0..1）"),
    "edges.show.help": ("α vs uniform: width and colour by α·(deg_i+1), 1 = uniform. α (0..1): width by α "
                        "on a fixed scale.", "α 相对均匀：宽度和颜色按 α·(deg_i+1)，1 = 均匀。α（0..1）：宽度按固定刻度的 α。"),
    "edges.shown": ("Edges shown", "显示的边数"),
    "edges.shown.help": ("The centre's inputs first, then highest α.", "先显示中心节点的输入边，再按 α 从高到低。"),
    "view.help": ("Click a node to centre on it · hover an edge for α, e_ij, its rank and the centre's uniform "
                  "1/(deg_i+1) · drag to pan · Ctrl + scroll to zoom",
                  "点击节点以其为中心 · 悬停在边上查看 α、e_ij、排名和中心节点的均匀值 1/(deg_i+1) · 拖动平移 · Ctrl + 滚轮缩放"),
    "attends": ("What the centre node attends to", "中心节点关注什么"),
    "self.uniform": ("Self-attention α_ii = **{self_alpha}**. The centre has {degree} neighbours, so uniform "
                     "attention over its {inputs} inputs (neighbours + itself) would give each **1/(deg_i+1) = "
                     "{uniform}**: the centre's degree, the same for every row. Rows: {head}, layer {layer}.",
                     "自注意力 α_ii = **{self_alpha}**。中心节点有 {degree} 个邻居，所以在其 {inputs} 个输入（邻居 + 自身）上"
                     "均匀分配时每个为 **1/(deg_i+1) = {uniform}**：用的是中心节点的度，每行相同。行：{head}，第 {layer} 层。"),
    "heads.against": ("Each head of layer {layer} against uniform attention", "第 {layer} 层每个头与均匀注意力的比较"),
    "heads.against.help": ("Normalised entropy H(α_i)/log(deg_i+1) per node, median over nodes with a neighbour: "
                           "1 = uniform, 0 = one input takes all. Same-class share: α on neighbours of the node's "
                           "own class, against what uniform attention would give them.",
                           "每个节点的归一化熵 H(α_i)/log(deg_i+1)，对有邻居的节点取中位数：1 = 均匀，0 = 全部给一个输入。"
                           "同类占比：分给同类邻居的 α，与均匀注意力下的占比对比。"),
    "download.csv": ("Download table (CSV)", "下载表格（CSV）"),
    "download.json": ("Download table (JSON)", "下载表格（JSON）"),
    "download.html": ("Download view (HTML)", "下载视图（HTML）"),
    "download.bundle": ("Download everything (ZIP)", "全部下载（ZIP）"),
    "download.run": ("Download run (ZIP)", "下载运行记录（ZIP）"),
    "open.run": ("Open run (ZIP)", "打开运行记录（ZIP）"),
    "open.run.help": ("A run downloaded from gatviz or zipped from `python -m gatviz train --out DIR`.",
                      "从 gatviz 下载的运行记录，或由 `python -m gatviz train --out DIR` 生成后打包的 ZIP。"),
    "run.no.attention": ("{name} is a {model} run: it has no attention to show (the Compare page trains one beside "
                         "GAT and GATv2). Open a GAT or GATv2 run.",
                         "{name} 是 {model} 运行记录：没有注意力可显示（“比较”页会在 GAT 和 GATv2 旁训练一个）。"
                         "请打开 GAT 或 GATv2 运行记录。"),
    "centre.i": ("centre i: {name}", "中心节点 i：{name}"),
    "centre.line": ("centre i: {name}  ·  layer {layer} of {layers}  ·  head {head} of {heads}  ·  "
                    "{degree} neighbour(s) + itself = {inputs} inputs",
                    "中心节点 i：{name}  ·  第 {layer} 层（共 {layers} 层）  ·  头 {head}（共 {heads} 个）  ·  "
                    "{degree} 个邻居 + 自身 = {inputs} 个输入"),
    "opened.run": ("Opened run {name}: {epochs} epochs, no retraining.", "已打开运行记录 {name}：{epochs} 轮，无需重新训练。"),
    "view.of": ("View of epoch {epoch}: {kb} KB of payload, computed in {ms} ms on the server.",
                "第 {epoch} 轮的视图：数据 {kb} KB，服务器计算用时 {ms} 毫秒。"),
    # explain
    "explain.title": ("How GAT computes α, on your model", "GAT 如何在你的模型上计算 α"),
    "explain.waits": ("Training runs on the Explorer page; it waits while you read this one.",
                      "训练在“注意力浏览”页进行；阅读本页时训练暂停。"),
    "explain.run": ("{report} · {model}, {layers} layer(s), epoch {epoch}", "{report} · {model}，{layers} 层，第 {epoch} 轮"),
    "untrained.hint": (" (untrained: train it on the Explorer page)", "（未训练：请在“注意力浏览”页训练）"),
    "exact": ("Exact numbers", "精确数值"),
    "exact.help": ("All digits of float32 instead of 4 decimals.", "显示 float32 的全部位数，而不是 4 位小数。"),
    "step1": ("1 · Shared linear map: z = W h", "1 · 共享线性变换：z = W h"),
    "step1.text": ("Every input j of the centre (its neighbours and the centre itself, through the self-loop) "
                   "goes through the same W. Layer input h: {source}.",
                   "中心节点的每个输入 j（它的邻居，以及通过自环的中心节点自身）都经过同一个 W。本层输入 h：{source}。"),
    "step1.features": ("the node features", "节点特征"),
    "step1.previous": ("the output of layer {layer} after ELU", "第 {layer} 层经 ELU 后的输出"),
    "full.vectors": ("Full vectors z_j ({n} entries each)", "完整向量 z_j（每个 {n} 维）"),
    "step2": ("2 · Score every input: e_ij", "2 · 为每个输入打分：e_ij"),
    "step2.gat": ("The centre's half is one number for all its inputs: a_dstᵀ z_i = **{value}**. Only a_srcᵀ z_j "
                  "differs between inputs, so GAT ranks the inputs the same way for every centre (static attention).",
                  "中心节点那一半对所有输入都是同一个数：a_dstᵀ z_i = **{value}**。只有 a_srcᵀ z_j 随输入变化，"
                  "所以 GAT 对每个中心节点给出相同的输入排序（静态注意力）。"),
    "step2.gatv2": ("The LeakyReLU sits between W and a, so the ranking of the inputs can depend on the centre "
                    "(dynamic attention, GATv2).", "LeakyReLU 位于 W 和 a 之间，所以输入的排序可以依赖于中心节点（动态注意力，GATv2）。"),
    "step3": ("3 · Softmax over the inputs: α_ij", "3 · 对输入做 softmax：α_ij"),
    "step3.text": ("Σ exp = **{exp_sum}**; Σ α = **{alpha_sum}**. Uniform attention would give each input "
                   "**1/(deg_i+1) = {uniform}** (deg_i = {degree}, the centre's degree). Self-attention α_ii = "
                   "**{self_alpha}**.", "Σ exp = **{exp_sum}**；Σ α = **{alpha_sum}**。均匀注意力下每个输入为 "
                   "**1/(deg_i+1) = {uniform}**（deg_i = {degree}，中心节点的度）。自注意力 α_ii = **{self_alpha}**。"),
    "step3.check": ("Checked against PyG's return_attention_weights for this node and head: largest difference "
                    "{diff}.", "已与 PyG 的 return_attention_weights 核对（此节点和此头）：最大差异 {diff}。"),
    "step4": ("4 · Aggregate, then combine the heads", "4 · 聚合，然后合并各头"),
    "step4.concat": ("A hidden layer **concatenates** its {heads} heads ({heads} × {width} = {total} entries), adds "
                     "the bias, and ELU follows before the next layer.",
                     "隐藏层把 {heads} 个头**拼接**起来（{heads} × {width} = {total} 维），加上偏置，然后经过 ELU 进入下一层。"),
    "step4.mean": ("The output layer **averages** its {heads} head(s) and adds the bias: the result is the "
                   "node's logits.", "输出层对 {heads} 个头**取平均**并加上偏置：结果就是该节点的 logits。"),
    "predicted": ("predicted: {predicted}   ·   label: {label}   ·   {verdict}", "预测：{predicted}   ·   标签：{label}   ·   {verdict}"),
    "vec.tail": ("({n} entries, norm {norm})", "（{n} 维，范数 {norm}）"),
    "step1.rows": ("W holds all {heads} heads; head {head} uses {rows} of its rows.",
                   "W 包含全部 {heads} 个头；头 {head} 使用其中 {rows} 行。"),
    "step1.v2": ("W_l h_j is the message, W_r h_i the target side.", "W_l h_j 是消息，W_r h_i 是目标节点一侧。"),
    "slope": ("LeakyReLU's negative slope: {slope}", "LeakyReLU 的负斜率：{slope}"),
    "step4.head": ("head {head}: Σ α_ij z_j = {vec}", "头 {head}：Σ α_ij z_j = {vec}"),
    "step4.combined": ("heads combined = {vec}", "各头合并 = {vec}"),
    "step4.bias": ("+ bias = {vec}   ← the layer's output for the centre", "+ 偏置 = {vec}   ← 该层对中心节点的输出"),
    "col.input": ("input j", "输入 j"),
    "col.self": ("self-loop", "自环"),
    "col.rank": ("rank (0 = self)", "排名（0 = 自身）"),
    "col.sum": ("sum", "和"),
    "col.e": ("e_ij = LeakyReLU({sum})", "e_ij = LeakyReLU（{sum}）"),
    "col.class": ("class", "类别"),
    "correct": ("correct", "正确"),
    "wrong": ("wrong", "错误"),
    "untrained": ("   (untrained model)", "   （未训练模型）"),
    "back": ("← Back", "← 上一步"),
    "next": ("Next →", "下一步 →"),
    "step.of": ("Step {step} of {steps}", "第 {step} 步，共 {steps} 步"),
    # compare
    "cmp.title": ("Compare: epochs, heads, layers, models, edits", "比较：训练轮次、注意力头、层、模型、边编辑"),
    "cmp.train.first": ("Train the model on the Explorer page first: every comparison here reads a trained run.",
                        "请先在“注意力浏览”页训练模型：这里的每项比较都基于已训练的运行。"),
    "cmp.training": ("Training runs on the Explorer page; this page shows the epoch it had reached.",
                     "训练在“注意力浏览”页进行；本页显示训练已到达的那一轮。"),
    "cmp.run": ("{report} · {model}, epoch {epoch}", "{report} · {model}，第 {epoch} 轮"),
    "cmp.sec.training": ("Over training", "训练过程"),
    "cmp.sec.heads": ("Heads", "注意力头"),
    "cmp.sec.layers": ("Layers", "层"),
    "cmp.sec.models": ("Models", "模型"),
    "cmp.sec.edit": ("Edit an edge", "编辑一条边"),
    "cmp.sec.matters": ("Does α matter?", "α 重要吗？"),
    "cmp.snapshots": ("Snapshots held (float16, at most 50 MB; every other one is dropped when full, the interval "
                      "doubling): epochs {epochs}.",
                      "保存的快照（float16，最多 50 MB；存满时每隔一个丢弃一个，间隔加倍）：第 {epochs} 轮。"),
    "cmp.play": ("Play", "播放"),
    "cmp.play.help": ("Step through the snapshots.", "逐个播放快照。"),
    "cmp.gif": ("Download the scrub as a GIF", "将快照序列下载为 GIF"),
    "cmp.gif.help": ("One frame per snapshot, drawn on the server.", "每个快照一帧，在服务器上绘制。"),
    "cmp.epoch": ("Epoch", "训练轮次"),
    "cmp.epoch.acc": ("epoch {epoch}: train {train} · val {val} · test {test}",
                      "第 {epoch} 轮：训练集 {train} · 验证集 {val} · 测试集 {test}"),
    "cmp.entropy": ("Median normalised entropy per head, layer {layer} (1 = uniform attention)",
                    "每个注意力头的归一化熵中位数，第 {layer} 层（1 = 均匀注意力）"),
    "cmp.x.epoch": ("epoch", "轮次"),
    "cmp.split.train": ("train", "训练集"),
    "cmp.split.val": ("val", "验证集"),
    "cmp.split.test": ("test", "测试集"),
    "cmp.alike": ("How alike the heads attend", "各注意力头的注意力有多相似"),
    "cmp.alike.help": ("Mean Jensen–Shannon divergence (bits; 0 = the same α everywhere) between the heads' α "
                       "over the inputs of every node with a neighbour, heads ordered by hierarchical clustering.",
                       "各头在每个有邻居的节点输入上的 α 之间的平均 Jensen–Shannon 散度（比特；0 = 处处相同的 α），"
                       "注意力头按层次聚类排序。"),
    "cmp.worth": ("What each head is worth", "每个注意力头的作用有多大"),
    "cmp.worth.help": ("Accuracy when a head attends uniformly (α = 1/(deg+1) over its inputs), all else as trained.",
                       "把一个头的注意力换成均匀分布（在其输入上 α = 1/(deg+1)），其余保持训练结果时的准确率（消融）。"),
    "cmp.ablated.none": ("nothing (as trained)", "无（训练后的原样）"),
    "cmp.ablated.all": ("all heads of layer {layer}", "第 {layer} 层的全部头"),
    "cmp.col.ablated": ("ablated", "消融对象"),
    "cmp.col.val_acc": ("val_acc", "验证准确率"),
    "cmp.col.test_acc": ("test_acc", "测试准确率"),
    "cmp.col.val_change": ("val_change", "验证准确率变化"),
    "cmp.col.test_change": ("test_change", "测试准确率变化"),
    "cmp.layer.n": ("Layer {layer}", "第 {layer} 层"),
    "cmp.rollout.help": ("Attention rollout: row of A_L ⋯ A_1 for the centre (self-loops included; sums to 1). "
                         "Node size: the share of that node's input in the centre's output. Each arrow goes from "
                         "a source node straight to the centre with width ∝ that share: arrows are not graph edges.",
                         "注意力展开（rollout）：A_L ⋯ A_1 中中心节点的那一行（含自环；和为 1）。节点大小：该节点的输入"
                         "在中心节点输出中的占比。每个箭头从源节点直接指向中心节点，宽度 ∝ 该占比：箭头不是图中的边。"),
    "cmp.rollout.title": ("attention rollout: share of each node's input in the centre",
                          "注意力展开：各节点的输入在中心节点中的占比"),
    "cmp.rollout.note": ("Rollout through {layers} layer(s); the centre keeps {share} of its own input.",
                         "经过 {layers} 层展开；中心节点保留了自身输入的 {share}。"),
    "cmp.col.name": ("name", "节点"),
    "cmp.col.weight": ("weight", "占比"),
    "cmp.models.help": ("GAT, GATv2 and a GCN baseline (same depth and width), {epochs} epochs each, the same "
                        "graph, split and seed.", "GAT、GATv2 和 GCN 基线（相同深度和宽度），各训练 {epochs} 轮，"
                        "使用相同的图、划分和随机种子。"),
    "cmp.models.train": ("Train the three models", "训练这三个模型"),
    "cmp.models.training": ("Training GAT, GATv2 and GCN…", "正在训练 GAT、GATv2 和 GCN…"),
    "cmp.test.acc": ("Test accuracy", "测试准确率"),
    "cmp.kendall": ("Kendall τ between GAT's and GATv2's mean α over the centre's inputs: {tau}",
                    "GAT 与 GATv2 在中心节点输入上的平均 α 的 Kendall τ 秩相关：{tau}"),
    "cmp.model.gat": ("GAT α (mean of heads)", "GAT α（各头平均）"),
    "cmp.model.gatv2": ("GATv2 α (mean of heads)", "GATv2 α（各头平均）"),
    "cmp.model.gcn": ("GCN 1/√(d_i d_j): fixed", "GCN 1/√(d_i d_j)：固定"),
    "cmp.gcn.title": ("GCN's fixed weights (not learned)", "GCN 的固定权重（非学习得到）"),
    "cmp.edit": ("Edit", "编辑"),
    "cmp.edit.remove": ("remove", "删除"),
    "cmp.edit.add": ("add", "添加"),
    "cmp.edit.from": ("the edge from", "来自此节点的边"),
    "cmp.edit.prediction": ("prediction {before} → {after} (the trained model re-run on the edited graph; "
                            "nothing retrained)", "预测 {before} → {after}（在编辑后的图上重新运行已训练模型；未重新训练）"),
    "cmp.col.class": ("class", "类别"),
    "cmp.col.before": ("before", "编辑前"),
    "cmp.col.after": ("after", "编辑后"),
    "cmp.col.change": ("change", "变化"),
    "cmp.alpha.before": ("α before (mean of heads, layer {layer})", "编辑前的 α（各头平均，第 {layer} 层）"),
    "cmp.alpha.after": ("α after (mean of heads, layer {layer})", "编辑后的 α（各头平均，第 {layer} 层）"),
    "cmp.importance": ("Predicted {cls} with p = {p}. GNNExplainer ran {epochs} epochs; gradient: {method} "
                       "(|∂p/∂m_e|); leave-one-out: p minus p without the edge j → i (that direction only; "
                       "Edit an edge removes both), nothing retrained.",
                       "预测为 {cls}，p = {p}。GNNExplainer 运行了 {epochs} 轮；梯度：{method}（|∂p/∂m_e|）；"
                       "留一法：p 减去去掉边 j → i 后的 p（仅此方向；“编辑一条边”会删除两个方向），未重新训练。"),
    "cmp.corr": ("Rank correlation of α with each importance measure over the centre's inputs.",
                 "在中心节点的输入上，α 与各重要性度量的秩相关。"),
    "cmp.col.against": ("α against", "α 对比"),
    "cmp.col.spearman": ("Spearman ρ", "Spearman 秩相关 ρ"),
    "cmp.col.kendall": ("Kendall τ", "Kendall 秩相关 τ"),
    "cmp.col.alpha": ("α (layer {layer}, mean)", "α（第 {layer} 层，平均）"),
    "cmp.col.gnnexplainer": ("GNNExplainer", "GNNExplainer 重要性"),
    "cmp.col.gradient": ("gradient", "梯度"),
    "cmp.col.leave_one_out": ("leave-one-out", "留一法"),
}

# The network view's own words (gatviz/static/gatviz-view.js, its tr() keys): English is the
# script's; another language goes in the payload as "text". "{name}"s are filled in the browser.
VIEW_TEXT = {
    "head": ("head {h}", "头 {h}"),
    "mean": ("mean of heads", "各头平均"),
    "class": ("class: {c}", "类别：{c}"),
    "predicted": ("predicted: {p}  ✗ wrong", "预测：{p}  ✗ 错误"),
    "degree": ("degree: {d}", "度：{d}"),
    "self": ("self-attention α_ii = {a}", "自注意力 α_ii = {a}"),
    "rollout": ("rollout: share in the centre {w}", "rollout：在中心节点中的份额 {w}"),
    "edge.layer": ("(layer {l})", "（第 {l} 层）"),
    "edge.rank": ("rank {r} of {n} neighbours of i", "在 i 的 {n} 个邻居中排第 {r}"),
    "edge.uniform": ("uniform for i: 1/(deg_i+1) = 1/{k} = {u}", "i 的均匀值：1/(deg_i+1) = 1/{k} = {u}"),
    "edge.times": ("× uniform", "× 均匀值"),
    "edge.nomean": ("e_ij: none for the mean of heads", "e_ij：各头平均没有原始分数"),
    "edge.raw": ("(raw score before softmax)", "（softmax 之前的原始分数）"),
    "edge.who": ("i = {i} (attends), j = {j} (degree {d})", "i = {i}（施加注意力），j = {j}（度 {d}）"),
    "wrong": ("wrong prediction", "预测错误"),
    "entropy": ("centre's entropy {e} of uniform", "中心节点的熵为均匀值的 {e}"),
    "png": ("Download PNG (2×)", "下载 PNG（2×）"),
    "shown": ("showing {shown} of {total} edges", "显示 {total} 条边中的 {shown} 条"),
    "shown.more": (" (the centre's inputs first, then highest α)", "（先显示中心节点的输入，再按 α 从高到低）"),
}
# gatviz.encoding.legend's English, and the view's words for it
LEGEND_TEXT = {
    "edge: α relative to uniform, α·(deg_i+1) (i = the attending node):":
        "边：α 相对于均匀值，α·(deg_i+1)（i 为施加注意力的节点）：",
    "edge width ∝ α (fixed 0..1 scale):": "边宽 ∝ α（固定 0..1 刻度）：",
    "uniform": "均匀",
}


def view_words(payload: dict, in_lang: str | None = None) -> dict:
    """``payload`` for the network view in the tab's language: the same dict in English, else a
    copy with the view's words ("text") and its legend translated (the payload itself is cached)."""
    if (in_lang or lang()) != "zh":
        return payload
    legend = payload.get("legend")
    if legend:
        legend = {**legend, "title": LEGEND_TEXT.get(legend["title"], legend["title"]),
                  "items": [{**item, "label": LEGEND_TEXT.get(item["label"], item["label"])} for item in legend["items"]]}
    return {**payload, "legend": legend, "text": {key: zh for key, (_, zh) in VIEW_TEXT.items()}}


def lang() -> str:
    value = st.session_state.get("gv_lang", "en")
    return value if value in LANGUAGES else "en"


def t(key: str, in_lang: str | None = None, **values) -> str:
    """The text of ``key`` in the tab's language (or ``in_lang``), placeholders filled.

    A widget's format_func may be called outside the script run (Streamlit's AppTest does):
    such a function fixes the language when it is made, ``in_lang=lang()``.
    """
    text = CATALOGUE[key][1 if (in_lang or lang()) == "zh" else 0]
    return text.format(**values) if values else text
