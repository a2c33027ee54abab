"""Felt speed in Chromium: cold start, click → draw, live-training overhead, two sessions.

What a person in front of the app waits for, measured in Debian's Chromium driven by
Playwright, for two versions of the app in one run on the same machine: *before* (a git
revision, checked out with ``git worktree`` into a temporary folder; ``FELT_BEFORE``,
default :data:`BEFORE`) and *after* (this working tree). Cold starts alternate between
the versions; the other measurements run one version after the other.

- cold start: a fresh ``streamlit run app.py`` and an empty browser context; seconds
  until the page title is drawn and until the first attention view is drawn.
- click → draw on Cora (default view: every head and the mean): from the user's
  pointerdown (a node clicked in the canvas, an option of Streamlit's head or layer
  selectbox, a hops radio) or the change of the view's own layer / head selector, to the
  first animation frame after vis-network has drawn every panel of the new view
  (``window.__gatvizDrawn`` goes up).
- training overhead (after one warm-up run of 5 epochs in another tab: the library's figure
  leaves out its first step too): the pointerdown on Train → the DOM shows "Epoch 200 of 200 · done"
  (both stamped in the page, a MutationObserver for the text), against the library's
  own ``Trainer.step`` for the same 200 epochs in a fresh process of the same version
  with one torch thread, as the app runs, right after each app run (karate and Cora,
  default settings); medians of RUNS of each.
- two sessions: two tabs train Cora (200 epochs, different seeds) at once; each tab's
  time against the same tab training alone on the same server. The CPU seconds the server
  and Chromium spend meanwhile (/proc, from the Train clicks until both runs are drawn done)
  estimate the best the cores allow: both runs' CPU spread evenly over every core, against
  the slower tab's solo time (a little high: the faster tab's work after its end is counted).
  TWO_ROUNDS rounds of this tree, BEFORE_ROUNDS of the older one (each: both tabs alone, then
  together, on new seeds); medians over the rounds (one round's ratio moved between 1.55 and
  2.16 on the same tree).

Nothing is asserted on time; ``python -m bench --only felt`` writes the figures.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import ROOT, Bench, cores, pick, proc_stat
from .interaction import ARGS, percentile, streamlit_server as server

BEFORE = os.environ.get("FELT_BEFORE", "20cf148")   # the last revision before the felt-speed work
VERSIONS = ("before", "after")
KINDS = ("node", "head", "layer", "hops")
EPOCHS = 200
TITLE = "Graph attention, live"

# In the page: the clock starts at the user's last pointerdown; a promise resolves at the
# first animation frame after the component has drawn a view more than `n` times.
PROBE = """
document.addEventListener("pointerdown", () => { window.__feltT0 = performance.now(); }, true);
// the view's own <select>s (no pointer events from Playwright's select_option): their change
document.addEventListener("change", (e) => {
  if (e.target.closest && e.target.closest(".gatviz-choice")) window.__feltT0 = performance.now();
}, true);
window.__feltDrawn = (n) => new Promise((resolve) => {
  const end = performance.now() + 15000;   // no new view (a click that changed nothing): null
  const tick = () => (window.__gatvizDrawn || 0) > n
    ? requestAnimationFrame(() => resolve(performance.now() - window.__feltT0))
    : performance.now() > end ? resolve(null) : requestAnimationFrame(tick);
  tick();
});
"""
# A node of the first panel other than the centre, in page pixels (the `i`-th, cycling).
NODE_AT = """(i) => {
  const root = document.querySelector(".gatviz-root");
  const net = root.__gatvizNetworks[0], box = net.body.container.getBoundingClientRect();
  const center = Number(root.dataset.center);
  const ids = net.body.data.nodes.getIds().filter((id) => id !== center).sort((a, b) => a - b);
  const inside = ids.map((id) => [id, net.canvasToDOM(net.getPosition(id))])
    .filter(([id, p]) => p.x > 15 && p.y > 15 && p.x < box.width - 15 && p.y < box.height - 15);
  const [id, p] = inside[i % inside.length];
  return {id: id, x: box.left + p.x, y: box.top + p.y};
}"""

# The moment (performance.now(), ms) a text first shows on the page: a MutationObserver
# stamps the DOM change itself (Playwright's own text polling lags it by 0.1-0.3 s).
DONE_WATCH = """(text) => {
  window.__feltDoneAt = null;
  const seen = () => {
    if (window.__feltDoneAt === null && document.body.textContent.includes(text)) {
      window.__feltDoneAt = performance.now(); watch.disconnect();
    }
  };
  const watch = new MutationObserver(seen);
  watch.observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


@contextlib.contextmanager
def checkout(rev: str):
    """The app at ``rev`` in a temporary git worktree (removed afterwards)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "app"
        subprocess.run(["git", "worktree", "add", "--detach", str(path), rev], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            yield path
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, capture_output=True)


def new_page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.add_init_script(PROBE)
    page = context.new_page()
    page.set_default_timeout(90_000)
    return context, page


def idle(page) -> None:
    """Wait until the app has finished its rerun (Streamlit's running indicator is gone)."""
    page.wait_for_timeout(150)
    page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)
    page.wait_for_timeout(150)


def cold_start(browser, app_dir: Path, logdir: Path) -> dict:
    """Seconds from ``streamlit run`` to the title and to the first view drawn."""
    context, page = new_page(browser)
    page.goto("about:blank")    # the tab and its renderer exist before the clock starts
    try:
        with server(app_dir, logdir) as (url, start, _):
            times = {"server_ready_s": time.perf_counter() - start}
            page.goto(url, wait_until="load")
            times["page_loaded_s"] = time.perf_counter() - start
            page.get_by_text(TITLE).first.wait_for()
            times["title_s"] = time.perf_counter() - start
            page.wait_for_function("(window.__gatvizDrawn || 0) >= 1")
            times["first_view_s"] = time.perf_counter() - start
    finally:
        context.close()
    return times


def drawn_after(page, action) -> float | None:
    """Milliseconds from the action's pointerdown to the frame after the new view is drawn
    (None when no new view came within 15 s)."""
    n = page.evaluate("window.__gatvizDrawn || 0")
    action()
    return page.evaluate(f"window.__feltDrawn({n})")


def choose(page, label: str, option: str) -> None:
    """Pick a layer or head: with the view's own selectors where the version has them, else
    Streamlit's selectbox of that label."""
    own = page.locator(".gatviz-root .gatviz-choice select")
    if label in ("Layer", "Head") and own.count() == 2:
        own.nth(0 if label == "Layer" else 1).select_option(label=option)
        return
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def clicks(browser, app_dir: Path, logdir: Path, repeats: int) -> dict[str, list[float]]:
    """Click → draw times on Cora, ``repeats`` of each kind (after one untimed warm-up each)."""
    out: dict[str, list[float]] = {k: [] for k in KINDS}
    with server(app_dir, logdir) as (url, _, _):
        context, page = new_page(browser)
        try:
            page.goto(url + "/?dataset=cora")
            page.wait_for_function("(window.__gatvizDrawn || 0) >= 1", timeout=120_000)
            idle(page)
            # (each round's layer switch ends on head 0, the second layer's only head: a pick
            # of head 0 would change nothing, and wait 15 s for a view that never comes)
            heads = ("head 1", "mean of heads", "all heads", "head 2")
            for i in range(repeats + 1):
                for kind in KINDS:
                    if kind == "node":
                        spot = page.evaluate(NODE_AT, 7 * i + 3)
                        took = drawn_after(page, lambda: page.mouse.click(spot["x"], spot["y"]))
                    elif kind == "head":
                        took = drawn_after(page, lambda: choose(page, "Head", heads[i % len(heads)]))
                    elif kind == "layer":   # to the last layer and back (its one head has no choice)
                        took = drawn_after(page, lambda: choose(page, "Layer", "layer 2 of 2"))
                        if i:
                            out[kind].append(took)
                        idle(page)
                        took = drawn_after(page, lambda: choose(page, "Layer", "layer 1 of 2"))
                    else:
                        took = drawn_after(page, lambda: page.get_by_text(
                            "2 hops" if i % 2 == 0 else "1 hop", exact=True).click())
                    if i:
                        out[kind].append(took)
                    idle(page)
        finally:
            context.close()
    missed = {k: sum(v is None for v in vs) for k, vs in out.items()}
    if any(missed.values()):
        print(f"   clicks without a new view (left out): {missed}", flush=True)
    return {k: [v for v in vs if v is not None] for k, vs in out.items()}


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds so far (user + system, /proc) of the server process with its child processes
    (runs training at once train in forked children: gatviz.forked; those reaped are in the
    server's cutime and cstime), and of every Chromium process on the machine (the benchmark's
    browser: nothing else runs Chromium here)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {"server": 0.0, "chromium": 0.0}
    for pid, fields in proc_stat().items():
        seconds = (int(fields[11]) + int(fields[12])) / tick   # utime, stime
        if pid == server_pid:
            out["server"] += seconds + (int(fields[13]) + int(fields[14])) / tick   # + reaped children's
            continue
        if int(fields[1]) == server_pid:   # a child of the server, running or not yet reaped
            out["server"] += seconds
            continue
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:   # gone meanwhile
            continue
        if b"chrom" in command.split(b"\0", 1)[0]:   # chromium and its helpers
            out["chromium"] += seconds
    return out


def library_seconds(app_dir: Path, dataset: str) -> float:
    """The library alone: ``Trainer.step(EPOCHS)`` of the default run on ``dataset``, one torch thread."""
    code = ("import json, sys, time, torch; torch.set_num_threads(1)\n"
            "from gatviz import RunConfig, graphs\nfrom gatviz.training import Trainer\n"
            "from gatviz.config import recommended\n"
            f"c = RunConfig(dataset={dataset!r}, epochs={EPOCHS}, **recommended({dataset!r}))\n"
            "g = graphs.load(c.dataset, c)\nt = Trainer(g, c)\nt.step(1)\n"
            "s = time.perf_counter(); t.step(c.epochs - 1); took = time.perf_counter() - s\n"
            f"print(json.dumps(took * {EPOCHS} / ({EPOCHS} - 1)))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=app_dir, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def open_view(page, url: str, query: str) -> None:
    """Open ``url/?query`` and wait until its first view is drawn and the page is idle."""
    page.goto(f"{url}/?{query}")
    page.wait_for_function("(window.__gatvizDrawn || 0) >= 1", timeout=120_000)
    idle(page)


def press_train(page, epochs: int = EPOCHS) -> None:
    """Watch for the run of ``epochs`` done, then press Train."""
    page.evaluate(DONE_WATCH, f"Epoch {epochs} of {epochs} · done")
    page.get_by_role("button", name="Train", exact=True).click()


def train_in_tab(page, url: str, query: str, epochs: int = EPOCHS) -> float:
    """Open ``url/?query``, wait for the first view, press Train; seconds from the pointerdown
    on Train to the DOM showing the run of ``epochs`` done (both stamped in the page)."""
    open_view(page, url, query)
    press_train(page, epochs)
    return took(page)


def took(page) -> float:
    """Seconds from the page's last pointerdown to its DONE_WATCH stamp (waits for it)."""
    # polled every 200 ms, not every animation frame: the page stamps the moment itself, and a
    # poll per frame would be the benchmark's own work in the measured tab all along the run
    page.wait_for_function("window.__feltDoneAt !== null", timeout=300_000, polling=200)
    return page.evaluate("window.__feltDoneAt - window.__feltT0") / 1000


RUNS = 5   # app runs and library runs per dataset (medians): with 3, karate's ratio moved 0.9-1.9 in a morning
BEFORE_ROUNDS = 3   # two-tab rounds of the older version (each ~1.5 min long)
TWO_ROUNDS = 7   # two-tab rounds of this tree (medians): its ratio moved by 0.08 between two runs of 3


def training(browser, app_dir: Path, logdir: Path, light: bool = False, two_rounds: int = BEFORE_ROUNDS) -> dict:
    """App seconds for 200 epochs (karate, Cora: RUNS runs each, seeds 1..RUNS), and Cora in two
    tabs, alone and at once (``two_rounds`` rounds), with the CPU seconds the server and Chromium
    spent meanwhile (``light``: one karate run, for the smoke run)."""
    out = {}
    datasets = ("karate",) if light else ("karate", "cora")
    runs = 1 if light else RUNS
    with server(app_dir, logdir) as (url, _, proc):
        pages = [new_page(browser) for _ in range(2)]
        try:
            # One warm-up run first, as the library's figure leaves out its first step: what a
            # server does once (import torch._dynamo for the first optimizer) is not per run.
            train_in_tab(pages[1][1], url, "dataset=karate&epochs=5", epochs=5)
            for dataset in datasets:
                app, lib = out[f"app_{dataset}_s"], out[f"lib_{dataset}_s"] = [], []
                for k in range(runs):
                    app.append(train_in_tab(pages[0][1], url, f"dataset={dataset}&seed={k + 1}"))
                    # the library right after each app run (the server idle): a slow spell of the
                    # machine hits both sides of the ratio (with the library's runs all at the end,
                    # one during the app's runs alone read as the app's overhead)
                    lib.append(library_seconds(app_dir, dataset))
            if not light:
                # two tabs, alone then together: different seeds every run, nothing shared
                out["two_rounds"] = [two_tabs(pages, url, proc.pid, seed=11 + 4 * k) for k in range(two_rounds)]
        finally:
            for context, _ in pages:
                context.close()
    return out


def two_tabs(pages, url: str, server_pid: int, seed: int) -> dict:
    """Cora in each tab alone (seeds ``seed``, ``seed + 1``), then in both at once (the next
    two): seconds per tab, and the server's and Chromium's CPU seconds from the Train
    click(s) until the run(s) are drawn done."""
    solo, cpu = [], []
    for s, (_, page) in zip((seed, seed + 1), pages):
        open_view(page, url, f"dataset=cora&seed={s}")
        before = cpu_seconds(server_pid)
        press_train(page)
        solo.append(took(page))
        after = cpu_seconds(server_pid)
        cpu.append({k: after[k] - before[k] for k in after})
    for s, (_, page) in zip((seed + 2, seed + 3), pages):   # both tabs ready on a fresh run
        open_view(page, url, f"dataset=cora&seed={s}")
    # Playwright's sync API is one thread: each page stamps its own click and end
    before = cpu_seconds(server_pid)
    for _, page in pages:
        press_train(page)
    together = [took(page) for _, page in pages]
    after = cpu_seconds(server_pid)
    return {"solo_s": solo, "together_s": together, "solo_cpu_s": cpu,
            "together_cpu_s": {k: after[k] - before[k] for k in after}}


def summarise(raw: dict) -> dict:
    """Figures of one version from its raw measurements."""
    f = {k: statistics.median(r[k] for r in raw["cold"]) for k in raw["cold"][0]}
    for kind, ms in raw["clicks"].items():
        f[f"{kind}_p50_ms"], f[f"{kind}_p95_ms"] = percentile(ms, 50), percentile(ms, 95)
    t = raw["training"]
    for dataset in ("karate", "cora"):
        if f"app_{dataset}_s" in t:
            app, lib = (statistics.median(t[f"{w}_{dataset}_s"]) for w in ("app", "lib"))
            f[f"{dataset}_app_s"], f[f"{dataset}_lib_s"], f[f"{dataset}_ratio"] = app, lib, app / lib
    if "two_rounds" in t:   # medians over the rounds; CPU seconds per Cora run, on 2 cores
        rounds = t["two_rounds"]
        f["two_ratio"] = statistics.median(max(b / a for a, b in zip(r["solo_s"], r["together_s"])) for r in rounds)
        for who in ("server", "chromium"):
            f[f"solo_{who}_cpu_s"] = statistics.median(c[who] for r in rounds for c in r["solo_cpu_s"])
            f[f"two_{who}_cpu_s"] = statistics.median(r["together_cpu_s"][who] for r in rounds)
        # both runs' CPU on all the cores at once, against the slower tab's solo time: about the best
        # the cores allow (counted until both are done: the faster tab's work after its end too)
        f["two_cpu_ratio"] = statistics.median(sum(r["together_cpu_s"].values()) / cores() / max(r["solo_s"])
                                               for r in rounds)
    return f


COLD_STARTS = 5   # per version, alternating (medians; with 3, the figure moved 3.7-4.1 s on the same code)


def run_felt(mode: str, out: Path) -> dict:
    if shutil.which("chromium") is None:
        return {"measured": 0, "why": "not measured (chromium not installed)"}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"measured": 0, "why": "not measured (playwright not installed)"}
    reps, repeats = pick(mode, 1, 2, COLD_STARTS), pick(mode, 2, 8, 20)
    # smoke (the test suite): this tree only, karate's training only, no second version
    versions = ("after",) if mode == "smoke" else VERSIONS
    raw = {v: {"cold": [], "clicks": {}, "training": {}} for v in versions}
    with (checkout(BEFORE) if "before" in versions else contextlib.nullcontext(None)) as before, \
            tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        dirs = {"before": before, "after": ROOT}
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=ARGS)
        try:
            for _ in range(reps):            # alternate: a slow spell hits both versions
                for v in versions:
                    raw[v]["cold"].append(cold_start(browser, dirs[v], Path(tmp)))
            for v in versions:
                raw[v]["clicks"] = clicks(browser, dirs[v], Path(tmp), repeats)
            for v in versions:
                raw[v]["training"] = training(browser, dirs[v], Path(tmp), light=mode == "smoke",
                                              two_rounds=TWO_ROUNDS if v == "after" else BEFORE_ROUNDS)
        finally:
            browser.close()
    result = {"measured": 1, "reps": reps, "repeats": repeats}
    for v in versions:
        result |= {f"{v}_{k}": val for k, val in summarise(raw[v]).items()}
    return result | {"before_rev": BEFORE, "raw": raw}


