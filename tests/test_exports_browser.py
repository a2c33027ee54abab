"""The exported HTML view and the notebook's iframe draw from file:// with the network cut off.

Debian's Chromium through Playwright (never ``playwright install``): every
request that is not ``file:`` is aborted and recorded; the page must draw
(``window.gatvizRender`` called, a canvas per panel with coloured pixels),
log no console error, open no dialog (hostile node names) and ask for nothing
beyond ``file://``.
"""
import os
import shutil

import pytest

import gatviz
from gatviz import RunConfig, exports, render
from gatviz.parse import parse_upload
from gatviz.training import Trainer

CHROMIUM = shutil.which("chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
HOSTILE = ['<img src=x onerror=alert(1)>', '</script><script>alert(2)</script>', '"><svg onload=alert(3)>',
           "{{7*7}}", "مرحبا", "🙂" * 3]

# Locally a missing Chromium skips with the reason; in CI (.ci/run installs it) it must not.
pytestmark = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                reason="chromium not installed: apt-get install -y chromium")

# Counts calls of gatvizRender, where it runs before the page's own scripts. Playwright may inject
# it late into an about:srcdoc frame; then it must not replace the page's function (it returns).
COUNT_RENDERS = """
(() => { if ('gatvizRender' in window) return;
  let f; Object.defineProperty(window, 'gatvizRender', { configurable: true,
  get() { return f; }, set(g) { f = function () { window.__renders = (window.__renders || 0) + 1;
                                                 return g.apply(this, arguments); }; } }); })();
"""
# Per canvas in a frame: how many of its pixels are not white/transparent.
INKED = """() => Array.from(document.querySelectorAll('.gatviz-canvas canvas')).map(c => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) n++;
  return n; })"""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


def open_offline(browser, path):
    """Open ``path`` from file:// with non-file requests aborted; returns (page, record)."""
    record = {"requests": [], "aborted": [], "problems": []}
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def route(r):
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            record["aborted"].append(r.request.url)
            r.abort()

    context.route("**/*", route)
    context.on("request", lambda req: record["requests"].append(req.url))
    context.add_init_script(COUNT_RENDERS)
    page = context.new_page()
    page.on("console", lambda m: record["problems"].append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: record["problems"].append(f"page error: {e}"))
    page.on("dialog", lambda d: (record["problems"].append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, record


def check_drawn(frame, panels: int, counted: bool = True):
    """``panels`` canvases (only gatvizRender makes .gatviz-canvas) with ink; called once if ``counted``."""
    frame.wait_for_function(f"document.querySelectorAll('.gatviz-canvas canvas').length === {panels}")
    if counted:
        assert frame.evaluate("window.__renders") == 1
    inked = frame.evaluate(INKED)
    assert len(inked) == panels and min(inked) > 500, inked    # nodes and edges were drawn


def check_offline(record):
    assert not record["problems"], record["problems"]
    assert not record["aborted"], record["aborted"]
    assert record["requests"] and all(u.startswith("file:") for u in record["requests"]), record["requests"]


@pytest.fixture(scope="module")
def hostile_trainer():
    names = HOSTILE + ["plain"]
    rows = "\n".join('"{}","{}"'.format(a.replace('"', '""'), b.replace('"', '""'))
                     for a, b in zip(names, names[1:] + names[:1]))
    rows += '\n"plain","{}"\n'.format(HOSTILE[0])
    trainer = Trainer(parse_upload(rows.encode(), name="<b>hostile</b>"),
                      RunConfig(dataset="upload", epochs=3, heads=2, device="cpu"))
    trainer.step(3)
    return trainer


def test_standalone_html_draws_from_file_with_the_network_cut_off(browser, karate_trainer, tmp_path):
    att = karate_trainer.attention()
    payload = render.view(karate_trainer.graph, att, 33, 0, [0, 1, "mean"], hops=2,
                          predictions=karate_trainer.predictions().numpy())
    path = tmp_path / "view.html"
    path.write_text(render.standalone_html(payload, "karate, node 33"), encoding="utf-8")
    page, record = open_offline(browser, path)
    check_drawn(page, 3)
    assert page.locator(".gatviz-panel-title").first.inner_text().startswith("head 0")
    check_offline(record)
    page.context.close()


def test_hostile_names_in_the_exported_view_stay_text(browser, hostile_trainer, tmp_path):
    node = hostile_trainer.graph.index("plain")
    path = tmp_path / "hostile.html"
    path.write_text(exports.view_html(hostile_trainer, node, 0, "all"), encoding="utf-8")
    page, record = open_offline(browser, path)
    check_drawn(page, 3)                                   # 2 heads and their mean
    # no name became markup: no image or svg, only the page's own 4 scripts (vis, gatviz, data, call)
    assert page.evaluate("[document.querySelectorAll('img, svg').length, document.scripts.length]") == [0, 4]
    assert "<b>hostile</b>" in page.title()                # the title is text, not markup
    check_offline(record)
    page.context.close()


def test_notebook_iframe_runs_its_scripts_offline(browser, karate_trainer, tmp_path):
    view = gatviz.show(karate_trainer, node=0, layer=1, head=3)
    path = tmp_path / "cell.html"                          # what a notebook output cell holds
    path.write_text(f"<!DOCTYPE html><html><body><div class='output'>{view._repr_html_()}</div></body></html>",
                    encoding="utf-8")
    page, record = open_offline(browser, path)
    frame = page.frame_locator("iframe")
    frame.locator(".gatviz-canvas canvas").wait_for()
    inner = [f for f in page.frames if f != page.main_frame][0]
    check_drawn(inner, 1, counted=False)     # the counter may reach a srcdoc frame too late
    assert inner.evaluate("document.querySelector('.gatviz-panel-title').textContent").startswith("head 3")
    check_offline(record)
    page.context.close()
