from gatviz import RunConfig, graphs, render
from gatviz.choices import head_options, with_choices
from gatviz.training import Trainer

LABELS = {"layer": "Layer", "head": "Head", "layer_of": ["layer 1 of 2", "layer 2 of 2"], "all": "all heads",
          "mean": "mean of heads", "head_n": "head {head}"}


def _trained():
    graph = graphs.load("karate")
    trainer = Trainer(graph, RunConfig(epochs=5, heads=3, device="cpu"))
    trainer.step(5)
    return graph, trainer.attention()


def test_every_layer_and_head_carries_render_views_own_panels():
    graph, att = _trained()
    layouts = render.Layouts(graph)
    for head in ("all", "mean", 1):
        payload = with_choices(graph, att, 0, 0, head, labels=LABELS, layouts=layouts, hops=2, top_k=12)
        c = payload["choices"]
        assert (c["layer"], c["head"], c["heads"], c["options"]) == (0, head, [3, 1], [["all", "mean", 0, 1, 2], [0]])
        for layer in range(att.layers):
            full = render.view(graph, att, 0, layer, [*range(att.heads(layer)), "mean"] if att.heads(layer) > 1
                               else [0], layouts=layouts, hops=2, top_k=12)
            panels = c["panels"][layer] if c["panels"][layer] is not None else payload["panels"]
            assert panels == full["panels"]                         # what the browser draws
            assert c["notes"][layer] == full["note"]
            ids = {n["id"] for n in payload["nodes"]} | {n["id"] for n in c["nodes"]}
            assert {n["id"] for n in full["nodes"]} <= ids           # every node a choice may touch
        shown = render.view(graph, att, 0, 0, [*range(3), "mean"] if head == "all" else [head],
                            layouts=layouts, hops=2, top_k=12)
        assert payload["panels"] == shown["panels"] and payload["nodes"] == shown["nodes"]


def test_the_key_changes_with_the_data_not_with_the_choice():
    graph, att = _trained()
    a = with_choices(graph, att, 0, 0, "all", labels=LABELS, top_k=12)["choices"]["key"]
    assert a == with_choices(graph, att, 0, 1, 0, labels=LABELS, top_k=12)["choices"]["key"]
    assert a != with_choices(graph, att, 1, 0, "all", labels=LABELS, top_k=12)["choices"]["key"]
    assert a != with_choices(graph, att, 0, 0, "all", labels=LABELS, top_k=11)["choices"]["key"]
    assert head_options(att, 1) == [0]