ROWS = {"title_s": "cold start: page title drawn, s",
        "first_view_s": "cold start: first attention view drawn, s",
        **{f"{k}_{q}_ms": f"click → drawn, {k} switch, {q}, ms" for k in KINDS for q in ("p50", "p95")},
        "karate_ratio": "live training, karate 200 epochs: app / library",
        "cora_ratio": "live training, Cora 200 epochs: app / library",
        "two_ratio": "two tabs training Cora at once: slower tab / its solo time",
        "two_cpu_ratio": "two tabs: both runs' CPU seconds (server + Chromium) spread evenly over every core "
                           "/ slower tab's solo time",
        "solo_server_cpu_s": "one Cora run alone: server CPU s (with its child processes)",
        "solo_chromium_cpu_s": "one Cora run alone: Chromium CPU s",
        "two_server_cpu_s": "two Cora runs at once: server CPU s (with its child processes)",
        "two_chromium_cpu_s": "two Cora runs at once: Chromium CPU s"}
GOALS = {"after_title_s": ("<=", 4.0), "after_first_view_s": ("<=", 4.0),
         **{f"after_{k}_p95_ms": ("<=", 250.0) for k in KINDS},
         "after_karate_ratio": ("<=", 1.3), "after_cora_ratio": ("<=", 1.3), "after_two_ratio": ("<=", 1.3)}


