"""Benchmarks 2 and 3: what a user waits for in the app.

2. ``view``: the library path the explorer page runs when the user switches
   node, head or layer on Cora (``pages/explorer.py``'s ``body``): the
   trainer's cached attention and predictions, the centre's positions
   (``Layouts.positions``: computed for a new centre, cached for a head or
   layer switch), ``render.view`` and ``render.to_json``. Seeded random
   centres, every kind of switch timed for each centre in turn; p50/p95 over
   the centres. Plus a whole Streamlit rerun for a node switch (``AppTest``,
   in a fresh process: importing ``ui`` sets torch to one thread).
3. ``coldstart``: ``streamlit run app.py`` until the first attention view is
   drawn in headless Chromium, in stages, each from the moment the server
   process is started; a fresh server and browser context per repetition.

There is no reference to interleave with here: the goals are absolute
(a switch within 100 ms, a payload within 100 KB, a cold start within 10 s).
"""
from __future__ import annotations

import contextlib
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from .common import ROOT, Bench, pick

KB = 1000                       # bytes; the browser test's limit is 100_000 bytes
TOP_K = 40                      # the explorer's default "Edges shown"
SWITCHES = {"node": "node switch, head 0 (positions + view + JSON)",
            "node_all": "node switch, all heads + mean (positions + view + JSON)",
            "head": "head switch to one head (cached positions)",
            "head_all": "head switch to all heads + mean (cached positions)",
            "layer": "layer switch, layer 1 → 2 (cached positions)"}
PAYLOADS = {"kb": "payload, head 0", "all_kb": "payload, all heads + mean"}


def percentile(values, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q))


def view_center(graph) -> int:
    """The app's default centre: the first node at the 90th degree percentile (``ui.default_center``)."""
    degree = graph.degree
    target = degree[degree >= np.percentile(degree, 90)].min()
    return int(np.flatnonzero(degree == target)[0])


def all_heads(att, layer: int) -> list:
    """The explorer's "all heads" panels: every head, then their mean."""
    return [*range(att.heads(layer)), "mean"] if att.heads(layer) > 1 else [0]


def switch(trainer, layouts, center: int, hops: int, layer: int, heads: list) -> str:
    """What the explorer computes for one view (the table and Streamlit aside): payload JSON."""
    from gatviz import render

    att = trainer.attention()            # cached per epoch
    payload = render.view(trainer.graph, att, center, layer, heads, hops=hops, top_k=TOP_K,
                          layouts=layouts,
                          predictions=trainer.predictions().numpy())
    return render.to_json(payload)


def node_switch(trainer, all_heads_too: bool = False) -> str:
    """scale.VIEW_BUILD: a node switch to the default centre, 1 hop, fresh positions."""
    from gatviz import render

    att = trainer.attention()
    heads = all_heads(att, 0) if all_heads_too else [0]
    return switch(trainer, render.Layouts(trainer.graph, seed=0), view_center(trainer.graph), 1, 0, heads)


def time_switches(trainer, centers, hops: int, warm) -> tuple[dict, dict]:
    """ms of every kind of switch and payload bytes, per centre (the kinds in turn for each)."""
    from gatviz import render

    graph, att = trainer.graph, trainer.attention()
    last = att.layers - 1
    kinds = {
        # a new centre: its positions are computed (a fresh Layouts has no cache)
        "node": lambda c: switch(trainer, render.Layouts(graph, seed=0), c, hops, 0, [0]),
        "node_all": lambda c: switch(trainer, render.Layouts(graph, seed=0), c, hops, 0, all_heads(att, 0)),
        # same centre: the page's Layouts already holds its positions
        "head": lambda c: switch(trainer, cached, c, hops, 0, [1 % att.heads(0)]),
        "head_all": lambda c: switch(trainer, cached, c, hops, 0, all_heads(att, 0)),
        "layer": lambda c: switch(trainer, cached, c, hops, last, [0]),
    }
    ms = {k: [] for k in kinds}
    size = {"kb": [], "all_kb": []}
    cached = render.Layouts(graph, seed=0)
    for i, c in enumerate([*warm, *centers]):
        cached.positions(c, hops)        # what the page's Layouts holds after the node switch
        for kind, fn in kinds.items():
            start = time.perf_counter()
            text = fn(c)
            took = time.perf_counter() - start
            if i < len(warm):
                continue
            ms[kind].append(1e3 * took)
            if kind in ("node", "node_all"):
                size["kb" if kind == "node" else "all_kb"].append(len(text.encode("utf-8")) / KB)
    return ms, size


