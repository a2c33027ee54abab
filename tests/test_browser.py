"""The app in Debian's Chromium (Playwright): it trains, draws, re-centres on a click, stays offline.

Starts ``streamlit run app.py`` on a free port, drives the page like a user,
and records every request (all frames), console errors and websocket bytes.
Also measures cold start and bytes per view, and saves docs/screenshot.png.
"""
import json
import os
import re
from contextlib import contextmanager
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium")
VIEW = ".stBidiComponent .gatviz-root"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]

# Locally a missing Chromium skips with the reason; in CI (.ci/run installs it) it must not.
pytestmark = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                reason="chromium not installed: apt-get install -y chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(log: Path, *options: str):
    """``streamlit run app.py`` on a free port (extra ``options`` appended); yields (url, process)."""
    port = free_port()
    with open(log, "wb") as out:   # a file, not a pipe nobody reads: a full pipe would block the server
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                                 "--server.headless", "true", "--server.address", "127.0.0.1", *options],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    started = time.perf_counter()
    with streamlit_server(log) as (url, _):
        yield url, started
        text = log.read_text(errors="replace")
        assert "Traceback" not in text and "Error" not in text, text[-3000:]


class Wire:
    """Bytes the page receives over Streamlit's websocket."""

    def __init__(self):
        self.received = 0

    def attach(self, ws):
        ws.on("framereceived", lambda payload: setattr(self, "received", self.received + len(payload)))


def drawn(page) -> int:
    """How many views the page has drawn so far (the component counts them)."""
    return page.evaluate("window.__gatvizDrawn || 0")


def other_node(page) -> dict:
    """A node of the first panel other than the centre: its id and page coordinates."""
    return page.evaluate(f"""() => {{
        const root = document.querySelector('{VIEW}');
        const net = root.__gatvizNetworks[0];
        const center = Number(root.dataset.center);
        const id = Object.keys(net.getPositions()).map(Number).find(n => n !== center);
        const p = net.canvasToDOM(net.getPositions([id])[id]);
        const box = root.querySelector('.gatviz-canvas canvas').getBoundingClientRect();
        return {{id, x: box.left + p.x, y: box.top + p.y}};
    }}""")


def extents(page) -> list[list[float]]:
    """Each panel's nodes with their labels as drawn, in the canvas's pixels: [left, top, right,
    bottom, canvas width, canvas height] (vis-network's bounding boxes, through the view)."""
    return page.evaluate(f"""() => document.querySelector('{VIEW}').__gatvizNetworks.map((net) => {{
        const canvas = net.body.container.querySelector('canvas');
        const boxes = net.body.data.nodes.getIds().map((id) => net.getBoundingBox(id));
        const a = net.canvasToDOM({{x: Math.min(...boxes.map((b) => b.left)), y: Math.min(...boxes.map((b) => b.top))}});
        const b = net.canvasToDOM({{x: Math.max(...boxes.map((b) => b.right)), y: Math.max(...boxes.map((b) => b.bottom))}});
        return [a.x, a.y, b.x, b.y, canvas.clientWidth, canvas.clientHeight];
    }})""")


def fitted(page) -> None:
    """Every panel shows its nodes and labels whole, and fills its canvas's width or height (the
    view is fitted before its nodes are made: gatviz-view.js, fitted)."""
    for left, top, right, bottom, width, height in extents(page):
        assert left >= -1 and top >= -1 and right <= width + 1 and bottom <= height + 1, (left, top, right, bottom)
        assert max((right - left) / width, (bottom - top) / height) > 0.85


def wait_redrawn(page, before: int, timeout=20_000):
    page.wait_for_function(f"(window.__gatvizDrawn || 0) > {before}", timeout=timeout)
    page.wait_for_timeout(300)   # let the rerun finish streaming (the table, downloads)


def pick(page, label: str, option: str):
    """Choose an option of a Streamlit selectbox by its visible label."""
    from playwright.sync_api import expect

    box = page.get_by_role("combobox", name=label, exact=True)
    expect(box).to_have_count(1, timeout=20_000)   # a rerun may still show the stale copy
    box.click()
    page.keyboard.type(option)   # filters long lists (Cora's 2,708 names) down to the option
    page.get_by_role("option", name=option, exact=True).click()


def view_pick(page, label: str, option: str):
    """Choose a layer or a head with the view's own selectors (they redraw in the browser)."""
    index = {"Layer": 0, "Head": 1}[label]
    page.locator(f"{VIEW} .gatviz-choice select").nth(index).select_option(label=option)


def train_for(page, epochs: int, timeout: int = 60_000):
    """Set the sidebar's Epochs, press Train and wait until the run is done."""
    box = page.get_by_label("Epochs", exact=True)
    box.fill(str(epochs))
    box.press("Enter")
    page.get_by_text(f"Epoch 0 of {epochs}").wait_for(timeout=30_000)
    page.get_by_role("button", name="Train", exact=True).click()
    page.mouse.move(1, 1)   # no tooltip of Train's left in a screenshot (a short run is done at once)
    page.get_by_text(f"Epoch {epochs} of {epochs} · done").wait_for(timeout=timeout)


