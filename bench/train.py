"""Benchmarks 1 and 6: a gatviz training epoch and attention extraction, CPU and GPU.

The reference is a plain loop written the way PyG's ``examples/gat.py``
trains GAT: two GATConv layers (8 heads x 8 hidden, concatenated; output 1
head), ELU, dropout 0.6 on the input and on alpha, row-normalised *dense*
features dropped with ``F.dropout``, Adam (lr 0.005, wd 5e-4), and every
epoch one train step plus a full eval forward with train/val/test accuracy.
"""
from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GATConv

from gatviz import RunConfig, attention, forked, graphs, synthetic
from gatviz.config import recommended
from gatviz.model import drop_template_files
from gatviz.training import Trainer

from .common import Bench, interleave, mean_std, pick, sync_for

NO_GPU = "not measured (no GPU lent to this session)"


class RefGAT(nn.Module):
    def __init__(self, in_dim: int, classes: int):
        super().__init__()
        self.conv1 = GATConv(in_dim, 8, heads=8, dropout=0.6)
        self.conv2 = GATConv(8 * 8, classes, heads=1, concat=False, dropout=0.6)
        drop_template_files()   # (PyG's generated code, left in the temp folder otherwise)

    def forward(self, x, edge_index):
        x = F.dropout(x, p=0.6, training=self.training)
        x = F.elu(self.conv1(x, edge_index))
        x = F.dropout(x, p=0.6, training=self.training)
        return self.conv2(x, edge_index)


class Reference:
    """PyG example's train() + test() over a gatviz Graph (its x is dense, row-normalised)."""

    def __init__(self, graph: graphs.Graph, device: torch.device, seed: int = 0):
        torch.manual_seed(seed)
        d = graph.data
        self.x, self.edge_index, self.y = d.x.to(device), d.edge_index.to(device), d.y.to(device)
        self.masks = [m.to(device) for m in (d.train_mask, d.val_mask, d.test_mask)]
        self.model = RefGAT(d.x.size(1), graph.num_classes).to(device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=0.005, weight_decay=5e-4)

    def epoch(self) -> list[float]:
        self.model.train()
        self.optimizer.zero_grad()
        out = self.model(self.x, self.edge_index)
        F.cross_entropy(out[self.masks[0]], self.y[self.masks[0]]).backward()
        self.optimizer.step()
        with torch.no_grad():
            self.model.eval()
            pred = self.model(self.x, self.edge_index).argmax(dim=-1)
        return [float((pred[m] == self.y[m]).sum() / m.sum()) for m in self.masks]


def time_training(dataset: str, device: torch.device, repeats: int) -> dict:
    """Median seconds per epoch: Trainer.step(1) against the reference, interleaved."""
    graph = graphs.load(dataset)
    trainer = Trainer(graph, RunConfig(dataset=dataset, seed=0, device=device.type))
    ref = Reference(graph, device)
    t = interleave({"ref": ref.epoch, "ours": lambda: trainer.step(1)}, repeats, warmup=min(5, repeats),
                   sync=sync_for(device))
    return {f"{dataset}_ref_ms": 1e3 * t.median("ref"), f"{dataset}_ours_ms": 1e3 * t.median("ours"),
            f"{dataset}_ratio": t.ratio("ours", "ref")}


def time_extract(dataset: str, device: torch.device, repeats: int) -> dict:
    """Eval forward with attention extraction against the eval forward alone."""
    trainer = Trainer(graphs.load(dataset), RunConfig(dataset=dataset, seed=0, device=device.type))
    trainer.step(10)
    model, x, edge_index = trainer.model, trainer.x, trainer.edge_index

    def forward():
        model.eval()
        with torch.no_grad():
            model(x, edge_index)
        model.train()

    t = interleave({"forward": forward,
                    "alpha": lambda: attention.extract(model, x, edge_index, scores=False),
                    "scores": lambda: attention.extract(model, x, edge_index, scores=True)},
                   repeats, warmup=min(5, repeats), sync=sync_for(device))
    return {f"{dataset}_forward_ms": 1e3 * t.median("forward"), f"{dataset}_alpha_ms": 1e3 * t.median("alpha"),
            f"{dataset}_scores_ms": 1e3 * t.median("scores"),
            f"{dataset}_alpha_ratio": t.ratio("alpha", "forward"),
            f"{dataset}_scores_ratio": t.ratio("scores", "forward")}