class app_threads:
    """torch on one intra-op thread, as the ``ui`` package sets it for the app, restored on exit.

    The view's torch calls are tiny: with 2 threads and another process on one of
    the 2 cores, one ``k_hop_subgraph`` on Cora took 16 ms instead of 0.15 ms.
    """

    def __enter__(self):
        import torch
        self.before = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        import torch
        torch.set_num_threads(self.before)


def run_view(mode: str, out: Path) -> dict:
    from gatviz import RunConfig, graphs
    from gatviz.training import Trainer

    epochs, count = pick(mode, 2, 20, 20), pick(mode, 5, 30, 100)
    graph = graphs.load("cora")
    trainer = Trainer(graph, RunConfig(dataset="cora", epochs=epochs, device="cpu"))
    trainer.step(epochs)
    with app_threads():
        return measure_view(trainer, count, mode) | {"epochs": epochs}


def measure_view(trainer, count: int, mode: str) -> dict:
    graph = trainer.graph
    rng = np.random.default_rng(0)
    picked = rng.choice(graph.num_nodes, size=count + 3, replace=False).tolist()
    warm, centers = picked[:3], picked[3:]
    result: dict = {"centers": count}
    raw = {}
    for hops in (1, 2):
        ms, size = time_switches(trainer, centers, hops, warm)
        raw[f"h{hops}"] = {"ms": {k: [round(v, 2) for v in vs] for k, vs in ms.items()},
                           "kb": {k: [round(v, 2) for v in vs] for k, vs in size.items()}}
        for kind, values in ms.items():
            result[f"h{hops}_{kind}_p50_ms"] = percentile(values, 50)
            result[f"h{hops}_{kind}_p95_ms"] = percentile(values, 95)
        for kind, values in size.items():
            result[f"h{hops}_{kind}_p50"] = percentile(values, 50)
            result[f"h{hops}_{kind}_p95"] = percentile(values, 95)
            result[f"h{hops}_{kind}_max"] = max(values)
    # the worst case the app offers in one click ("Highest degree"): Cora's hub, all heads
    hub = int(graph.degree.argmax())
    result["hub_degree"] = int(graph.degree[hub])
    for hops in (1, 2):
        ms, size = time_switches(trainer, [hub] * pick(mode, 2, 5, 9), hops, [hub])
        result[f"hub_h{hops}_node_all_ms"] = statistics.median(ms["node_all"])
        result[f"hub_h{hops}_head_all_ms"] = statistics.median(ms["head_all"])
        result[f"hub_h{hops}_all_kb"] = size["all_kb"][0]
    worst = int(np.argmax(raw["h2"]["ms"]["node_all"]))
    result["h2_slowest_center"] = {"node": centers[worst], "degree": int(graph.degree[centers[worst]]),
                                   "ms": round(raw["h2"]["ms"]["node_all"][worst], 1)}
    result |= apptest_in_process(mode)
    result["per_center"] = {"centers": centers, **raw}
    return result