def test_train_draw_recentre_offline(server):
    assert CHROMIUM, "CI needs Debian's chromium: .ci/run installs it with apt-get"
    url, started = server
    from playwright.sync_api import sync_playwright

    requests, problems, wire = [], [], Wire()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        context.on("request", lambda r: requests.append(r.url))   # every page, frame and worker
        page = context.new_page()
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("websocket", wire.attach)
        try:
            page.goto(url)
            page.wait_for_selector(f"{VIEW} canvas", timeout=60_000)
            cold_start = time.perf_counter() - started
            assert page.locator(f"{VIEW} canvas").count() == 9          # 8 heads + their mean

            # a short run: the budget changes without asking (the model is untrained anyway)
            train_for(page, 100, timeout=45_000)
            page.wait_for_timeout(800)
            assert page.locator(f"{VIEW} canvas").count() == 9
            assert page.locator(f"{VIEW} .gatviz-legend").inner_text().count("wrong prediction") == 1
            page.locator("[data-testid=stSidebarContent]").evaluate("e => e.scrollTo(0, 0)")
            page.screenshot(path=str(ROOT / "docs" / "screenshot.png"))

            # downloads: the table as CSV, the view as one offline HTML page
            with page.expect_download() as info:
                page.get_by_role("button", name="Download table (CSV)").click()
            csv = Path(info.value.path()).read_text()
            assert csv.splitlines()[0].startswith("graph,model,epoch,centre,layer,head,")
            assert csv.splitlines()[0].endswith(",".join(f"head {h}" for h in range(8)))
            with page.expect_download() as info:
                page.get_by_role("button", name="Download view (HTML)").click()
            html = Path(info.value.path()).read_text()
            assert "window.gatvizRender" in html and "<script src=" not in html and "<link" not in html
            # the view as a PNG drawn from vis-network's canvases at twice the on-screen size
            grid = page.locator(f"{VIEW} .gatviz-grid").bounding_box()
            with page.expect_download() as info:
                page.get_by_role("button", name="Download PNG (2×)").click()
            png = Path(info.value.path()).read_bytes()
            assert png[:8] == b"\x89PNG\r\n\x1a\n"
            width, height = struct.unpack(">II", png[16:24])
            assert abs(width - 2 * grid["width"]) <= 2 and abs(height - 2 * grid["height"]) <= 2
            name = info.value.suggested_filename
            assert name.startswith("gatviz-karate-node-") and "-layer1-all_heads-epoch100" in name
            (ROOT / "docs" / "karate-view.png").write_bytes(png)
            page.evaluate("document.querySelector('[data-testid=stMain]').scrollTo(0, 0)")

            # one head: bytes over the websocket for that view
            before, wire.received = drawn(page), 0
            view_pick(page, "Head", "head 0")
            wait_redrawn(page, before)
            head_bytes = wire.received
            assert page.locator(f"{VIEW} canvas").count() == 1

            # the wheel scrolls the page, not the network (Ctrl + wheel zooms)
            network = f"document.querySelector('{VIEW}').__gatvizNetworks[0]"
            scale = page.evaluate(f"{network}.getScale()")
            box = page.locator(f"{VIEW} canvas").first.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.wheel(0, 300)
            page.wait_for_timeout(400)
            assert page.evaluate("document.querySelector('[data-testid=stMain]').scrollTop") > 0
            assert page.evaluate(f"{network}.getScale()") == scale
            page.evaluate("document.querySelector('[data-testid=stMain]').scrollTo(0, 0)")

            # click a node that is not the centre: the view re-centres on it
            target = other_node(page)
            page.evaluate(f"window.__netBefore = {network}")
            # every frame drawn: the centre's size on the canvas against the size for the scale
            page.evaluate(f"""() => {{
                const net = {network}; window.__frames = [];
                net.on("afterDrawing", () => {{
                    const c = net.body.data.nodes.get().find((n) => n.isCenter);
                    window.__frames.push([c.id, net.body.nodes[c.id].options.size, c.base / Math.max(net.getScale(), 1e-3)]);
                }});
            }}""")
            before, wire.received = drawn(page), 0
            page.mouse.click(target["x"], target["y"])
            wait_redrawn(page, before)
            click_bytes = wire.received
            assert page.evaluate(f"document.querySelector('{VIEW}').dataset.center") == str(target["id"])
            # as many panels as before: the panel's network took the new view's data (not rebuilt)
            assert page.evaluate(f"{network} === window.__netBefore")
            assert page.evaluate(f"{network}.body.data.nodes.get().filter(n => n.isCenter).map(n => n.id)") \
                == [target["id"]]
            # its first frame already has the sizes for the fitted scale (not resized a frame later)
            frames = [f for f in page.evaluate("window.__frames") if f[0] == target["id"]]
            assert frames and frames[0][1] == pytest.approx(frames[0][2])
            fitted(page)
            # The view's fragment ran alone and was drawn first; then the page follows (the centre's
            # table, the box: karate's names are its ids), without drawing the view again.
            page.get_by_text(f"centre i: {target['id']}", exact=True).wait_for(timeout=20_000)
            page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')")
            page.wait_for_timeout(300)
            assert page.get_by_role("combobox", name="Centre node").input_value() == str(target["id"])
            assert drawn(page) == before + 1
            # A second click as soon as the first one's view is drawn (the page's run that follows
            # it still on its way): the second is the one that stays, in the view, table and box.
            for _ in range(4):
                before, first = drawn(page), other_node(page)
                page.mouse.click(first["x"], first["y"])
                page.wait_for_function(f"(window.__gatvizDrawn || 0) > {before}")
                second = other_node(page)
                page.mouse.click(second["x"], second["y"])
                page.get_by_text(f"centre i: {second['id']}", exact=True).wait_for(timeout=20_000)
                page.wait_for_timeout(1000)
                page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')")
                assert page.evaluate(f"document.querySelector('{VIEW}').dataset.center") == str(second["id"])
                assert page.get_by_text(f"centre i: {second['id']}", exact=True).count() == 1
                assert page.get_by_role("combobox", name="Centre node").input_value() == str(second["id"])
            # the same for a change of hops: drawn once, the page follows
            before = drawn(page)
            page.get_by_text("2 hops", exact=True).click()
            wait_redrawn(page, before)
            page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')")
            page.wait_for_timeout(300)
            assert drawn(page) == before + 1
            page.get_by_text("1 hop", exact=True).click()
            page.wait_for_function(f"(window.__gatvizDrawn || 0) > {before + 1}")
            page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')")

            # a node's tooltip (its numbers) does not outlive its view: hovered in head 1's panel, it
            # is gone once head 2's is drawn in that panel (the mouse has not moved)
            view_pick(page, "Head", "head 1")
            page.wait_for_timeout(300)
            spot = other_node(page)
            page.mouse.move(spot["x"], spot["y"])
            tooltip = page.locator(f"{VIEW} .vis-tooltip")
            tooltip.wait_for(state="visible", timeout=5_000)
            view_pick(page, "Head", "head 2")
            tooltip.wait_for(state="hidden", timeout=5_000)
            view_pick(page, "Head", "head 0")   # (as before: the README's figures below show head 0)
            page.wait_for_timeout(300)
            page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')")

            # Cora: the trained karate model is only discarded after asking
            pick(page, "Dataset", "Cora (2,708 papers)")
            discard = page.get_by_role("button", name="Discard trained model and apply")
            discard.wait_for(timeout=20_000)
            before = drawn(page)
            discard.click()
            wait_redrawn(page, before, timeout=40_000)
            page.get_by_text("Cora (Planetoid): 2,708 nodes").first.wait_for()
            # the hub, untrained then trained, in the default encoding (alpha vs uniform): README figures
            pick(page, "Centre node", "1358")
            page.wait_for_function(f"document.querySelector('{VIEW}')?.dataset.center === '1358'",
                                   timeout=20_000)
            page.wait_for_timeout(500)
            fitted(page)   # nine panels, the hub's 168 neighbours
            page.locator(VIEW).screenshot(path=str(ROOT / "docs" / "cora-hub-untrained.png"))
            # train Cora, then look around a node of the user's choice, typed by name
            page.get_by_role("button", name="Train", exact=True).click()
            page.get_by_text("Epoch 100 of 100 · done").wait_for(timeout=120_000)
            accuracy = page.get_by_text("Accuracy: train").inner_text()
            page.wait_for_timeout(800)   # the run's last rerun settles first
            pick(page, "Centre node", "1358")
            page.wait_for_function(f"document.querySelector('{VIEW}')?.dataset.center === '1358'",
                                   timeout=20_000)
            assert page.locator(f"{VIEW} canvas").count() >= 1
            page.wait_for_timeout(500)
            page.locator(VIEW).screenshot(path=str(ROOT / "docs" / "cora-hub-trained.png"))
            # Cora's box lists some names (ui.controls.LISTED); any other is typed, Enter takes it
            box = page.get_by_role("combobox", name="Centre node", exact=True)
            for text, shown in (("0", "0"), ("no such paper", "0")):
                before = drawn(page)
                box.click()
                page.keyboard.type(text)
                page.get_by_role("option", name=f"Add: {text}", exact=True).wait_for()   # not listed
                page.keyboard.press("Enter")
                if text == "0":
                    wait_redrawn(page, before)
                else:   # not a node: one line, the centre and its view stay
                    page.get_by_text("unknown node 'no such paper'").wait_for(timeout=20_000)
                assert page.evaluate(f"document.querySelector('{VIEW}').dataset.center") == shown
                assert box.input_value() == shown
            cora, server_ms, latency_ms = {}, {}, {}
            for what, act in (("head", lambda: view_pick(page, "Head", "head 1")),
                              ("layer", lambda: view_pick(page, "Layer", "layer 2 of 2")),
                              ("node", lambda: page.get_by_role("button", name="Random").click())):
                before, wire.received = drawn(page), 0
                clicked = time.perf_counter()
                act()
                page.wait_for_function(f"(window.__gatvizDrawn || 0) > {before}", timeout=20_000)
                latency_ms[what] = round(1000 * (time.perf_counter() - clicked))
                page.wait_for_timeout(300)
                cora[what] = wire.received
                caption = page.get_by_text("computed in").inner_text()
                server_ms[what] = int(caption.split("computed in ")[1].split(" ms")[0])
            # back to layer 1: the head shown there before ("head 1"), not the layer's first option
            before = drawn(page)
            view_pick(page, "Layer", "layer 1 of 2")
            page.wait_for_function(f"(window.__gatvizDrawn || 0) > {before}", timeout=20_000)
            assert page.evaluate(f"document.querySelector('{VIEW}').dataset.head") == "1"
            # the Explain page on the trained Cora model
            page.get_by_role("link", name="Explain α step by step").click()
            page.get_by_text("4 · Aggregate, then combine the heads").wait_for(timeout=30_000)
            page.wait_for_function("document.querySelectorAll('.katex').length >= 4", timeout=20_000)
            assert page.get_by_text("Checked against PyG's return_attention_weights").count() == 1
            page.wait_for_timeout(500)
            page.screenshot(path=str(ROOT / "docs" / "explain-cora.png"))
        finally:
            context.close()
            browser.close()

    local = ("127.0.0.1", "localhost")
    leaving = sorted({u for u in requests if urlparse(u).scheme not in ("data", "blob")
                      and urlparse(u).hostname not in local})
    assert not leaving, f"requests left localhost: {leaving}"
    fetched = [urlparse(u).path for u in requests]
    assert fetched.count("/app/static/vis-network.min.js") == 1     # served once per page load
    assert not problems, problems
    print(f"\ncold start (streamlit run -> first view drawn): {cold_start:.1f} s; "
          f"websocket bytes per view: karate head switch {head_bytes:,} B, click re-centre {click_bytes:,} B; "
          f"Cora {', '.join(f'{k} switch {v:,} B' for k, v in cora.items())}; Cora server ms {server_ms}, "
          f"click-to-drawn ms {latency_ms}; Cora after 100 epochs: {accuracy}")
    # every layer's panels travel with the view (gatviz/choices.py: a layer or head switch draws in
    # the browser); at Cora's hub (168 neighbours, 9 panels a layer) a switch and the table it
    # brings come to ~110 kB
    assert max(head_bytes, click_bytes, *cora.values()) < 150_000


