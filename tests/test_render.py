import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from gatviz import encoding, graphs, render, RunConfig
from gatviz.training import Trainer

EVIL = '</script><img src=x onerror="alert(1)">&amp;'


@pytest.fixture(scope="module")
def evil_run():
    g = graphs.load("karate")
    g.names[0] = EVIL
    g.__dict__.pop("_index", None)
    t = Trainer(g, RunConfig(epochs=10, device="cpu"))
    t.step(10)
    return g, t


def test_view_payload_numbers(karate_trainer):
    g, att = karate_trainer.graph, karate_trainer.attention()
    p = render.view(g, att, 0, 0, [0, "mean"], hops=1, top_k=100)
    assert p["center"] == 0 and len(p["panels"]) == 2
    panel = p["panels"][0]
    assert panel["total"] == g.degree[0] and panel["shown"] == g.degree[0]
    assert all(e["to"] == 0 for e in panel["edges"])
    alphas = [e["a"] for e in panel["edges"]]
    assert abs(sum(alphas) + panel["self"][0] - 1) < 1e-3       # neighbours + self = 1
    for e in panel["edges"]:   # default: width by alpha relative to the centre's uniform 1/(deg_i+1)
        assert e["k"] == g.degree[0] + 1 and 1 <= e["r"] <= e["k"] - 1
        assert e["u"] == pytest.approx(e["a"] * e["k"], abs=2e-3)
        assert e["w"] == pytest.approx(np.clip(encoding.UNIFORM_WIDTH * e["a"] * e["k"], encoding.MIN_WIDTH,
                                               encoding.MAX_WIDTH), abs=0.02)
    # neighbour ranks are 1..deg: the self-loop does not take a rank
    assert sorted(e["r"] for e in panel["edges"]) == list(range(1, g.degree[0] + 1))
    assert p["panels"][1]["head"] == "mean" and all(e["e"] is None for e in p["panels"][1]["edges"])
    absolute = render.view(g, att, 0, 0, [0], hops=1, top_k=100, encoding="absolute")
    for e in absolute["panels"][0]["edges"]:   # width on a fixed scale, never normalised by the max
        assert e["w"] == pytest.approx(max(encoding.MIN_WIDTH, encoding.WIDTH_AT_ONE * e["a"]), abs=0.02)
    assert absolute["legend"]["title"].startswith("edge width ∝ α") and "uniform" in p["legend"]["title"]


def test_top_k_and_two_hops(karate_trainer):
    g, att = karate_trainer.graph, karate_trainer.attention()
    p = render.view(g, att, 0, 0, [1], hops=2, top_k=5)
    panel = p["panels"][0]
    assert panel["shown"] == 5 and panel["total"] > 5
    nodes, dist = render.receptive_field(g, 0, 2)
    inner = set(nodes[dist < 2].tolist())
    assert all(e["to"] in inner for e in panel["edges"])
    everything = render.view(g, att, 0, 0, [1], hops=2, top_k=1000)["panels"][0]["edges"]
    centre_alpha = sorted((e["a"] for e in everything if e["to"] == 0), reverse=True)
    assert [e["a"] for e in panel["edges"]] == centre_alpha[:5]     # node 0 has 16 inputs: all its own


def test_two_hops_shows_the_hubs_own_edges_first(karate_trainer):
    # karate 33 has 17 neighbours; at k = 40 over all 2-hop edges none of its own were shown
    g, att = karate_trainer.graph, karate_trainer.attention()
    hub = int(np.argmax(g.degree))
    panel = render.view(g, att, hub, 0, ["mean"], hops=2, top_k=40)["panels"][0]
    into_hub = [e for e in panel["edges"] if e["to"] == hub]
    assert len(into_hub) == g.degree[hub]
    assert panel["edges"][:len(into_hub)] == into_hub       # the centre's inputs come first
    small = render.view(g, att, hub, 0, ["mean"], hops=2, top_k=5)["panels"][0]["edges"]
    assert all(e["to"] == hub for e in small)
    assert [e["a"] for e in small] == sorted((e["a"] for e in into_hub), reverse=True)[:5]


def test_two_hops_draws_both_directions_apart_and_says_which_layer(karate_trainer):
    g, att = karate_trainer.graph, karate_trainer.attention()
    p = render.view(g, att, 0, 1, [0], hops=2, top_k=1000)
    edges = p["panels"][0]["edges"]
    drawn = {(e["from"], e["to"]) for e in edges}
    both = [e for e in edges if (e["to"], e["from"]) in drawn]
    assert both and all(e["b"] for e in both)                   # drawn as two curves, not one line
    assert not any(e["b"] for e in edges if (e["to"], e["from"]) not in drawn)
    assert "layer 2" in p["note"] and "last" in p["note"]      # layer 2 of 2: the outer ring's caveat
    first = render.view(g, att, 0, 0, [0], hops=2)["note"]
    assert "layer 1" in first and "last" not in first
    assert render.view(g, att, 0, 0, [0], hops=1)["note"] == ""


def test_layout_is_seeded_cached_and_shared(karate):
    layouts = render.Layouts(karate, seed=0)
    a = layouts.positions(0, 1)
    assert layouts.positions(0, 1) is a
    assert render.Layouts(karate, seed=0).positions(0, 1) == a
    assert a[0] == (0.0, 0.0)     # centred on the chosen node
    assert layouts.field(0, 1)[0] is layouts.field(0, 1)[0]     # receptive field cached too
    assert set(layouts.field(0, 2)[0].tolist()) == set(layouts.positions(0, 2))