def felt_table(entry: dict) -> list[str]:
    f = entry["figures"]
    rev = entry.get("details", {}).get("before_rev", BEFORE)
    lines = [f"| felt speed (Chromium) | before (`{rev}`) | after | goal |", "|---|---|---|---|"]
    for k, what in ROWS.items():
        goal = GOALS.get(f"after_{k}")
        goal_text = f"≤ {goal[1]:g}" if goal else ""
        lines.append(f"| {what} | {f.get(f'before_{k}', float('nan')):.3g} | {f.get(f'after_{k}', float('nan')):.3g} "
                     f"| {goal_text} |")
    lines += ["", "| seconds behind the ratios | before | after |", "|---|---|---|"]
    for k in ("karate_app_s", "karate_lib_s", "cora_app_s", "cora_lib_s"):
        lines.append(f"| {k} | {f.get(f'before_{k}', float('nan')):.2f} | {f.get(f'after_{k}', float('nan')):.2f} |")
    return lines


BENCHES = [Bench("felt", "Felt speed in Chromium: before and after, one run", run_felt, goals=GOALS,
                 labels={f"after_{k}": what for k, what in ROWS.items()}, extra=felt_table,
                 notes="`python -m bench --only felt`: the app at revision *before* (`FELT_BEFORE`, a "
                       "`git worktree`) and this tree (*after*), in one run on one machine, Debian's "
                       "Chromium driven by Playwright, 1600x1000. **Cold start**: a fresh `streamlit run` "
                       f"and an empty browser context ({COLD_STARTS} each, alternating versions), seconds to the page "
                       "title and to the first attention view drawn. **Click → drawn** on Cora's default "
                       "view (every head and the mean): from the pointerdown (a node clicked in the "
                       "canvas, an option of Streamlit's selectbox, a hops radio) or the change of the "
                       "view's own layer/head selector, to the animation frame after vis-network has "
                       "drawn every panel; 20 of each kind after a warm-up round (heads: head 1, the mean, "
                       "every head, head 2 in turn, each from head 0, where the round's layer switch leaves "
                       "it; a switch that brought "
                       "no new view within 15 s is left out and counted in the run's log). **Training**: "
                       "the pointerdown on Train → the DOM shows \"Epoch 200 of 200 · done\" (stamped in the page "
                       "by a MutationObserver), after one 5-epoch warm-up run in another tab, against `Trainer.step` for the same 200 "
                       "epochs in a fresh process of that version on one torch thread, "
                       f"right after each app run; medians of {RUNS} runs of each. **Two tabs**: "
                       f"Cora in two tabs at once against each alone, same server, new seeds for every run; {BEFORE_ROUNDS} rounds "
                       f"before, {TWO_ROUNDS} after (both alone, then together), medians over the rounds of the slower tab's ratio, of "
                       "the server's and Chromium's CPU seconds (/proc) from the Train click(s) until the run(s) are drawn done, "
                       "and the ratio they allow: both runs' CPU spread evenly over every core, against the slower "
                       "tab's solo time (a little high: the faster tab's work after its end is counted).")]