HOSTILE_NAMES = ["<img src=x onerror=alert(1)>", "</script><script>alert(1)</script>", '"><svg onload=alert(1)>',
                 "{{7*7}}", "$\\alpha$", ":smile:", "שלום עולם", "🕸️ node", "x" * 300]

# Text cut by a box that hides overflow (not by a scroll container): a truncated label or value.
TRUNCATED = """() => {
  const out = [];
  const roots = document.querySelectorAll('[data-testid=stSidebar], [data-testid=stMain]');
  for (const root of roots) {
    if (root.getAttribute('aria-expanded') === 'false' || root.getBoundingClientRect().right <= 1) continue;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let n;
    while ((n = walker.nextNode())) {
      if (!n.textContent.trim() || !n.parentElement || n.parentElement.offsetParent === null) continue;
      if (n.parentElement.closest('.gatviz-root, [data-testid=stDataFrame], [data-testid=stVegaLiteChart], .katex')) continue;
      const range = document.createRange(); range.selectNodeContents(n);
      const r = range.getBoundingClientRect();
      if (r.width === 0) continue;
      for (let a = n.parentElement; a && a !== root; a = a.parentElement) {
        const s = getComputedStyle(a);
        const cutX = s.overflowX === 'hidden' || s.overflowX === 'clip';
        const cutY = s.overflowY === 'hidden' || s.overflowY === 'clip';
        if (cutX || cutY) {
          const b = a.getBoundingClientRect();
          if ((cutX && (r.right > b.right + 1 || r.left < b.left - 1)) ||
              (cutY && (r.bottom > b.bottom + 1 || r.top < b.top - 1))) out.push(n.textContent.trim().slice(0, 40));
          break;
        }
        if (s.overflowX !== 'visible' || s.overflowY !== 'visible') break;   // a scroll container: not cut
      }
    }
  }
  return out;
}"""