def test_view_with_shared_layouts_equals_a_fresh_one(karate_trainer):
    g, att = karate_trainer.graph, karate_trainer.attention()
    layouts = render.Layouts(g)
    for hops in (1, 2):
        assert render.view(g, att, 5, 0, [0, "mean"], hops=hops, layouts=layouts) == \
            render.view(g, att, 5, 0, [0, "mean"], hops=hops)


def test_wrong_predictions_marked(karate_trainer):
    g, att = karate_trainer.graph, karate_trainer.attention()
    pred = g.data.y.numpy().copy()
    pred[1] = 1 - pred[1]
    p = render.view(g, att, 0, 0, [0], predictions=pred, top_k=100)
    wrong = [n["id"] for n in p["nodes"] if "wrong" in n]
    assert wrong == [1]


def test_payload_is_small_on_cora():
    g = graphs.load("cora")
    t = Trainer(g, RunConfig(dataset="cora", epochs=2, device="cpu"))
    t.step(2)
    att = t.attention()
    hub = int(np.argmax(g.degree))
    p = render.view(g, att, hub, 0, list(range(8)) + ["mean"], hops=2, top_k=40)
    assert render.payload_bytes(p) < 100_000


def test_standalone_html_is_offline_and_escapes_names(evil_run):
    g, t = evil_run
    p = render.view(g, t.attention(), 0, 0, [0], predictions=t.predictions().numpy())
    html = render.standalone_html(p, f"node {EVIL}")
    # no external resources: nothing is loaded from a URL
    assert not re.search(r'<(script|link|img)[^>]+(src|href)=', html)
    assert "bootstrap" not in html.lower()

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags = []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)

    parser = Tags()
    parser.feed(html)
    assert "img" not in parser.tags                   # the name did not become markup
    data = html.split('<script id="gatviz-data" type="application/json">')[1].split("</script>")[0]
    assert json.loads(data)["nodes"][0]["name"] == EVIL  # ...and comes back verbatim


def test_default_encoding_tells_a_trained_cora_head_from_an_untrained_one():
    # Cora's trained attention is close to uniform; alpha vs uniform must still show training.
    g = graphs.load("cora")
    t = Trainer(g, RunConfig(dataset="cora", epochs=100, device="cpu"))
    hub = int(np.argmax(g.degree))                       # node 1358, 168 neighbours
    before = render.view(g, t.attention(), hub, 0, [0], top_k=200)["panels"][0]["edges"]
    t.step(100)
    after = render.view(g, t.attention(), hub, 0, [0], top_k=200)["panels"][0]["edges"]
    absolute = render.view(g, t.attention(), hub, 0, [0], top_k=200, encoding="absolute")["panels"][0]["edges"]
    assert max(e["w"] for e in absolute) < 1.0          # the fixed 0..1 scale: every edge a hairline
    assert max(e["w"] for e in after) > 2 * max(e["w"] for e in before)
    assert max(e["u"] for e in before) < 1.1 < 2.0 < max(e["u"] for e in after)
    # colour: untrained edges stay near grey, trained ones reach the saturated ends
    assert encoding.colour(2.0) in {e["c"] for e in after}
    assert not {e["c"] for e in before} & {encoding.colour(0.5), encoding.colour(2.0)}


def _contrast_with_white(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 1.05 / (0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2] + 0.05)


def test_presenter_palette_survives_a_washed_out_projector(karate_trainer):
    assert min(_contrast_with_white(c) for c in render.PRESENTER_PALETTE) >= 3.0     # WCAG graphics
    assert min(_contrast_with_white(c) for c in render.PALETTE) < 1.5               # why it exists
    assert len(set(render.PRESENTER_PALETTE)) == len(render.PRESENTER_PALETTE)
    g, att = karate_trainer.graph, karate_trainer.attention()
    p = render.view(g, att, 0, 0, [0], presenter=True)
    assert p["presenter"] and p["label_px"] > render.view(g, att, 0, 0, [0])["label_px"]
    assert {n["color"] for n in p["nodes"]} <= set(render.PRESENTER_PALETTE)


def _inline_blocks(html):
    """Text of every <script> and <style> element, as an HTML parser splits them."""
    return re.findall(r"<(script|style)[^>]*>(.*?)</\1>", html, flags=re.S | re.I)


def test_inlined_scripts_cannot_end_early_or_open_a_comment(evil_run, monkeypatch):
    g, t = evil_run
    p = render.view(g, t.attention(), 0, 0, [0], predictions=t.predictions().numpy())
    real = render.asset

    def hostile(name):   # a future vis-network or our own script holding the sequences
        extra = {"js": "var s = '</script><script>alert(1)</script>'; var c = '<!-- x -->'; // </SCRIPT >",
                 "css": "/* </style><script>alert(1)</script> */"}[name.rsplit(".", 1)[1]]
        return real(name) + "\n" + extra

    for asset in (real, hostile):
        monkeypatch.setattr(render, "asset", asset)
        html = render.standalone_html(p, "</script><!--")
        blocks = _inline_blocks(html)
        assert [kind for kind, _ in blocks] == ["style", "script", "script", "script", "script"]
        for kind, body in blocks:
            assert not re.search(r"</(script|style)|<!--", body, flags=re.I), (kind, body[-200:])