class _Without:
    """While active: gatviz's epoch without one of its CPU savings, for :func:`time_savings`.

    ``bernoulli``: dropout drawn the way ``F.dropout`` draws it (bernoulli) instead of
    ``rand >= p``; ``transpose``: torch's own backward for the CSR ``x @ W^T`` instead of
    the transpose prepared once (gatviz.sparse); ``field``: the training step over the
    whole graph instead of the training nodes' receptive field (gatviz.field); ``segments``:
    PyG's softmax, its maximum per target by ``scatter_reduce``, instead of a segment max
    over the edges sorted by target once (gatviz.model.Segments).
    """

    def __init__(self, what: str):
        self.what = what

    def __enter__(self):
        from gatviz import model, sparse
        if self.what == "bernoulli":
            self.saved = (model, "dropout", model.dropout)

            def bernoulli(x, p, training, generator=None):
                if not training or p == 0.0:
                    return x
                return x * torch.empty_like(x).bernoulli_(1 - p, generator=generator).div_(1 - p)
            model.dropout = bernoulli
        elif self.what == "segments":
            self.saved = (model.GAT, "_segments", model.GAT._segments)
            model.GAT._segments = lambda self, edges, num_nodes: None
        elif self.what == "transpose":
            self.saved = (sparse.Transposer, "fits", sparse.Transposer.fits)
            sparse.Transposer.fits = lambda self, x: False
        else:
            self.saved = (Trainer, "_receptive_field", Trainer._receptive_field)
            Trainer._receptive_field = lambda self: None
        return self

    def __exit__(self, *exc):
        setattr(*self.saved)


def time_savings(repeats: int) -> dict:
    """Cora epoch (one torch thread, as the app trains) with every saving, and without each."""
    graph = graphs.load("cora")
    runs = {k: Trainer(graph, RunConfig(dataset="cora", seed=0, device="cpu"))
            for k in ("ours", "bernoulli", "transpose", "field", "segments")}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)

    def epoch(k):
        if k == "ours":
            return lambda: runs[k].step(1)

        def without():
            with _Without(k):
                runs[k].step(1)
        return without
    try:
        t = interleave({k: epoch(k) for k in runs}, repeats, warmup=min(5, repeats))
    finally:
        torch.set_num_threads(threads)
    return {"cora_1t_ms": 1e3 * t.median("ours"),
            "cora_1t_bernoulli_ms": 1e3 * t.median("bernoulli"),
            "cora_1t_no_prepared_transpose_ms": 1e3 * t.median("transpose"),
            "cora_1t_whole_graph_ms": 1e3 * t.median("field"),
            "cora_1t_scatter_max_ms": 1e3 * t.median("segments"),
            "bernoulli_over_ours": t.ratio("bernoulli", "ours"),
            "no_prepared_transpose_over_ours": t.ratio("transpose", "ours"),
            "whole_graph_over_ours": t.ratio("field", "ours"),
            "scatter_max_over_ours": t.ratio("segments", "ours")}