def label_px(page) -> float:
    """On-screen size of the centre's label in the first panel, px."""
    return page.evaluate(f"""() => {{
        const root = document.querySelector('{VIEW}');
        const net = root.__gatvizNetworks[0];
        return net.getScale() * net.body.nodes[Number(root.dataset.center)].options.font.size;
    }}""")


def test_pages_projector_and_hostile_names(server, tmp_path):
    """1280x720: controls on screen, labels >= 12 px, a page switch keeps everything; the
    Explain page on karate and on an uploaded file of hostile names; no dialog, no error."""
    assert CHROMIUM, "CI needs Debian's chromium: .ci/run installs it with apt-get"
    url, _ = server
    from playwright.sync_api import expect, sync_playwright

    requests, problems = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        context.on("request", lambda r: requests.append(r.url))
        page = context.new_page()
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
        try:
            page.goto(url)
            page.wait_for_selector(f"{VIEW} canvas", timeout=60_000)
            assert urlparse(page.url).path.rstrip("/").endswith("/explorer")
            for name in ("Train", "Stop", "Reset"):      # visible without scrolling
                box = page.get_by_role("button", name=name, exact=True).bounding_box()
                assert box and 0 <= box["y"] and box["y"] + box["height"] <= 720, (name, box)
            assert page.evaluate(TRUNCATED) == []

            # change settings, train, pick a node and one head
            heads = page.get_by_label("Heads", exact=True)
            heads.fill("4")
            heads.press("Enter")
            page.wait_for_function(f"document.querySelectorAll('{VIEW} canvas').length === 5", timeout=20_000)
            train_for(page, 30)
            page.wait_for_timeout(800)
            assert label_px(page) >= 12                     # all-heads grid: the centre stays readable
            pick(page, "Centre node", "5")
            page.wait_for_function(f"document.querySelector('{VIEW}')?.dataset.center === '5'", timeout=20_000)
            before = drawn(page)
            view_pick(page, "Head", "head 1")
            wait_redrawn(page, before)
            assert page.locator(f"{VIEW} canvas").count() == 1 and label_px(page) >= 12
            assert page.evaluate(TRUNCATED) == []
            page.evaluate("document.querySelector('[data-testid=stMain]').scrollTo(0, 0)")
            page.screenshot(path=str(ROOT / "docs" / "explorer-1280x720.png"))
            page.set_viewport_size({"width": 1920, "height": 1080})
            page.wait_for_timeout(1000)
            assert label_px(page) >= 12 and page.evaluate(TRUNCATED) == []
            page.screenshot(path=str(ROOT / "docs" / "explorer-1920x1080.png"))
            page.set_viewport_size({"width": 1280, "height": 720})

            # Explain and back: graph, settings, model and node all stay
            page.get_by_role("link", name="Explain α step by step").click()
            page.get_by_text("1 · Shared linear map: z = W h").wait_for(timeout=30_000)
            expect(page.get_by_label("Heads", exact=True)).to_have_value("4", timeout=10_000)
            assert page.get_by_role("combobox", name="Centre node").input_value() == "5"
            page.wait_for_function("document.querySelectorAll('.katex').length >= 4", timeout=20_000)
            page.screenshot(path=str(ROOT / "docs" / "explain-1280x720.png"))
            page.get_by_role("link", name="Explorer").click()
            page.wait_for_function(f"document.querySelector('{VIEW}')?.dataset.center === '5'", timeout=30_000)
            page.get_by_text("Epoch 30 of 30 · done").wait_for(timeout=20_000)    # the trained model, kept
            # (the Explorer draws its sidebar last: for a moment after a page switch the field is new)
            expect(page.get_by_label("Heads", exact=True)).to_have_value("4", timeout=10_000)

            # an uploaded file of hostile names, on every page
            edges = tmp_path / "hostile.csv"
            rows = [f'"{a.replace(chr(34), chr(34) * 2)}","{b.replace(chr(34), chr(34) * 2)}"'
                    for a, b in zip(HOSTILE_NAMES, HOSTILE_NAMES[1:] + HOSTILE_NAMES[:1])]
            edges.write_text("\n".join(rows + [f'"{HOSTILE_NAMES[0]}",hub', "hub,x"]), encoding="utf-8")
            page.get_by_text("Upload", exact=True).click()
            page.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(str(edges))
            discard = page.get_by_role("button", name="Discard trained model and apply")
            discard.wait_for(timeout=30_000)
            before = drawn(page)
            discard.click()
            wait_redrawn(page, before, timeout=40_000)
            pick(page, "Centre node", "hub")
            page.wait_for_timeout(1000)
            names = page.evaluate(f"document.querySelector('{VIEW}').__gatvizNetworks.length")
            assert names >= 1
            page.get_by_role("link", name="Explain α step by step").click()
            page.get_by_text("3 · Softmax over the inputs: α_ij").wait_for(timeout=30_000)
            assert page.get_by_text("centre i: hub").count() == 1
            page.wait_for_timeout(500)
            assert page.locator("img[src=x], svg[onload]").count() == 0
            page.get_by_role("link", name="Explorer").click()
            page.wait_for_selector(f"{VIEW} canvas", timeout=30_000)
            page.wait_for_timeout(500)
            with page.expect_download() as info:       # the PNG export with those names on screen
                page.get_by_role("button", name="Download PNG (2×)").click()
            assert Path(info.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert page.locator("img[src=x], svg[onload]").count() == 0
            page.set_viewport_size({"width": 800, "height": 600})        # a small laptop
            page.wait_for_timeout(1000)
            assert page.evaluate(TRUNCATED) == []
            view_box, progress_box = page.evaluate("""() => [...document.querySelectorAll(
                '.st-key-gv_explorer_columns [data-testid=stColumn]')].filter(c => !c.parentElement.closest(
                '[data-testid=stColumn]')).map(c => c.getBoundingClientRect().toJSON())""")
            assert progress_box["top"] >= view_box["bottom"] and progress_box["width"] == view_box["width"]
        finally:
            context.close()
            browser.close()
    leaving = sorted({u for u in requests if urlparse(u).scheme not in ("data", "blob")
                      and urlparse(u).hostname not in ("127.0.0.1", "localhost")})
    assert not leaving, f"requests left localhost: {leaving}"
    assert not problems, problems


def edge_alphas(page) -> dict:
    """α of every edge drawn in the first panel, read from the hover texts, by source name."""
    return page.evaluate(f"""() => {{
        const net = document.querySelector('{VIEW}').__gatvizNetworks[0];
        const out = {{}};
        net.body.data.edges.get().forEach(e => {{
            const m = e.title.match(/^(.*) \\u2192 .*\\n\\u03b1_ij = ([0-9.]+)/);
            if (m) out[m[1]] = Number(m[2]);
        }});
        return out;
    }}""")


def test_links_rebuild_views_presenter_and_dictionary(server, tmp_path, capsys):
    """A link in a fresh browser trains its run and shows the CLI's α; presenter mode; the
    dictionary's Explain page from a link."""
    assert CHROMIUM, "CI needs Debian's chromium: .ci/run installs it with apt-get"
    url, _ = server
    from playwright.sync_api import sync_playwright

    from gatviz import cli
    assert cli.main(["train", "--dataset", "karate", "--heads", "4", "--seed", "3", "--epochs", "12",
                     "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    assert cli.main(["explain", str(tmp_path / "run"), "--node", "5", "--layer", "1", "--head", "2",
                     "--json"]) == 0
    expected = {row["name"]: row["alpha"] for row in json.loads(capsys.readouterr().out)["neighbours"]}

    problems = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 720})
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(f"{url}/?heads=4&seed=3&trained=12&node=5&layer=1&head=2")
            page.wait_for_function(f"document.querySelector('{VIEW}')?.dataset.center === '5'", timeout=90_000)
            page.get_by_text("Epoch 12 of 200").wait_for(timeout=20_000)
            page.wait_for_timeout(500)
            shown = edge_alphas(page)
            assert shown and set(shown) == set(expected)
            assert all(abs(shown[n] - expected[n]) <= 5e-5 for n in shown)      # the payload rounds to 4 places
            assert "trained=12" in page.url and "node=5" in page.url           # the address bar follows the view
            context.close()

            # presenter mode from a link: sidebar folded, larger labels, one Explain step per screen
            context = browser.new_context(viewport={"width": 1280, "height": 720})
            page = context.new_page()
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(f"{url}/?presenter=1&trained=20&node=0&head=mean")
            page.wait_for_function(f"document.querySelector('{VIEW}')?.dataset.center === '0'", timeout=90_000)
            # folded: the sidebar sits off screen
            page.wait_for_function("document.querySelector('[data-testid=stSidebar]')"
                                   ".getBoundingClientRect().right <= 1", timeout=20_000)
            page.wait_for_timeout(800)
            assert label_px(page) >= 18 and page.evaluate(TRUNCATED) == []
            page.screenshot(path=str(ROOT / "docs" / "presenter-1280x720.png"))
            page.goto(f"{url}/explain?presenter=1&trained=20&node=0")
            page.get_by_role("button", name="Next →").wait_for(timeout=90_000)
            assert page.get_by_text("1 · Shared linear map: z = W h").count() == 1
            assert page.get_by_text("2 · Score every input: e_ij").count() == 0
            page.get_by_role("button", name="Next →").click()
            page.get_by_text("2 · Score every input: e_ij").wait_for(timeout=20_000)
            context.close()

            # the dictionary's Explain page, from a link, in Chinese
            context = browser.new_context(viewport={"width": 1600, "height": 1000})
            page = context.new_page()
            page.on("pageerror", lambda e: problems.append(str(e)))
            link = ("/explain?dataset=dictionary&model=gatv2&layers=1&out_heads=8&dropout=0.0&weight_decay=0.0"
                    "&lr=0.02&epochs=150&trained=150&node=%234+query+a1&head=0&lang=zh")
            page.goto(url + link)
            page.get_by_text("4 · 聚合，然后合并各头").wait_for(timeout=180_000)
            page.wait_for_function("document.querySelectorAll('.katex').length >= 4", timeout=20_000)
            assert page.get_by_text("中心节点 i：#4 query a1").count() == 1
            assert page.get_by_text("预测：value 2").count() == 1                 # the matching key's value
            page.screenshot(path=str(tmp_path / "explain-dictionary-zh.png"))   # CJK needs a font on the machine
            context.close()
        finally:
            browser.close()
    assert not problems, problems