# ---------------------------------------------------------------- AppTest: a whole rerun
def apptest_in_process(mode: str) -> dict:
    """Run :func:`apptest` in a fresh Python (``ui`` sets torch's threads to 1 on import)."""
    proc = subprocess.run([sys.executable, "-m", "bench.interaction", "apptest", mode], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode:
        raise RuntimeError(f"AppTest run failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def apptest(mode: str) -> dict:
    """Milliseconds of a node switch through the centre's box on Cora, untrained model: the view's
    fragment alone (``set_value(name).run()``), then the explorer that follows it (in the browser
    once the view is drawn; here a full run, as AppTest sends no component events)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.selectbox(key="gv_dataset").set_value("cora").run()      # the sidebar: builds the model
    if at.exception:
        raise RuntimeError(f"app raised: {at.exception}")
    graph = at.session_state["gv_graph"]
    assert graph.num_nodes == 2708, graph.name
    count = pick(mode, 2, 10, 10)
    rng = np.random.default_rng(1)
    names = [graph.names[i] for i in rng.choice(graph.num_nodes, size=count + 1, replace=False)]
    ms = []
    for i, name in enumerate(names):     # the first switch is a warm-up
        start = time.perf_counter()
        (box,) = [b for b in at.selectbox if str(b.key).startswith("gv_center_box:")]
        if name not in box.options:   # typed, as the browser sends it (Cora's box lists some names)
            box.options.append(name)
        box.set_value(name).run()
        at.run()
        took = time.perf_counter() - start
        if at.exception:
            raise RuntimeError(f"app raised: {at.exception}")
        if i:
            ms.append(1e3 * took)
    (view,) = [d for d in (json.loads(e.proto.json)[0] for e in at.get("bidi_component")) if "payload" in d]
    assert view["payload"]["center"] == graph.index(names[-1])   # (the page's other element: its curves)
    return {"apptest_node_p50_ms": percentile(ms, 50), "apptest_node_p95_ms": percentile(ms, 95),
            "apptest_nodes": len(ms), "apptest_ms": [round(v, 1) for v in ms]}


# ---------------------------------------------------------------- cold start in Chromium
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
STAGES = {"server_ready_s": "server answers /_stcore/health, s",
          "page_loaded_s": "page load event, s",
          "script_ran_s": "page title drawn (sidebar done: graph + model built), s",
          "first_view_s": "first attention view drawn, s"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def import_seconds() -> float:
    """Wall seconds of a fresh ``python -c "import torch, torch_geometric, streamlit"``."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch, torch_geometric, streamlit"], check=True,
                   cwd=ROOT, capture_output=True)
    return time.perf_counter() - start