def _at_once(graph: graphs.Graph, config: RunConfig, how: str) -> float:
    """Seconds until the last of the runs ends: one run ("alone"), or two (seeds config.seed and
    the next) in two threads of this process ("threads") or in two forked children ("children")."""
    trainers = [Trainer(graph, config.replace(seed=config.seed + k)) for k in range(1 if how == "alone" else 2)]
    for trainer in trainers:
        trainer.step(1)   # (the optimizer made: what a process does once is not timed)
    epochs = config.epochs - 1
    start = time.perf_counter()
    if how == "children":
        children = [forked.Child(trainer, epochs) for trainer in trainers]
        while not all([child.wait(0.005) for child in children]):
            pass
        assert all(child.error is None for child in children)
    else:
        threads = [threading.Thread(target=trainer.step, args=(epochs,)) for trainer in trainers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    took = time.perf_counter() - start
    assert all(trainer.epoch == config.epochs for trainer in trainers)
    return took


def time_together(epochs: int, rounds: int) -> dict:
    """Two Cora runs at once, one torch thread each (as the app trains): in two threads of one
    process against in two forked children (gatviz.forked), each against one run alone; rounds
    interleaved, medians."""
    if forked._FORK is None:
        return {"why": "not measured: training in a forked child needs Linux's fork"}
    graph = graphs.load("cora")
    config = RunConfig(dataset="cora", epochs=epochs, device="cpu", **recommended("cora"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        seconds = {"alone": [], "threads": [], "children": []}
        for k in range(rounds):
            for how in seconds:
                seconds[how].append(_at_once(graph, config.replace(seed=10 * k), how))
    finally:
        torch.set_num_threads(threads)
    out = {f"{how}_s": statistics.median(v) for how, v in seconds.items()}
    return out | {"epochs": epochs, "rounds": rounds, "threads_over_alone": out["threads_s"] / out["alone_s"],
                  "children_over_alone": out["children_s"] / out["alone_s"]}


def run_together(mode: str, out: Path) -> dict:
    return time_together(pick(mode, 20, 200, 200), pick(mode, 1, 3, 7))


def run_train(mode: str, out: Path) -> dict:
    out = time_training("cora", torch.device("cpu"), pick(mode, 5, 30, 200))
    out |= time_savings(pick(mode, 5, 30, 100))
    if mode == "full":
        out |= time_training("citeseer", torch.device("cpu"), 100)
    return out


def run_accuracy(mode: str, out: Path) -> dict:
    seeds, epochs = pick(mode, 1, 1, 5), pick(mode, 10, 200, 200)
    out: dict = {"seeds": seeds, "epochs": epochs}
    for dataset in pick(mode, ["cora"], ["cora"], ["cora", "citeseer"]):
        graph, final, at_best = graphs.load(dataset), [], []
        for seed in range(seeds):
            trainer = Trainer(graph, RunConfig(dataset=dataset, seed=seed, epochs=epochs, device="cpu"))
            trainer.step(epochs)
            m = trainer.metrics()
            final.append(round(100 * m["test_acc"], 2))
            at_best.append(round(100 * m["test_acc_at_best_val"], 2))
        out[f"{dataset}_final_mean"], out[f"{dataset}_final_std"] = mean_std(final)
        out[f"{dataset}_bestval_mean"], out[f"{dataset}_bestval_std"] = mean_std(at_best)
        out[f"{dataset}_per_seed"] = {"final": final, "at_best_val": at_best}
    return out


def run_extract(mode: str, out: Path) -> dict:
    return time_extract("cora", torch.device("cpu"), pick(mode, 5, 60, 300))


def run_gpu(mode: str, out: Path) -> dict:
    if not torch.cuda.is_available():
        return {"measured": 0, "why": NO_GPU}
    cuda = torch.device("cuda")
    out = {"measured": 1} | time_training("cora", cuda, pick(mode, 5, 30, 100))
    return out | time_extract("cora", cuda, pick(mode, 5, 50, 200)) | {"gpu": torch.cuda.get_device_name(0)}


def _dictionary_run(graph, model: str, seed: int, settings: dict) -> dict:
    """Train once; test accuracy, seconds, and where the test queries' largest alpha lands."""
    config = RunConfig(dataset="dictionary", model=model, seed=seed, device="cpu", **settings)
    start = time.perf_counter()
    trainer = Trainer(graph, config)
    trainer.step(config.epochs)
    seconds = time.perf_counter() - start
    att, last = trainer.attention(), len(trainer.model.convs) - 1
    test = graph.data.test_mask.numpy()
    tops, distinct = [], []     # distinct: keys that are some query's top key, per instance (GAT: 1)
    for head in [*range(att.heads(last)), "mean"]:
        table = synthetic.dictionary_match(graph, att, last, head)
        table = table[test[table.index]]
        tops.append(float(table["top"].mean()))
        distinct.append(float(table.groupby(table.index // (2 * graph.num_classes))["top_key"].nunique().mean()))
    query = int(np.flatnonzero(test)[0])     # the first test query: the same node for both models
    edges = att.incoming(query)
    w, sources = att.weights(last, "mean")[edges], att.edge_index[0].numpy()[edges]
    match = sources == int(graph.data.key_of[query])
    return {"test": trainer.metrics()["test_acc"], "seconds": seconds, "top_heads": tops[:-1],
            "top_mean": tops[-1], "distinct_heads": statistics.fmean(distinct[:-1]),
            "distinct_mean": distinct[-1], "query": graph.names[query], "query_match": float(w[match][0]),
            "query_other_key": float(w[~match & (sources != query)].max()),
            "query_self": float(w[sources == query][0])}


def run_dictionary(mode: str, out: Path) -> dict:
    """DictionaryLookup: GATv2 vs GAT with the recommended settings (and, full, RunConfig's defaults)."""
    k, seeds = pick(mode, 4, 10, 10), pick(mode, 1, 1, 3)
    graph_config = RunConfig(dataset="dictionary", dict_size=k)
    setups = {"rec": recommended("dictionary") | ({"epochs": 5} if mode == "smoke" else {})}
    if mode == "full":
        setups["defaults"] = {}
    result: dict = {"dict_size": k, "instances": synthetic.DICT_INSTANCES, "seeds": seeds,
                    "threads": torch.get_num_threads()}
    for setup, settings in setups.items():
        for model in ("gatv2", "gat"):
            runs = [_dictionary_run(graphs.load("dictionary", graph_config.replace(seed=seed)), model, seed,
                                    settings) for seed in range(seeds)]
            key = f"{setup}_{model}"
            result[f"{key}_test_mean"], result[f"{key}_test_std"] = mean_std([r["test"] for r in runs])
            result[f"{key}_seconds"] = statistics.fmean(r["seconds"] for r in runs)
            result[f"{key}_top_mean"] = statistics.fmean(r["top_mean"] for r in runs)
            result[f"{key}_top_head_min"] = min(min(r["top_heads"]) for r in runs)
            result[f"{key}_top_head_max"] = max(max(r["top_heads"]) for r in runs)
            result[f"{key}_distinct_heads"] = statistics.fmean(r["distinct_heads"] for r in runs)
            result[f"{key}_distinct_mean"] = statistics.fmean(r["distinct_mean"] for r in runs)
            for name in ("query_match", "query_other_key", "query_self"):
                result[f"{key}_{name}"] = runs[0][name]
            result[f"{key}_per_seed"] = runs
    return result


_TIMING = {"ref_ms": "reference epoch, ms", "ours_ms": "gatviz Trainer.step(1), ms",
           "ratio": "gatviz / reference"}
_EXTRACT = {"forward_ms": "eval forward alone, ms", "alpha_ms": "extract(scores=False), ms",
            "scores_ms": "extract(scores=True), ms", "alpha_ratio": "extract(scores=False) / forward",
            "scores_ratio": "extract(scores=True) / forward"}


TITLES = {"cora": "Cora", "citeseer": "CiteSeer"}


def _labels(datasets, table) -> dict:
    return {f"{d}_{k}": f"{TITLES[d]}: {v}" for d in datasets for k, v in table.items()}


BENCHES = [
    Bench("train", "1. Training epoch vs PyG's GAT example", run_train,
          goals={"cora_ratio": ("<=", 0.15)}, labels=_labels(["cora", "citeseer"], _TIMING) | {
              "cora_1t_ms": "Cora, one torch thread: gatviz epoch, ms",
              "cora_1t_bernoulli_ms": "... with dropout drawn by bernoulli (as F.dropout), ms",
              "cora_1t_no_prepared_transpose_ms": "... with torch's own CSR transpose in every backward, ms",
              "cora_1t_whole_graph_ms": "... with the training step over the whole graph, ms",
              "cora_1t_scatter_max_ms": "... with PyG's softmax maximum by scatter_reduce, ms",
              "bernoulli_over_ours": "bernoulli dropout / gatviz epoch",
              "no_prepared_transpose_over_ours": "transpose in every backward / gatviz epoch",
              "whole_graph_over_ours": "training step over the whole graph / gatviz epoch",
              "scatter_max_over_ours": "softmax maximum by scatter_reduce / gatviz epoch"},
          notes="One epoch = a train step plus a full eval forward with train/val/test accuracy, "
                "on CPU. gatviz's epoch also extracts alpha and keeps a float16 snapshot every 5 "
                "epochs. Reference: PyG `examples/gat.py` style, dense features, `F.dropout` on them. "
                "The `cora_1t_*` figures time gatviz's epoch on one torch thread (as the app trains) "
                "interleaved with the same epoch without each of its CPU savings: dropout masks "
                "drawn as `rand >= p` from the trainer's generator instead of bernoulli; the "
                "sparse features' transpose prepared once (gatviz/sparse.py) instead of in every "
                "backward; the training step over the training nodes' receptive field (gatviz/field.py: "
                "each layer over the edges into the nodes its output is read at, the same loss and "
                "gradients) instead of the whole graph; each target's maximum score in the softmax "
                "taken as a segment max over the edges sorted by target once (gatviz/model.py "
                "`Segments`: alpha and gradients are PyG's bit for bit) instead of PyG's "
                "`scatter_reduce`. The optimizer is torch's fused Adam (about 4 % "
                "of an epoch against the per-parameter loop)."),
    Bench("accuracy", "1. Test accuracy (gatviz Trainer, 200 epochs per seed)", run_accuracy,
          goals={"cora_final_mean": (">=", 82.0), "cora_bestval_mean": (">=", 82.0),
                 "citeseer_final_mean": (">=", 71.0), "citeseer_bestval_mean": (">=", 71.0)},
          labels=_labels(["cora", "citeseer"], {
              "final_mean": "final-epoch test_acc, mean %", "final_std": "final-epoch test_acc, std (pp)",
              "bestval_mean": "test_acc_at_best_val, mean %",
              "bestval_std": "test_acc_at_best_val, std (pp)"}) | {"seeds": "seeds", "epochs": "epochs per seed"},
          notes="*final* = `metrics()['test_acc']`, test accuracy after the last epoch. *best val* = "
                "`metrics()['test_acc_at_best_val']`, test accuracy at the first epoch with the "
                "highest validation accuracy, as PyG's example reports it (the paper reports the model "
                "early-stopped on validation loss and accuracy: Cora 83.0 ± 0.7, CiteSeer 72.5 ± 0.7). "
                "Seeds 0, 1, ...; std is the sample std over seeds; per-seed values are in latest.json. "
                "Full mode: Cora and CiteSeer, 5 seeds; quick: Cora, 1 seed."),
    Bench("extract", "1. Attention extraction vs eval forward (Cora)", run_extract,
          goals={"cora_alpha_ratio": ("<=", 1.2), "cora_scores_ratio": ("<=", 1.2)},
          labels=_labels(["cora"], _EXTRACT),
          notes="`attention.extract(model, x, edge_index, scores=...)` against `model(x, edge_index)` "
                "in eval mode under no_grad, both on the trainer's own x (sparse CSR) after 10 epochs."),
    Bench("dictionary", "GAT vs GATv2 on DictionaryLookup (the GATv2 paper's task)", run_dictionary,
          goals={"rec_gatv2_test_mean": (">=", 0.95), "rec_gatv2_top_mean": (">=", 0.9)},
          labels={f"{s}_{m}_{k}": f"{t}, {M}: {v}" for s, t in (("rec", "recommended"), ("defaults", "defaults"))
                  for m, M in (("gatv2", "GATv2"), ("gat", "GAT"))
                  for k, v in (("test_mean", "test accuracy, mean"), ("test_std", "test accuracy, std"),
                               ("seconds", "seconds per run"),
                               ("top_mean", "share of test queries whose largest α (head mean) is the matching key"),
                               ("top_head_min", "same, per head: lowest"), ("top_head_max", "same, per head: highest"),
                               ("distinct_heads", "distinct top keys over an instance's k queries, per head (mean)"),
                               ("distinct_mean", "distinct top keys over an instance's k queries, head mean"),
                               ("query_match", "first test query: α (head mean) on its matching key"),
                               ("query_other_key", "first test query: largest α on another key"),
                               ("query_self", "first test query: α on itself"))}
          | {"dict_size": "k (keys per instance)", "instances": "instances", "seeds": "seeds", "threads": "torch threads"},
          notes="`graphs.load('dictionary')` (k keys -> k queries per instance, split by instance), one "
                "train per seed 0, 1, 2 with `config.recommended('dictionary')` (*rec*: 1 layer, 8 output "
                "heads, no dropout or weight decay, lr 0.02, 150 epochs) and, in full mode, RunConfig's "
                "defaults. α is the last layer's, eval mode. Full: k = 10, 3 seeds; quick: 1 seed."),
    Bench("gpu", "6. GPU: training epoch and extraction on CUDA (Cora)", run_gpu,
          goals={"cora_ratio": ("<=", 0.35), "cora_scores_ratio": ("<=", 1.2)},
          labels=_labels(["cora"], _TIMING | _EXTRACT),
          notes="The same comparisons as `train` and `extract`, run on `cuda` when "
                "`torch.cuda.is_available()`; the clock is read after `torch.cuda.synchronize()`."),
    Bench("together", "Two runs training at once: threads of one process vs forked children", run_together,
          labels={"alone_s": "one Cora run alone, s", "threads_s": "two at once in two threads, s (the later one's end)",
                  "children_s": "two at once in two forked children, s (the later one's end)",
                  "threads_over_alone": "threads / alone", "children_over_alone": "children / alone",
                  "epochs": "epochs per run", "rounds": "rounds"},
          notes="`Trainer.step` of Cora runs (recommended settings, different seeds) on one torch thread each, "
                "as the app trains, after each run's first step; seconds from the start until the later run "
                "has ended. *threads*: two Python threads of one process, as the app trained two tabs' runs "
                "before; *children*: `gatviz.forked.Child` for each (the app's way since, when runs train at "
                "once), the parent's trainers following them. On a machine with 2 cores both pairs have a core "
                "each; the difference is the GIL the threads share. Rounds interleaved (alone, threads, "
                "children), medians."),
]