@contextmanager
def explorer_at(url: str, query: str):
    """Chromium (1600x1000) on the Explorer at ``url/?query``, its first view drawn: the page."""
    assert CHROMIUM, "CI needs Debian's chromium: .ci/run installs it with apt-get"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
            page.goto(f"{url}/?{query}")
            page.wait_for_function("(window.__gatvizDrawn || 0) >= 1", timeout=120_000)
            yield page
        finally:
            browser.close()


CHART = ".gatviz-curves-root"   # the progress column's element (ui.curves)


def progress_epoch(page) -> int:
    """The epoch the progress column shows."""
    text = page.locator(".gatviz-progress-text").inner_text()
    return int(re.search(r"Epoch (\d+) of", text).group(1))


def test_the_view_follows_a_running_training_and_its_controls_still_work(server):
    """While Cora trains: the view redraws from the run's feed (ui.feed; a failed answer is
    asked again), a node clicked in it re-centres it (and the centre's list follows), a hops
    switch redraws it, and Stop ends the run."""
    url, _ = server
    with explorer_at(url, "dataset=cora&epochs=3000") as page:
        asked = []

        def first_fails(route):   # the first answer of each route fails (the view's, the curves')
            asked.append(route.request.url)
            curves = route.request.url.endswith("/curves")
            if sum(u.endswith("/curves") == curves for u in asked) == 1:
                route.fulfill(status=500, body='{"error": true}', content_type="application/json")
            else:
                route.continue_()

        page.route("**/gatviz/live/**", first_fails)
        page.evaluate(f"document.querySelector('{VIEW}').__kept = true")
        page.wait_for_selector(CHART, timeout=30_000)
        page.evaluate(f"document.querySelector('{CHART}').__kept = true")
        page.get_by_role("button", name="Train", exact=True).click()
        page.get_by_text("come back when it stops").wait_for(timeout=30_000)
        # (Train reran the page's fragments alone: the title and the settings stay as they were)
        assert page.locator("[data-testid=stSidebar] [data-testid=stNumberInput]").count() >= 8
        assert page.locator("h1").count() == 1
        page.wait_for_timeout(500)   # (the click's run of the page's fragments is over)
        before, epoch = drawn(page), progress_epoch(page)
        page.evaluate("""() => { const send = WebSocket.prototype.send; window.__sent = 0;
            WebSocket.prototype.send = function (data) { window.__sent++; return send.call(this, data); }; }""")
        wait_redrawn(page, before + 1, timeout=30_000)          # two new views, fetched (ui.feed)
        views = [u for u in asked if not u.endswith("/curves")]   # (both fetch: the order between them varies)
        assert len(views) >= 3 and "?after=" in views[-1]
        assert len(asked) - len(views) >= 2                      # the curves' failed answer was asked again
        # the view sits in one place whether the run trains or not: updated, never re-mounted;
        # the curves grow in the element drawn before the click, fetched too (ui.curves)
        assert page.evaluate(f"document.querySelector('{VIEW}').__kept") is True
        assert progress_epoch(page) > epoch and any(u.endswith("/curves") for u in asked)
        assert page.evaluate(f"document.querySelector('{CHART}').__kept") is True
        assert page.evaluate("window.__sent") == 0   # no script run: neither the view nor the curves ask the page
        target = other_node(page)
        page.mouse.click(target["x"], target["y"])
        page.wait_for_function(f"document.querySelector('{VIEW}').dataset.center === '{target['id']}'",
                               timeout=30_000)
        name = page.evaluate(f"document.querySelector('{VIEW}').__shown.nodes"
                             f".find(n => n.id === {target['id']}).name")
        centre = page.get_by_role("combobox", name="Centre node")
        deadline = time.monotonic() + 30
        while centre.input_value() != name and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        assert centre.input_value() == name                             # the centre's list follows
        assert page.get_by_text("come back when it stops").count() == 1     # still training
        before = drawn(page)
        page.get_by_text("2 hops", exact=True).click()
        wait_redrawn(page, before, timeout=30_000)
        assert page.evaluate(f"document.querySelector('{VIEW}').__shown.hops") == 2
        view_pick(page, "Head", "head 0")                        # drawn in the browser, then the page follows
        before = drawn(page)
        wait_redrawn(page, before, timeout=30_000)              # a tick later: still head 0, 2 hops
        assert page.evaluate(f"document.querySelector('{VIEW}').dataset.head") == "0"
        assert page.locator(f"{VIEW} canvas").count() == 1
        page.get_by_role("button", name="Stop", exact=True).click()
        page.get_by_role("button", name="Download table (CSV)").wait_for(timeout=30_000)   # a stopped run's page
        assert page.get_by_text("come back when it stops").count() == 0
        assert page.evaluate(f"document.querySelector('{VIEW}').__kept") is True