@contextlib.contextmanager
def streamlit_server(app_dir: Path, logdir: Path, *options: str, log: Path | None = None):
    """A fresh headless ``streamlit run app.py`` in ``app_dir`` (extra ``options`` appended; its
    output in ``log``, by default a file in ``logdir``): (url, seconds at start, process)."""
    port = free_port()
    log = log or logdir / f"server-{app_dir.name}-{port}.log"
    with open(log, "wb") as sink:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                                 "--server.headless", "true", "--server.address", "127.0.0.1",
                                 "--browser.gatherUsageStats", "false", *options],
                                cwd=app_dir, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {log.read_text(errors='replace')[-2000:]}")
            if time.perf_counter() - start > 60:
                raise RuntimeError("streamlit did not answer /_stcore/health within 60 s")
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.02)
        yield url, start, proc
        text = log.read_text(errors="replace")
        if "Traceback" in text:
            raise RuntimeError(f"the server logged a traceback:\n{text[-3000:]}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()



def one_start(browser, train: bool, logdir: Path) -> dict:
    """Start a server, open the app in a fresh context; seconds of every stage since the start."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.goto("about:blank")             # the tab and its renderer exist before the clock starts
    times: dict = {}
    try:
        with streamlit_server(ROOT, logdir) as (url, start, _):
            times["server_ready_s"] = time.perf_counter() - start
            page.goto(url, wait_until="load", timeout=60_000)
            times["page_loaded_s"] = time.perf_counter() - start
            page.get_by_text("Graph attention, live").first.wait_for(timeout=60_000)
            times["script_ran_s"] = time.perf_counter() - start
            page.wait_for_function("(window.__gatvizDrawn || 0) >= 1", timeout=60_000)
            times["first_view_s"] = time.perf_counter() - start
            if train:   # the default budget: 200 epochs on karate
                page.get_by_role("button", name="Train", exact=True).click()
                clicked = time.perf_counter()
                page.get_by_text("Epoch 200 of 200 · done").wait_for(timeout=120_000)
                times["train_s"] = time.perf_counter() - clicked
    finally:
        context.close()
    return times


def run_coldstart(mode: str, out: Path) -> dict:
    chromium = shutil.which("chromium")
    if chromium is None:
        return {"measured": 0, "why": "not measured (chromium not installed)"}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"measured": 0, "why": "not measured (playwright not installed)"}
    reps = pick(mode, 1, 1, 3)
    imports = [import_seconds() for _ in range(reps)]
    runs = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
        try:
            for _ in range(reps):
                runs.append(one_start(browser, train=mode != "smoke", logdir=Path(tmp)))
        finally:
            browser.close()
    result = {"measured": 1, "reps": reps, "import_s": statistics.median(imports)}
    result |= {k: statistics.median(r[k] for r in runs) for k in (*STAGES, "train_s") if k in runs[0]}
    return result | {"per_rep": runs, "import_per_rep": imports}


# ---------------------------------------------------------------- reports
def view_table(entry: dict) -> list[str]:
    """p50 / p95 per kind of switch and hops; payload sizes."""
    f = entry["figures"]
    lines = ["| switch (library path, Cora) | 1-hop p50 ms | 1-hop p95 ms | 2-hop p50 ms | 2-hop p95 ms |",
             "|---|---|---|---|---|"]
    for kind, what in SWITCHES.items():
        cells = [f"{f[f'h{h}_{kind}_{q}_ms']:.1f}" for h in (1, 2) for q in ("p50", "p95")]
        lines.append(f"| {what} | " + " | ".join(cells) + " |")
    lines += ["", "| payload (compact JSON), kB | 1-hop p50 | 1-hop p95 | 1-hop max | 2-hop p50 | 2-hop p95 | 2-hop max |",
              "|---|---|---|---|---|---|---|"]
    for kind, what in PAYLOADS.items():
        cells = [f"{f[f'h{h}_{kind}_{q}']:.1f}" for h in (1, 2) for q in ("p50", "p95", "max")]
        lines.append(f"| {what} | " + " | ".join(cells) + " |")
    if "apptest_node_p50_ms" in f:
        lines += ["", f"AppTest, a node switch's runs (the view's fragment, then the page) on Cora (untrained model, 1 torch thread, "
                      f"{f['apptest_nodes']:g} nodes): p50 {f['apptest_node_p50_ms']:.0f} ms, "
                      f"p95 {f['apptest_node_p95_ms']:.0f} ms."]
    if "hub_degree" in f:
        lines += ["", f"Cora's highest-degree node (degree {f['hub_degree']:g}, the *Highest degree* button), "
                      f"all heads + mean, medians: node switch {f['hub_h1_node_all_ms']:.1f} ms (1 hop) / "
                      f"{f['hub_h2_node_all_ms']:.1f} ms (2 hops); head switch {f['hub_h1_head_all_ms']:.1f} / "
                      f"{f['hub_h2_head_all_ms']:.1f} ms; payload {f['hub_h1_all_kb']:.1f} / "
                      f"{f['hub_h2_all_kb']:.1f} kB."]
    slow = entry["details"].get("h2_slowest_center")
    if slow:
        lines += ["", f"Slowest 2-hop all-heads node switch: node {slow['node']} (degree {slow['degree']}), "
                      f"{slow['ms']} ms."]
    return lines


def coldstart_table(entry: dict) -> list[str]:
    f = entry["figures"]
    lines = ["| stage (since `streamlit run`) | seconds, median |", "|---|---|"]
    lines += [f"| {what} (`{k}`) | {f[k]:.2f} |" for k, what in STAGES.items() if k in f]
    lines.append(f"| separately: `python -c \"import torch, torch_geometric, streamlit\"` (`import_s`) "
                 f"| {f['import_s']:.2f} |")
    if "train_s" in f:
        lines.append(f"| then: click Train → \"Epoch 200 of 200 · done\" on karate (`train_s`) | {f['train_s']:.2f} |")
    return lines


_VIEW_GOALS = {f"h{h}_{k}_p95_ms": ("<=", 100.0) for h in (1, 2) for k in SWITCHES}
_VIEW_GOALS |= {f"h{h}_{k}_p95": ("<=", 100.0) for h in (1, 2) for k in PAYLOADS}
_VIEW_LABELS = {f"h{h}_{k}_{q}_ms": f"{h}-hop {what}, {q} ms" for h in (1, 2) for k, what in SWITCHES.items()
                for q in ("p50", "p95")}
_VIEW_LABELS |= {f"h{h}_{k}_{q}": f"{h}-hop {what}, {q} kB" for h in (1, 2) for k, what in PAYLOADS.items()
                 for q in ("p50", "p95", "max")}
_VIEW_LABELS |= {"apptest_node_p50_ms": "AppTest runs (view, then page), node switch, p50 ms",
                 "apptest_node_p95_ms": "AppTest runs (view, then page), node switch, p95 ms"}

BENCHES = [
    Bench("view", "2. Interaction: node / head / layer switch on Cora", run_view,
          goals=_VIEW_GOALS, labels=_VIEW_LABELS, extra=view_table,
          notes="The explorer's library path for one view, on Cora with a model trained 20 epochs "
                "(full mode; accuracy is irrelevant here): `trainer.attention()` and `predictions()` "
                "(cached), `Layouts` (receptive field and positions), `render.view(..., top_k=40)` and "
                "`render.to_json`. A node switch computes the new centre's positions (a fresh `Layouts`); "
                "head and layer switches reuse them. 100 seeded random centres (full mode; 3 more warm "
                "up first), every kind of switch timed for each centre in turn; p50/p95 over centres, "
                "absolute (no reference); torch on 1 thread, as the app sets it. kB = 1000 bytes of compact UTF-8 JSON. The AppTest line is a node "
                "switch through the centre's box: the view's fragment run, then the whole page's (sidebar, view, "
                "table, downloads; in the app the explorer's, once the browser has drawn the view), in a "
                "fresh process, so Streamlit's own cost is included."),
    Bench("coldstart", "3. Cold start in Chromium", run_coldstart,
          goals={"first_view_s": ("<=", 10.0)}, labels={**STAGES, "import_s": "python import of torch + "
                 "torch_geometric + streamlit (separate process), s", "train_s": "Train click → 200 "
                 "karate epochs done, s", "reps": "repetitions", "measured": "measured"},
          extra=coldstart_table,
          notes="Each repetition: a fresh `streamlit run app.py` (headless, free localhost port) and a fresh "
                "browser context (empty cache) in Debian's Chromium driven by Playwright; the browser and an "
                "empty tab are open before the clock starts. Stages are seconds from starting the server "
                "process; *first view drawn* is when the component's `window.__gatvizDrawn` reaches 1 "
                "(vis-network has drawn the karate view). Medians of 3 repetitions (full mode; 1 in quick "
                "and smoke; smoke skips the training). The OS file cache is warm (the import timing runs first)."),
]


if __name__ == "__main__":
    if sys.argv[1:2] == ["apptest"]:
        print(json.dumps(apptest(sys.argv[2] if len(sys.argv) > 2 else "full")))
    else:
        sys.exit("usage: python -m bench.interaction apptest MODE")
