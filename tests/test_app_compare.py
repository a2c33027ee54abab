"""The Compare page, headless (AppTest): every section on a trained karate model."""
import json

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from gatviz import compare, heads

from test_app import APP, button, centre_box, run, train_until_idle, trained_on


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)   # what the ui package sets for the app


@pytest.fixture(scope="module")
def at():
    app = trained_on("pages/compare.py", gv_epochs=10, gv_per_update=5, gv_heads=3)
    run(centre_box(app).set_value("0"))
    return app


def payloads(app) -> list[dict]:
    out = []
    for element in app.get("bidi_component"):
        (data,) = json.loads(element.proto.json)
        out.append(data["payload"])
    return out


def section(app, name):
    return run(app.radio(key="gv_cmp_section").set_value(name))


def test_over_training_scrubs_the_snapshots(at):
    section(at, "Over training")
    trainer = at.session_state["gv_trainer"]
    assert at.select_slider(key="gv_cmp_epoch").options == [str(s.epoch) for s in trainer.snapshots]
    run(at.select_slider(key="gv_cmp_epoch").set_value(5))
    (view,) = payloads(at)
    alpha = trainer.snapshots[0].alpha[0].float()
    edge = view["panels"][0]["edges"][0]
    ei = trainer.attention().edge_index
    k = int(((ei[0] == edge["from"]) & (ei[1] == edge["to"])).nonzero()[0, 0])
    assert edge["a"] == pytest.approx(float(alpha[k].mean()), abs=1e-4)   # head "mean" by default
    assert not at.exception and not at.error


def test_heads_section_shows_similarity_and_ablation(at):
    section(at, "Heads")
    trainer = at.session_state["gv_trainer"]
    frames = [d.value for d in at.dataframe]
    ablation = next(f for f in frames if "ablated" in getattr(f, "columns", []))
    assert len(ablation) == 1 + 3 + 1
    expected = heads.ablation(trainer)
    assert ablation["test_acc"].tolist() == pytest.approx(
        expected[expected["layer"].isna() | (expected["layer"] == 0)]["test_acc"].tolist())


def test_layers_section_rollout_sums_to_one(at):
    section(at, "Layers")
    trainer = at.session_state["gv_trainer"]
    (top,) = [d.value for d in at.dataframe]
    assert top["weight"].sum() == pytest.approx(1.0, abs=1e-6)
    expected = compare.rollout(trainer.attention(), 0)
    assert sorted(top["weight"]) == pytest.approx(sorted(expected[expected > 0]))


def test_edit_section_renormalises_the_first_layer(at):
    section(at, "Edit an edge")
    run(at.selectbox(key="gv_cmp_edit_other").set_value("1"))
    frames = [d.value for d in at.dataframe]
    probs = next(f for f in frames if "class" in f.columns)
    assert probs["after"].sum() == pytest.approx(1.0, abs=1e-6)
    alpha = next(f for f in frames if "change" in f.columns and "name" in f.columns).set_index("name")
    gone = alpha.loc["1", "before"]
    rest = alpha.drop(index="1")
    assert np.isnan(alpha.loc["1", "after"])
    # the head mean re-normalises per head, so compare with the mean of per-head ratios loosely
    assert (rest["after"] > rest["before"]).all() and gone > 0
    assert len(payloads(at)) == 2 and not at.error


def test_matters_section_gives_a_verdict(at):
    section(at, "Does α matter?")
    assert at.success or at.warning
    text = " ".join(t.value for t in at.text)
    assert "GNNExplainer ran" in text and not at.error


def test_models_section_trains_three(at):
    section(at, "Models")
    run(button(at, "Train the three models").click())
    assert len(payloads(at)) == 3 and not at.error and not at.exception
    assert any("Kendall" in t.value for t in at.text)
    assert "Train the three models" not in [b.label for b in at.button]     # gone in the run that trained them


def test_every_section_on_an_upload_with_hostile_names():
    from test_app import HOSTILE
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    run(app.radio(key="gv_source").set_value("Upload"))
    rows = [f'"{a}",hub' for a in HOSTILE] + ["hub,x", "x,y", "y,z", f'z,"{HOSTILE[0]}"']
    app.file_uploader(key="gv_edges_0").upload("edges.csv", "\n".join(rows).encode(), "text/csv")
    run(app)
    app.session_state["gv_per_update"] = 5
    app.session_state["gv_epochs"] = 5
    run(button(app, "Train").click())
    train_until_idle(app)
    app.switch_page("pages/compare.py")
    run(app)
    run(centre_box(app).set_value("hub"))
    for name in ("Over training", "Heads", "Layers", "Edit an edge", "Does α matter?", "Models"):
        section(app, name)
        if name == "Models":
            run(button(app, "Train the three models").click())
        assert not app.error, name
        markdown = " ".join(m.value for m in app.markdown)
        assert not any(h in markdown for h in HOSTILE), name
    assert any(HOSTILE[1] in {n["name"] for n in p["nodes"]} for p in payloads(app))


def test_over_training_on_a_graph_without_validation_nodes_says_so_without_nan():
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    run(app.radio(key="gv_source").set_value("Upload"))
    app.file_uploader(key="gv_edges_0").upload("tiny.csv", b"a,b\nb,c\nc,d\n", "text/csv")
    run(app)
    app.session_state["gv_per_update"] = 5
    app.session_state["gv_epochs"] = 5
    run(button(app, "Train").click())
    train_until_idle(app)
    assert not app.session_state["gv_graph"].data.val_mask.any()
    app.switch_page("pages/compare.py")
    run(app)
    section(app, "Over training")
    shown = [x.value for x in app.text]
    assert any("–" in v for v in shown), shown   # the missing accuracy
    assert not any("nan" in v.lower() for v in shown), shown