def test_a_run_that_ends_between_two_ticks_is_drawn_done_and_then_nothing_reruns(server):
    """Cora, 200 epochs: longer than a tick, so its end is drawn by the tick that sees it coming
    (ui.live.show_end: the page's fragments rerun, not the whole page). The page is the trained
    one then (the table, its downloads, Train back), its curves still the element drawn before
    the click, and nothing goes on: an idle tab sends nothing (a timer or fetch kept would
    rerun or redraw the page's curves every 1.2 s for good)."""
    url, _ = server
    with explorer_at(url, "dataset=cora&epochs=200") as page:
        page.wait_for_selector(CHART, timeout=30_000)
        page.evaluate(f"document.querySelector('{CHART}').__kept = true")
        page.get_by_role("button", name="Train", exact=True).click()
        page.get_by_text("come back when it stops").wait_for(timeout=30_000)   # (not done in the click's run)
        page.get_by_text("Epoch 200 of 200 · done").wait_for(timeout=120_000)
        page.get_by_role("button", name="Download table (CSV)").wait_for(timeout=30_000)
        assert page.get_by_role("button", name="Train", exact=True).is_enabled()
        assert page.get_by_text("come back when it stops").count() == 0
        assert page.evaluate(f"document.querySelector('{CHART}').__kept") is True   # one element throughout
        # every epoch's numbers one hover away: the loss chart's middle is epoch ~100
        box = page.locator(f"{CHART} svg").first.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.3)
        tip = page.locator(".gatviz-curves-tip").first
        tip.wait_for(state="visible", timeout=5_000)
        shown = re.fullmatch(r"epoch (\d+)\s*train (\d\.\d{4})\s*val (\d\.\d{4})", tip.inner_text().strip())
        assert shown and 60 < int(shown.group(1)) < 160, tip.inner_text()
        page.mouse.move(0, 0)
        page.wait_for_timeout(500)
        page.evaluate("""() => { const send = WebSocket.prototype.send; window.__sent = 0;
            WebSocket.prototype.send = function (data) { window.__sent++; return send.call(this, data); }; }""")
        fetched = []
        page.on("request", lambda r: fetched.append(r.url) if "/gatviz/live/" in r.url else None)
        page.wait_for_timeout(4000)   # > 3 ticks
        assert page.evaluate("window.__sent") == 0 and fetched == []


# True once the progress column shows a tick whose run ends within 1.5 s at the pace of its
# epochs so far (the tick that waits for the end: within FINISH_WAIT_S, 1.3 s), or "done"
ENDS_SOON = """() => {
  const p = document.querySelector('.gatviz-progress-text'), text = p ? p.innerText : '';
  if (text.includes('· done')) return true;
  const m = /Epoch (\\d+) of (\\d+) · training/.exec(text);
  if (!m) return false;
  const seen = window.__ticks || (window.__ticks = []), epoch = +m[1], now = performance.now();
  if (!seen.length || seen[seen.length - 1][1] !== epoch) seen.push([now, epoch]);
  if (seen.length < 2 || epoch === seen[0][1]) return false;
  const perSecond = (epoch - seen[0][1]) / (now - seen[0][0]) * 1000;
  return (+m[2] - epoch) / perSecond < 1.5;
}"""


def test_a_view_widget_clicked_while_the_tick_waits_for_the_run_s_end_leaves_the_end_drawn(server):
    """Cora, 200 epochs: the tick that sees the run's end coming waits for it (ui.live.wait_end).
    A hops click then is folded by Streamlit into that tick's request to draw the end (the
    progress, the explorer, the buttons); its callback, which reruns the view's fragment first,
    keeps them (ui.reruns.retarget). Narrowed to the view, the page said "training" with a
    Stop button for good."""
    url, _ = server
    with explorer_at(url, "dataset=cora&epochs=200&hops=1") as page:
        for hops in ("2 hops", "1 hop"):
            page.evaluate("window.__ticks = []")
            page.get_by_role("button", name="Train", exact=True).click()
            page.wait_for_function(ENDS_SOON, timeout=60_000, polling=20)
            page.get_by_text(hops, exact=True).click()
            page.get_by_text("Epoch 200 of 200 · done").wait_for(timeout=20_000)
            page.get_by_role("button", name="Train", exact=True).wait_for(timeout=20_000)
            page.get_by_role("button", name="Reset", exact=True).click()   # a new model: Train trains 200 again
            page.get_by_text("Epoch 0 of 200").wait_for(timeout=30_000)


def test_a_node_of_a_view_zoomed_in_on_a_few_nodes_takes_a_click(server):
    """vis-network finds a node under the pointer only if it spans more than 2 of the network's
    units (its hit box is ±1 unit around the pointer). A view of a few nodes is fitted at a high
    scale, where a node of some pixels would be under 2 units: its nodes would not take a click.
    Such a view spreads its positions and draws at scale 1 (gatviz-view.js, drawPanel)."""
    url, _ = server
    with explorer_at(url, "dataset=cora&head=mean") as page:
        page.wait_for_timeout(500)
        before = drawn(page)
        box = page.get_by_role("combobox", name="Centre node", exact=True)   # one neighbour: 2 nodes
        box.click()
        page.keyboard.type("923")
        page.get_by_role("option", name="Add: 923", exact=True).wait_for()   # (not listed: typed)
        page.keyboard.press("Enter")
        page.wait_for_function(f"document.querySelector('{VIEW}')?.dataset.center === '923'", timeout=30_000)
        wait_redrawn(page, before)
        assert page.evaluate(f"document.querySelector('{VIEW}').__gatvizNetworks[0].body.data.nodes.length") == 2
        target = other_node(page)
        page.mouse.click(target["x"], target["y"])
        page.wait_for_function(f"document.querySelector('{VIEW}').dataset.center === '{target['id']}'",
                               timeout=30_000)
