"""The Streamlit app, headless (AppTest): sidebar -> RunConfig -> live training -> the view.

The network view is a components-v2 element, unknown to AppTest: the tests read
the payload it was given from its proto, and the table and session state beside it.
"""
import json
import time
import tomllib
from pathlib import Path

import pyarrow as pa
import pytest
import numpy as np
import torch
from streamlit.testing.v1 import AppTest

import ui

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
HOSTILE = ["**bold**", "<img src=x onerror=alert(1)>", "[a](javascript:alert(1))", ":smile: $x$"]


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)   # what the ui package sets for the app


def start(**state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def run(target, follow: bool = True) -> AppTest:
    """Rerun the app (``target`` is the AppTest or a widget that was just set). A run of the
    page's fragments alone is followed by a full run (below). A run of the view's fragment
    alone (a new centre, hops, edges: ui.network.view_first) is followed, as the browser does
    once it has drawn that view, by a run of the rest (here a full run: AppTest sends no
    component's events)."""
    at = target.run()
    assert not at.exception, at.exception
    if follow and not at.title and not at.session_state["gv_training"]:
        # a run of the page's fragments alone that drew a run done (a Train click's: ui.live.
        # settle_fragments; a tick's: ui.live.show_end): the browser keeps the rest of the page, AppTest shows only what the run
        # sent; a full run shows it all. (While training, the test's next run is the tick.)
        at = at.run()
        assert not at.exception, at.exception
    if follow and any(component_data(e).get("follow") for e in at.get("bidi_component")):   # (the view's)
        at = at.run()
        assert not at.exception, at.exception
    return at


def component_data(element) -> dict:
    """What the network component was given: a list of one dict, sent as plain JSON (a dict's
    values Streamlit would test for data frames, importing pandas: ui/network.py)."""
    proto = element.proto
    assert proto.WhichOneof("data") == "json"
    (data,) = json.loads(proto.json)
    return data


def view_element(at):
    """The network view's element (the page's other component element is its progress column)."""
    (element,) = [e for e in at.get("bidi_component") if "curves" not in component_data(e)]
    return element


def view(at) -> dict:
    """The payload the network component was mounted with."""
    return component_data(view_element(at))["payload"]


def progress(at) -> dict:
    """What the progress column was drawn from (ui.curves.data)."""
    (element,) = [e for e in at.get("bidi_component") if "curves" in component_data(e)]
    return component_data(element)["curves"]


def progress_live(at) -> dict | None:
    """Where the progress column's browser fetches while the run trains (None: it does not)."""
    (element,) = [e for e in at.get("bidi_component") if "curves" in component_data(e)]
    return component_data(element)["live"]


def pick(at, layer=None, head=None) -> AppTest:
    """What the view's own layer / head selectors do (they draw in the browser, then tell the
    page through ui.network._on_pick): the tab's gv_layer / gv_head change."""
    if layer is not None:
        at.session_state["gv_layer"] = layer
    if head is not None:
        at.session_state["gv_head"] = head
    return at


def centre_box(at):
    """The centre's box (a widget of the centre it shows: ui.controls.center_picker)."""
    (box,) = [b for b in at.selectbox if str(b.key).startswith("gv_center_box:")]
    return box


def typed(at, key: str | None, text: str):
    """``text`` typed into a selectbox that accepts new options, as the browser sends it: the text
    itself (AppTest's selectbox only sets values among its options). No key: the centre's box."""
    box = at.selectbox(key=key) if key else centre_box(at)
    assert box.proto.accept_new_options
    if text not in box.options:
        box.options.append(text)
    return box.set_value(text)


def button(at, label):
    (found,) = [b for b in at.button if b.label == label]
    return found


def wait_epoch(trainer, epoch: int, limit: float = 60) -> None:
    """Until the tab's training thread has reached ``epoch`` (a time-out, not a speed check)."""
    deadline = time.monotonic() + limit
    # (the epoch is counted before its history row is appended: wait for both)
    while (trainer.epoch < epoch or len(trainer.history) < epoch) and time.monotonic() < deadline:
        time.sleep(0.02)


def train_until_idle(at, limit=60) -> AppTest:
    """Rerun (as the page's timer does) until the run's thread is done; ``limit`` reruns at
    least, and at most 180 s (a time-out, not a speed check: the machine may be busy)."""
    deadline = time.monotonic() + 180
    for i in range(10_000):
        if not at.session_state["gv_training"]:
            return at
        if i >= limit and time.monotonic() > deadline:
            break
        run(at)
        time.sleep(0.05)
    raise AssertionError("training did not finish")


def trained_on(page: str, query: dict | None = None, **state) -> AppTest:
    """A fresh tab (query parameters and session state set first), trained, then on ``page``."""
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    for key, value in state.items():
        at.session_state[key] = value
    run(at)
    run(at.sidebar.button[0].click())        # Train, in whatever language the tab speaks
    train_until_idle(at)
    at.switch_page(page)
    return run(at)


def curves(at) -> list[str]:
    """Titles of the curves in the progress column."""
    return [chart["title"] for chart in progress(at)["charts"]]


def table(at):
    (frame,) = [d.value for d in at.dataframe]
    return frame


def test_config_is_offline_and_quiet():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["browser"]["gatherUsageStats"] is False
    assert cfg["client"]["toolbarMode"] == "minimal"
    assert cfg["client"]["showErrorDetails"] == "none"
    assert cfg["server"]["enableStaticServing"] is True and cfg["server"]["headless"] is True


def test_first_screen_is_the_karate_view():
    at = start()
    at = run(at)   # a second run keeps the sidebar (a pages/ folder would lose it in AppTest)
    assert [b.label for b in at.sidebar.button] == ["Train", "Stop", "Reset"]
    graph, trainer = at.session_state["gv_graph"], at.session_state["gv_trainer"]
    assert graph.name == "karate" and trainer.epoch == 0
    payload = view(at)
    center = graph.index(at.session_state["gv_center"])
    assert payload["center"] == center and payload["layer"] == 0
    assert [p["head"] for p in payload["panels"]] == [*range(8), "mean"]    # all heads + mean
    assert {n["name"] for n in payload["nodes"]} <= set(graph.names)
    assert not any("wrong" in n for n in payload["nodes"])    # no "wrong prediction" before training
    assert payload["encoding"] == "uniform" and "uniform" in payload["legend"]["title"]
    # the big scripts are served statically; the inline module stays small
    element = view_element(at)
    assert len(element.proto.js_content) < 5000 and "vis.Network" not in element.proto.js_content
    assert len(element.proto.json) < 100_000
    urls = component_data(element)["assets"]["js"]
    assert [u.split("?")[0] for u in urls] == ["/app/static/vis-network.min.js", "/app/static/gatviz-view.js",
                                                 "/app/static/gatviz-live.js", "/app/static/gatviz-curves.js"]
    assert (ROOT / "static" / "vis-network.min.js").stat().st_size > 400_000
    rows = table(at)
    assert len(rows) == graph.degree[center] + 1
    assert abs(rows["alpha"].sum() - 1) < 1e-5
    assert [f"head {h}" for h in range(8)] == [c for c in rows.columns if c.startswith("head ")]
    assert any(t.value.startswith("Zachary's karate club: 34 nodes") for t in at.text)
    assert not at.error


def test_train_stop_resume_and_extend():
    at = start(gv_epochs=6, gv_per_update=2)
    trainer = at.session_state["gv_trainer"]
    run(button(at, "Train").click())
    wait_epoch(trainer, 2)                      # the thread trains one step of 2 epochs, then waits
    time.sleep(0.2)
    assert trainer.epoch == 2 and at.session_state["gv_training"]
    assert button(at, "Train").disabled and not button(at, "Stop").disabled
    assert not at.get("download_button") and not at.dataframe        # while training: view and curves only
    (caption,) = [c.value for c in at.caption if "come back when it stops" in c.value]
    assert f"every {ui.live.tick_span()} s" in caption   # 1.2 s, up to 2.4 s with another tab's run (2 cores)
    run(button(at, "Stop").click())
    assert trainer.epoch == 2 and not at.session_state["gv_training"]
    downloads = at.get("download_button")
    assert len(downloads) == 6 and not any(d.proto.disabled for d in downloads)
    run(at)
    assert trainer.epoch == 2                   # stopped means stopped
    run(button(at, "Train").click())
    train_until_idle(at)
    assert at.session_state["gv_trainer"] is trainer            # resumed, not restarted
    assert trainer.epoch == 6 and [r["epoch"] for r in trainer.history] == list(range(1, 7))
    assert progress(at)["progress"]["text"] == "Epoch 6 of 6 · done"
    assert curves(at) == ["Loss", "Accuracy"]                     # loss and accuracy curves
    assert view(at)["panels"][0]["edges"]                          # the view follows the model
    run(button(at, "Train").click())             # budget reached: Train adds Epochs more
    train_until_idle(at)
    assert trainer.epoch == 12 and at.session_state["gv_trainer"] is trainer
    run(button(at, "Reset").click())
    assert at.session_state["gv_trainer"].epoch == 0 and at.session_state["gv_trainer"] is not trainer


def test_train_runs_in_a_thread_that_stop_ends_between_epochs():
    at = start(gv_epochs=100_000)
    trainer = at.session_state["gv_trainer"]
    run(button(at, "Train").click())
    runner = at.session_state["gv_runner"]
    assert runner.alive and at.session_state["gv_training"]
    deadline = time.monotonic() + 30
    while trainer.epoch < 5 and time.monotonic() < deadline:   # it trains while no script runs
        time.sleep(0.05)
    assert trainer.epoch >= 5
    run(button(at, "Stop").click())
    assert not at.session_state["gv_training"] and not runner.alive
    stopped = trainer.epoch
    time.sleep(0.3)
    assert trainer.epoch == stopped and len(trainer.history) == stopped
    run(button(at, "Train").click())                       # Train resumes the same model
    assert at.session_state["gv_trainer"] is trainer and at.session_state["gv_runner"].alive
    run(button(at, "Stop").click())


def chart_epochs(at) -> list[int]:
    """The epochs of the curves the progress column was drawn from (every series has one value each)."""
    data = progress(at)
    assert all(len(series["values"]) == len(data["x"]) for c in data["charts"] for series in c["series"])
    return data["x"]


def test_the_live_curves_keep_a_fixed_size_and_show_every_epoch_once_stopped():
    from ui.curves import LIVE_POINTS
    at = start(gv_epochs=100_000)
    trainer = at.session_state["gv_trainer"]
    run(button(at, "Train").click())
    wait_epoch(trainer, 2 * LIVE_POINTS)
    run(at)                                                  # a script run while it trains
    shown = chart_epochs(at)
    assert len(shown) == LIVE_POINTS and shown[0] == 1 and shown[-1] >= 2 * LIVE_POINTS
    run(button(at, "Stop").click())
    assert chart_epochs(at) == list(range(1, trainer.epoch + 1))


def test_the_curves_frame_is_there_before_training_and_their_numbers_are_the_run_s():
    """The column is drawn before the first epoch: x spans the budget, accuracy 0 to 1, the
    curves grow across a still frame; every number is the trainer's history's (NaN: a gap)."""
    at = start(gv_epochs=100_000, gv_per_update=2)
    before = progress(at)
    assert before["x_domain"] == [0, 100_000] and "y_domain" not in before["charts"][0]   # loss follows its data
    assert before["charts"][1]["y_domain"] == [0, 1] and before["charts"][1]["percent"]
    assert chart_epochs(at) == [] and "Press **Train**" in before["info"] and before["accuracy"] is None
    run(button(at, "Train").click())
    trainer = at.session_state["gv_trainer"]
    wait_epoch(trainer, 2)
    run(at)                                           # (it may grant the next 2 epochs meanwhile)
    assert chart_epochs(at) in ([1, 2], [1, 2, 3], [1, 2, 3, 4])
    run(button(at, "Stop").click())
    data = progress(at)
    assert data["x_domain"] == [0, 100_000] and data["info"] is None
    loss, acc = data["charts"]
    assert [s["name"] for s in loss["series"]] == ["train", "val"] and [s["name"] for s in acc["series"]] == ["train", "val", "test"]
    for k, row in enumerate(trainer.history):
        assert loss["series"][0]["values"][k] == pytest.approx(row["loss"], abs=1e-5)
        assert acc["series"][2]["values"][k] == pytest.approx(row["test_acc"], abs=1e-5)
    last = trainer.history[-1]
    assert data["accuracy"]["items"][1] == ["val", format(last["val_acc"], ".0%")]


def test_a_short_run_is_drawn_done_by_the_script_run_of_its_train_click():
    at = start(gv_epochs=120)                    # karate: ~0.3 s, under ui.live.FINISH_WAIT_S (1.3 s)
    trainer = at.session_state["gv_trainer"]
    at = run(button(at, "Train").click(), follow=False)   # one script run, no tick: the page is the finished one
    assert not at.title and not at.sidebar.number_input   # ... a run of the page's fragments: no title, no settings
    assert trainer.epoch == 120 and not at.session_state["gv_training"]
    assert progress(at)["progress"]["text"] == "Epoch 120 of 120 · done"
    assert not button(at, "Train").disabled and button(at, "Stop").disabled
    assert len(at.get("download_button")) == 6 and curves(at) == ["Loss", "Accuracy"]
    assert view(at)["panels"][0]["edges"]


def test_a_run_that_fails_is_drawn_by_the_whole_page_whose_banner_says_why(monkeypatch):
    """A Train click's run that ends in an error: not the page's fragments alone (ui.live.
    settle_fragments) but the whole page, whose banner says why in one line; the model stays."""
    from gatviz.errors import GatvizError
    from gatviz.training import Trainer
    real = Trainer.step

    def step(self, epochs=1):
        if self.epoch >= 5:
            raise GatvizError("the GPU ran out of memory")
        return real(self, epochs)

    monkeypatch.setattr(Trainer, "step", step)
    at = start(gv_epochs=120)
    trainer = at.session_state["gv_trainer"]
    at = run(button(at, "Train").click(), follow=False)
    assert at.title and at.sidebar.number_input                   # the whole page ran
    (said,) = [e.value for e in at.error]                         # (escaped as plain text: ui.plain)
    assert said.startswith("Training stopped") and said.endswith("the GPU ran out of memory")
    assert trainer.epoch == 5 and not at.session_state["gv_training"] and at.session_state["gv_trainer"] is trainer
    assert not button(at, "Train").disabled and not at.exception


def test_settings_changed_with_the_train_click_are_the_ones_it_trains():
    """A new budget or a new model typed and Train clicked in one interaction (a slow server
    takes both in one run): the settings are applied first, then that run trains."""
    at = start(gv_epochs=120)
    trainer = at.session_state["gv_trainer"]
    at.number_input(key="gv_epochs").set_value(150)
    run(button(at, "Train").click())             # karate: done within the click's run (ui.live.settle)
    assert at.session_state["gv_trainer"] is trainer and trainer.epoch == 150
    assert not at.session_state["gv_training"] and progress(at)["progress"]["text"] == "Epoch 150 of 150 · done"
    at = start(gv_epochs=120)
    at.number_input(key="gv_heads").set_value(4)
    run(button(at, "Train").click())
    trainer = at.session_state["gv_trainer"]
    assert trainer.config.heads == 4 and trainer.epoch == 120 and not at.session_state["gv_pending"]
    assert progress(at)["progress"]["text"] == "Epoch 120 of 120 · done"


def test_the_train_clicks_run_sends_the_view_on_screen_and_a_tick_later_the_trained_one():
    """The Train click's run resends the view built before it (the browser does not draw it
    again); a run one tick later builds the trained model's."""
    from ui import live
    at = start(gv_epochs=100_000)
    before = view(at)
    trainer = at.session_state["gv_trainer"]
    time.sleep(live.tick_seconds())                # (a view older than a tick, as a person's page has)
    run(button(at, "Train").click())
    assert at.session_state["gv_training"] and view(at) == before and trainer.epoch > 0
    wait_epoch(trainer, 3)
    time.sleep(live.tick_seconds())
    run(at)
    after = view(at)
    assert before["file_stem"].endswith("-epoch0") and int(after["file_stem"].rsplit("-epoch", 1)[1]) >= 3
    run(button(at, "Stop").click())


def test_a_train_click_on_the_explorer_reruns_its_fragments_not_the_page():
    """Train reruns the buttons, the curves and the explorer alone (their timers start there):
    the title and the settings are not sent again. A short run, or settings changed in the
    same interaction, take the whole page's run."""
    at = start(gv_epochs=100_000)
    after = run(button(at, "Train").click())
    assert at.session_state["gv_training"]
    assert not after.title and not after.number_input                        # not the whole page
    assert button(after, "Train").disabled and not button(after, "Stop").disabled
    assert progress(after)["x"] and view(after)["panels"][0]["edges"]       # curves and view follow the run
    assert any("come back when it stops" in c.value for c in after.caption)
    stopped = run(button(after, "Stop").click())                             # Stop: the whole page
    assert not at.session_state["gv_training"] and stopped.title and stopped.number_input
    assert len(stopped.get("download_button")) == 6
    stopped.session_state["gv_heads"] = 2                                     # changed, then Train at once
    changed = run(button(stopped, "Train").click())
    assert changed.title and changed.number_input


def test_a_long_run_is_not_waited_for():
    at = start(gv_epochs=100_000)
    run(button(at, "Train").click())
    runner = at.session_state["gv_runner"]
    assert at.session_state["gv_training"] and runner.alive and not runner.about_to_finish()
    run(button(at, "Stop").click())


def test_epochs_per_update_trains_that_many_epochs_a_tick():
    at = start(gv_epochs=50, gv_per_update=2)
    trainer = at.session_state["gv_trainer"]
    run(button(at, "Train").click())
    wait_epoch(trainer, 2)
    time.sleep(0.5)                                        # no tick meanwhile: no more epochs
    assert trainer.epoch == 2
    run(at)
    wait_epoch(trainer, 4)
    time.sleep(0.3)
    assert trainer.epoch == 4
    run(button(at, "Stop").click())


def test_switch_node_head_layer_without_training():
    at = start(gv_epochs=4, gv_per_update=4)
    run(button(at, "Train").click())
    train_until_idle(at)
    trainer, layouts = at.session_state["gv_trainer"], at.session_state["gv_layouts"]
    graph = at.session_state["gv_graph"]

    run(centre_box(at).set_value("0"))
    assert view(at)["center"] == 0 and len(table(at)) == graph.degree[0] + 1
    run(pick(at, head=3))
    payload = view(at)
    assert [p["head"] for p in payload["panels"]] == [3]
    assert table(at)["alpha"].tolist() == sorted(table(at)["alpha"].tolist(), reverse=True)
    run(pick(at, layer=1))
    payload = view(at)
    assert payload["layer"] == 1 and [p["head"] for p in payload["panels"]] == [0]   # one output head
    run(at.radio(key="gv_hops").set_value(2))
    assert view(at)["hops"] == 2
    run(at.slider(key="gv_top_k").set_value(3))
    assert all(p["shown"] <= 3 < p["total"] for p in view(at)["panels"])
    run(button(at, "Highest degree").click())
    assert at.session_state["gv_center"] == "33" and view(at)["center"] == 33
    run(button(at, "Random").click())
    assert at.session_state["gv_center"] in graph.names
    # no retraining, same layouts, same model
    assert trainer.epoch == 4 and at.session_state["gv_trainer"] is trainer
    assert at.session_state["gv_layouts"] is layouts
    assert not at.error


def test_click_recentres_and_an_unknown_node_is_one_line():
    at = start()
    at.session_state["gv_clicked"] = "5"    # what the component's click callback stores
    run(at)
    assert at.session_state["gv_center"] == "5" and view(at)["center"] == 5
    at.session_state["gv_clicked"] = "[**no** such](javascript:x)"
    run(at)
    # one line, escaped so that the name shows verbatim (no bold, no link)
    message = "unknown node '[**no** such](javascript:x)': the graph has no node of that name"
    assert [e.value for e in at.error] == [ui.plain(message)]
    assert r"\*\*no\*\*" in at.error[0].value and r"\(javascript" in at.error[0].value
    assert at.session_state["gv_center"] == "5" and view(at)["center"] == 5


def follow_token(at):
    return component_data(view_element(at)).get("follow")


def test_a_change_of_centre_or_hops_draws_the_view_first_then_the_page_follows():
    """ui.network.view_first: the view's fragment runs alone (its view sent with a token the
    browser returns once drawn), then the explorer; also while a run trains."""
    at = start(gv_epochs=2, gv_per_update=2)
    run(button(at, "Train").click())
    train_until_idle(at)
    for change, centre in ((lambda: centre_box(at).set_value("0"), 0),
                           (lambda: button(at, "Highest degree").click(), 33),
                           (lambda: at.radio(key="gv_hops").set_value(2), 33)):
        first = run(change(), follow=False)
        assert view(first)["center"] == centre and follow_token(first)
        assert not first.dataframe and not first.get("download_button")   # the view's fragment alone
        after = run(first, follow=False)   # (the browser's "shown": AppTest sends no component events)
        assert view(after)["center"] == centre and not follow_token(after)
        assert f"centre i: {centre}" in [x.value for x in after.text] and len(after.get("download_button")) == 6
        # the box shows the centre set by the click or button, not its own older value
        assert centre_box(after).value == str(centre)
    # a longer budget, applied in a run of its own (as a browser's number input commits before
    # the click): a Train click in the same run adds the applied budget (2), which may end there
    at.session_state["gv_epochs"] = 400
    run(at)
    run(button(at, "Train").click())
    assert at.session_state["gv_training"]
    during = run(at.radio(key="gv_hops").set_value(1), follow=False)   # the same while it trains
    assert at.session_state["gv_training"] and follow_token(during) and view(during)["hops"] == 1
    assert not [e for e in during.get("bidi_component") if "curves" in component_data(e)]   # (the curves are not sent)
    after = run(during, follow=False)
    assert not follow_token(after) and view(after)["hops"] == 1
    run(button(at, "Stop").click())   # (its thread would hold a training slot for the tests after)
    assert not at.session_state["gv_training"]


def test_a_view_that_fails_alone_leaves_one_line_and_no_stale_table(monkeypatch):
    """A view's fragment that fails in its run alone (ui.network.view_first) reruns the page:
    one line in the view's place, the centre's table of the view before it gone, the view's
    controls kept (hops back to 1 brings the view back)."""
    from gatviz import choices
    from gatviz.errors import GatvizError
    real = choices.with_choices

    def failing(*args, **kwargs):
        if kwargs.get("hops") == 2:
            raise GatvizError("no view at 2 hops here")
        return real(*args, **kwargs)

    monkeypatch.setattr(choices, "with_choices", failing)   # (before the page imports it)
    at = start()
    assert at.dataframe
    failed = run(at.radio(key="gv_hops").set_value(2), follow=False)
    assert [e.value for e in failed.error] == ["no view at 2 hops here"]
    assert not failed.dataframe and not [e for e in failed.get("bidi_component") if "curves" not in component_data(e)]
    assert failed.radio(key="gv_hops").value == 2   # the page ran (not the view's fragment alone): controls kept
    back = run(failed.radio(key="gv_hops").set_value(1))
    assert not back.error and view(back)["hops"] == 1 and back.dataframe


def test_changing_settings_asks_before_discarding_a_trained_model():
    at = start(gv_epochs=3, gv_per_update=3)
    run(button(at, "Train").click())
    train_until_idle(at)
    trainer = at.session_state["gv_trainer"]
    assert trainer.epoch == 3

    run(at.number_input(key="gv_heads").set_value(4))
    assert any("heads 8 → 4" in w.value for w in at.warning)
    assert at.session_state["gv_trainer"] is trainer and trainer.config.heads == 8
    assert len(view(at)["panels"]) == 9          # the old model is still shown
    run(button(at, "Keep current model").click())
    assert at.number_input(key="gv_heads").value == 8 and not at.warning
    assert at.session_state["gv_trainer"] is trainer

    run(at.number_input(key="gv_epochs").set_value(10))   # the budget alone never discards
    assert not at.warning and at.session_state["gv_trainer"] is trainer and trainer.remaining == 7
    run(at.number_input(key="gv_epochs").set_value(3))
    assert trainer.remaining == 0 and trainer.epoch == 3

    run(at.number_input(key="gv_heads").set_value(4))      # the same change again asks again
    assert any("heads 8 → 4" in w.value for w in at.warning)
    run(button(at, "Discard trained model and apply").click())
    fresh = at.session_state["gv_trainer"]
    assert fresh is not trainer and fresh.epoch == 0 and fresh.config.heads == 4
    assert [p["head"] for p in view(at)["panels"]] == [0, 1, 2, 3, "mean"] and not at.warning


def test_untrained_model_follows_the_sidebar_at_once():
    at = start(gv_dataset="sbm", gv_sbm_nodes=60, gv_sbm_blocks=3)
    graph = at.session_state["gv_graph"]
    assert graph.num_nodes == 60 and graph.num_classes == 3
    run(at.number_input(key="gv_sbm_nodes").set_value(2))     # 3 blocks > 2 nodes: a one-line error
    assert [e.value for e in at.sidebar.error] == [ui.plain("sbm_blocks (3) cannot exceed sbm_nodes (2)")]
    assert at.session_state["gv_graph"] is graph and view(at)
    run(at.selectbox(key="gv_dataset").set_value("karate"))
    assert at.session_state["gv_graph"].name == "karate"


def test_upload_valid_then_broken_keeps_the_app_and_the_model():
    at = start()
    run(at.radio(key="gv_source").set_value("Upload"))
    assert any("Choose an edge file" in i.value for i in at.sidebar.info)
    rows = [f'"{a}",{b}' for a, b in zip(HOSTILE, ["hub"] * 4)] + ["hub,x", "x,y", "bad row only"]
    at.file_uploader(key="gv_edges_0").upload("edges.csv", "\n".join(rows).encode(), "text/csv")
    run(at)
    graph = at.session_state["gv_graph"]
    assert set(HOSTILE) <= set(graph.names) and graph.report.source.startswith("edges.csv")
    assert any("skipped 1 unreadable row" in t.value for t in at.sidebar.text)
    # names stay text: verbatim in st.text, the selectbox and the payload; never in markdown
    run(centre_box(at).set_value(HOSTILE[1]))
    assert f"centre i: {HOSTILE[1]}" in [t.value for t in at.text]
    assert HOSTILE[1] in {n["name"] for n in view(at)["nodes"]}
    assert HOSTILE[1] in centre_box(at).options
    markdown = " ".join(m.value for m in at.markdown)
    assert not any(name in markdown for name in HOSTILE)

    at.session_state["gv_per_update"] = 2
    run(button(at, "Train").click())
    trainer = at.session_state["gv_trainer"]
    wait_epoch(trainer, 2)   # the update's two epochs (Stop would end the run between them)
    run(button(at, "Stop").click())
    assert trainer.epoch == 2

    at.file_uploader(key="gv_edges_0").set_value(("empty.csv", b"", "text/csv"))
    run(at)
    assert [e.value for e in at.sidebar.error] == [ui.plain("the edge file is empty")]
    # and in the page itself (a projector's sidebar may hide it below the fold)
    assert [e.value for e in at.main.error] == [
        "Not applied (the sidebar says more; what is on screen stays): " + ui.plain("the edge file is empty")]
    # said in place: the file was not applied, and which graph is still on screen
    assert any("not applied" in c.value and "edges.csv" in c.value.replace("\\", "") for c in at.sidebar.caption)
    assert at.session_state["gv_graph"] is graph and at.session_state["gv_trainer"] is trainer

    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    at.file_uploader(key="gv_edges_0").set_value(("picture.png", png, "image/png"))
    run(at)
    errors = [e.value for e in at.sidebar.error]
    assert errors == [ui.plain("the edge file does not look like text: it starts like a PNG image")]
    assert "\n" not in errors[0]
    assert at.session_state["gv_graph"] is graph and at.session_state["gv_trainer"] is trainer
    assert not at.warning and view(at)["nodes"]      # nothing pending, the view still drawn



def test_model_settings_apply_to_the_graph_on_screen_while_a_file_cannot_be_read():
    at = start()
    run(at.radio(key="gv_source").set_value("Upload"))
    at.file_uploader(key="gv_edges_0").upload("ring.csv", b"a;b\nb;c\nc;d\nd;a\n", "text/csv")
    run(at)
    graph = at.session_state["gv_graph"]
    assert graph.names == ["a", "b", "c", "d"]
    at.file_uploader(key="gv_nodes_0").upload("nodes.csv", b"", "text/csv")
    run(at)
    assert [e.value for e in at.sidebar.error] == [ui.plain("the node file is empty")]
    run(at.number_input(key="gv_heads").set_value(2))
    run(at.number_input(key="gv_epochs").set_value(10))
    trainer = at.session_state["gv_trainer"]
    assert at.session_state["gv_graph"] is graph and trainer.graph is graph     # the ring, still
    assert (trainer.config.heads, trainer.config.epochs, trainer.config.dataset) == (2, 10, "upload")
    assert len(view(at)["panels"]) == 3                     # 2 heads and their mean
    assert at.session_state["gv_applied"].values["gv_source"] == "Upload"
    run(at.number_input(key="gv_seed").set_value(7))   # the seed drew the ring's split: it stays
    assert at.session_state["gv_trainer"].config.seed == 0
    assert any("keeps seed 0" in c.value for c in at.sidebar.caption)
    run(at.number_input(key="gv_seed").set_value(0))
    # trained, a further change asks first, as on any graph
    at.session_state["gv_per_update"] = 5
    run(button(at, "Train").click())
    train_until_idle(at)
    assert trainer.epoch == 10
    run(at.number_input(key="gv_heads").set_value(3))
    assert "heads 2 → 3" in at.warning[0].value and at.session_state["gv_trainer"] is trainer
    run(button(at, "Discard trained model and apply").click())
    assert at.session_state["gv_trainer"].config.heads == 3 and at.session_state["gv_graph"] is graph


def test_a_settings_change_while_training_asks_without_a_stale_epoch_count():
    at = start(gv_per_update=2, gv_epochs=50)
    run(button(at, "Train").click())
    trainer = at.session_state["gv_trainer"]
    wait_epoch(trainer, 2)
    run(at)   # (AppTest keeps only what a fragments' run drew: the whole page again, settings included)
    run(at.number_input(key="gv_heads").set_value(3))
    assert at.session_state["gv_training"] and at.session_state["gv_trainer"] is trainer
    (warning,) = [w.value for w in at.warning]
    assert "stops the training and discards its model; until then it trains on" in warning
    assert "epochs" not in warning
    run(button(at, "Stop").click())
    assert "discards the model trained for" in at.warning[0].value


def test_cora_switches_redraw_the_view():
    at = start(gv_dataset="cora", gv_epochs=2, gv_per_update=2)
    run(button(at, "Train").click())
    train_until_idle(at)
    assert at.session_state["gv_graph"].num_nodes == 2708
    run(centre_box(at).set_value("1358"))
    assert view(at)["center"] == 1358
    run(pick(at, head=2))
    assert [p["head"] for p in view(at)["panels"]] == [2] and view(at)["choices"]["head"] == 2
    run(pick(at, layer=1))
    assert view(at)["layer"] == 1 and view(at)["choices"]["layer"] == 1
    run(typed(at, None, "0"))   # Cora's box lists only some names (next test)
    assert view(at)["center"] == 0 and view(at)["layer"] == 1
    # the hub's view with every layer's panels stays under 100 kB (speed: bench/felt.py)
    assert len(view_element(at).proto.json) < 100_000


def test_a_large_graphs_centre_box_lists_some_names_and_takes_any_typed_one():
    from ui.controls import LISTED

    at = start(gv_dataset="karate")
    box = centre_box(at)
    assert len(box.options) == 34 and not box.proto.accept_new_options   # a small graph: every name
    at = start(gv_dataset="cora")
    graph, box = at.session_state["gv_graph"], centre_box(at)
    first = box.value
    centre = graph.index(first)
    sources = graph.data.edge_index[0][graph.data.edge_index[1] == centre].tolist()
    hubs = [graph.names[i] for i in graph.degree.argsort()[::-1][:10]]
    assert box.proto.accept_new_options and len(box.options) == LISTED < graph.num_nodes
    assert box.options[0] == first and {graph.names[i] for i in sources} | set(hubs) <= set(box.options)
    assert "0" not in box.options
    # typed (the browser sends the text): a name of the graph, with spaces or in another case
    for text, centre in (("0", 0), (" 1358 ", 1358)):
        run(typed(at, None, text))
        assert view(at)["center"] == centre and centre_box(at).value == str(centre)
        assert not at.error
    # the centres seen before stay listed, newest first
    options = centre_box(at).options
    assert options[:3] == ["1358", "0", first]
    # not a node: one line, the centre stays, the view too
    run(typed(at, None, "no such paper <b>"))
    (error,) = at.error
    assert "unknown node" in error.value and "\n" not in error.value and "<b>" not in error.value
    assert view(at)["center"] == 1358 and centre_box(at).value == "1358"


def test_switching_pages_keeps_graph_settings_model_and_node():
    at = start(gv_epochs=3, gv_per_update=3)
    run(at.number_input(key="gv_heads").set_value(4))
    run(at.number_input(key="gv_hidden").set_value(5))
    run(at.radio(key="gv_model").set_value("gatv2"))
    run(button(at, "Train").click())
    train_until_idle(at)
    trainer, graph = at.session_state["gv_trainer"], at.session_state["gv_graph"]
    assert trainer.epoch == 3 and trainer.config.heads == 4 and trainer.config.model == "gatv2"
    run(centre_box(at).set_value("5"))
    run(pick(at, layer=1))

    at.switch_page("pages/explain.py")
    run(at)
    assert at.session_state["gv_trainer"] is trainer and at.session_state["gv_graph"] is graph
    assert at.number_input(key="gv_heads").value == 4 and at.number_input(key="gv_hidden").value == 5
    assert at.radio(key="gv_model").value == "gatv2" and at.number_input(key="gv_epochs").value == 3
    assert centre_box(at).value == "5" and at.selectbox(key="gv_layer").value == 1
    assert not at.warning and not at.error and not at.exception
    assert any(t.value.startswith("centre i: 5  ·  layer 2 of 2") for t in at.text)
    assert len(at.latex) >= 4
    run(at)   # a second run on the page keeps everything too
    assert at.number_input(key="gv_heads").value == 4 and at.session_state["gv_trainer"] is trainer

    at.switch_page("pages/explorer.py")
    run(at)
    assert at.session_state["gv_trainer"] is trainer and trainer.epoch == 3
    assert at.number_input(key="gv_heads").value == 4 and at.radio(key="gv_model").value == "gatv2"
    assert at.session_state["gv_center"] == "5" and view(at)["center"] == 5 and view(at)["layer"] == 1
    assert not at.warning


@pytest.mark.parametrize("model", ["gat", "gatv2"])
def test_explain_page_numbers_are_the_models(model):
    at = start(gv_epochs=4, gv_per_update=4, gv_model=model)
    run(button(at, "Train").click())
    train_until_idle(at)
    trainer, graph = at.session_state["gv_trainer"], at.session_state["gv_graph"]
    at.switch_page("pages/explain.py")
    run(at)
    run(centre_box(at).set_value("0"))
    run(at.selectbox(key="gv_step_head").set_value(2))
    frames = [d.value for d in at.dataframe]
    softmax = next(f for f in frames if "alpha" in f.columns)
    att = trainer.attention()
    edges = att.incoming(0)
    expected = dict(zip((graph.names[j] for j in att.edge_index[0].numpy()[edges]),
                        att.alpha[0][edges, 2].numpy()))
    assert len(softmax) == graph.degree[0] + 1 and abs(softmax["alpha"].sum() - 1) < 1e-5
    for name, alpha in zip(softmax["name"], softmax["alpha"]):
        assert abs(alpha - expected[name]) < 1e-6
    run(at.selectbox(key="gv_layer").set_value(1))       # the output layer: logits and a prediction
    logits = next(f for f in (d.value for d in at.dataframe) if "logit" in f.columns)
    model_logits = trainer._logits[0].numpy()
    assert np.allclose(logits["logit"].to_numpy(), model_logits, atol=1e-5)
    assert any(t.value.startswith("predicted: ") for t in at.text) and not at.error


def test_a_link_rebuilds_the_view_with_the_clis_alpha(tmp_path, capsys):
    from gatviz import cli
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in {"heads": "4", "hidden": "6", "seed": "3", "trained": "12", "node": "5",
                       "layer": "1", "head": "2", "hops": "2", "encoding": "absolute"}.items():
        at.query_params[key] = value
    run(at)
    trainer = at.session_state["gv_trainer"]
    assert trainer.epoch == 12 and trainer.config.heads == 4 and trainer.config.hidden == 6
    assert trainer.config.seed == 3 and not at.warning
    payload = view(at)
    assert payload["center"] == 5 and payload["layer"] == 0 and payload["hops"] == 2
    assert [p["head"] for p in payload["panels"]] == [2] and payload["encoding"] == "absolute"
    app_alpha = dict(zip(table(at)["name"], table(at)["alpha"]))
    # the same run from the command line, and its explain output
    assert cli.main(["train", "--dataset", "karate", "--heads", "4", "--hidden", "6", "--seed", "3",
                     "--epochs", "12", "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    assert cli.main(["explain", str(tmp_path / "run"), "--node", "5", "--layer", "1", "--head", "2",
                     "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    cli_alpha = {row["name"]: row["alpha"] for row in out["neighbours"]} | {"5": out["self_alpha"]}
    assert set(cli_alpha) == set(app_alpha)
    assert max(abs(cli_alpha[n] - app_alpha[n]) for n in cli_alpha) < 1e-6
    # the address bar follows the view
    params = dict(at.query_params)
    assert params["trained"] == ["12"] or params["trained"] == "12"


def test_the_link_to_the_view_is_drawn_once_its_expander_is_opened():
    """Folded, the link is not drawn (its code box costs the browser ~0.26 s per page load);
    opened, it names the view's settings."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["node"] = "5"
    run(at)
    assert [e.label for e in at.expander if e.label == "Link to this view"] and not at.code
    at.session_state["gv_link_open"] = True   # (the browser's click on the expander)
    run(at)
    (code,) = at.code
    assert code.value.startswith("?") and "node=5" in code.value and "layer=1" in code.value
    assert code.language == "plaintext"   # nothing to highlight


def test_a_link_with_bad_parameters_applies_the_rest():
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in {"heads": "many", "layers": "99", "colour": "red", "hidden": "5",
                       "dataset": "upload", "node": "no such node", "layer": "3", "head": "11"}.items():
        at.query_params[key] = value
    run(at)
    (warning,) = [w.value for w in at.warning]
    for name in ("heads", "layers", "colour", "uploaded graph", "layer must be from 1 to 2, not 3",
                 "head must be from 0 to 7 in layer 1, not 11", "node 'no such node' is not in the graph"):
        assert name in warning.replace("\\", "")
    assert at.session_state["gv_trainer"].config.hidden == 5          # the rest applied
    assert at.session_state["gv_trainer"].config.heads == 8
    assert at.session_state["gv_graph"].name == "karate" and view(at)   # an unknown node: the default centre


def test_a_link_naming_what_the_pages_do_not_have_says_so_and_draws_the_rest():
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in {"dataset": "nope", "model": "gcn", "lang": "xx", "section": "Nowhere", "hidden": "5",
                       "node": "5"}.items():
        at.query_params[key] = value
    run(at)
    (warning,) = [w.value.replace("\\", "") for w in at.warning]
    for name in ("unknown dataset 'nope'", "model must be gat or gatv2 (a GCN has no attention to show)",
                 "lang must be en or zh, not 'xx'", "section must be one of Over training"):
        assert name in warning
    assert "node" not in warning                                      # node 5 is one of karate's
    trainer = at.session_state["gv_trainer"]
    assert trainer.config.dataset == "karate" and trainer.config.model == "gat" and trainer.config.hidden == 5
    assert at.selectbox(key="gv_dataset").value == "karate" and view(at)["center"] == 5
    assert [b.label for b in at.sidebar.button][:3] == ["Train", "Stop", "Reset"] and not at.sidebar.error


def test_presenter_mode_from_a_link():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["presenter"] = "1"
    run(at)
    assert view(at)["presenter"] and at.toggle(key="gv_presenter").value
    at.switch_page("pages/explain.py")
    run(at)
    headers = [h.value for h in at.main.header]
    assert headers == ["1 · Shared linear map: z = W h"]          # one step per screen
    run(button(at, "Next →").click())
    assert [h.value for h in at.main.header] == ["2 · Score every input: e_ij"]
    run(button(at, "← Back").click())
    assert [h.value for h in at.main.header] == ["1 · Shared linear map: z = W h"]


def test_dictionary_gatv2_finds_the_matching_key_in_the_app():
    at = start()
    run(at.selectbox(key="gv_dataset").set_value("dictionary"))
    # the task's settings are applied with the dataset (one layer, 8 output heads, no dropout, ...)
    assert at.number_input(key="gv_layers").value == 1 and at.number_input(key="gv_out_heads").value == 8
    assert any("Settings this task needs" in c.value for c in at.sidebar.caption)
    run(at.radio(key="gv_model").set_value("gatv2"))
    at.session_state["gv_per_update"] = 20
    run(button(at, "Train").click())
    train_until_idle(at, limit=40)
    trainer, graph = at.session_state["gv_trainer"], at.session_state["gv_graph"]
    assert trainer.epoch == 150 and trainer.history[-1]["test_acc"] >= 0.95
    center = graph.index(at.session_state["gv_center"])
    assert int(graph.data.key_of[center]) >= 0                  # the default centre is a query
    run(pick(at, head="mean"))
    payload = view(at)
    key = int(graph.data.key_of[center])
    widest = max(payload["panels"][0]["edges"], key=lambda e: e["w"])
    assert widest["from"] == key and widest["to"] == center and widest["u"] > 2   # the matching key stands out
    note = next(t.value for t in at.text if "matching key" in t.value)
    assert "test queries" in note
    run(at.selectbox(key="gv_dataset").set_value("karate"))      # the task's settings go back
    assert at.number_input(key="gv_layers").value == 2 and at.number_input(key="gv_out_heads").value == 1


def _cli_alpha(run, node, capsys):
    from gatviz import cli
    capsys.readouterr()
    assert cli.main(["explain", str(run), "--node", node, "--head", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    return {row["name"]: row["alpha"] for row in out["neighbours"]} | {node: out["self_alpha"]}


def test_runs_round_trip_between_the_app_and_the_cli(tmp_path, capsys):
    from gatviz import cli, runzip
    # app download -> CLI
    at = start(gv_epochs=5, gv_per_update=5)
    run(button(at, "Train").click())
    train_until_idle(at)
    run(centre_box(at).set_value("5"))
    run(pick(at, head=0))
    app_alpha = dict(zip(table(at)["name"], table(at)["alpha"]))
    data = ui.runfiles.download_bytes(at.session_state["gv_applied"], at.session_state["gv_trainer"])
    (tmp_path / "app-run.zip").write_bytes(data)
    assert _cli_alpha(tmp_path / "app-run.zip", "5", capsys) == app_alpha

    # CLI -> app upload ("Open run"): the same model, not retrained
    assert cli.main(["train", "--dataset", "karate", "--epochs", "7", "--heads", "3", "--seed", "2",
                     "--snapshot-every", "2", "--out", str(tmp_path / "cli-run")]) == 0
    cli_alpha = _cli_alpha(tmp_path / "cli-run", "5", capsys)
    at = start()
    run(at.radio(key="gv_source").set_value("Run"))
    assert any("Choose a run zip" in i.value for i in at.sidebar.info)
    at.file_uploader(key="gv_runzip_0").upload("cli-run.zip", runzip.pack(tmp_path / "cli-run"), "application/zip")
    run(at)
    trainer = at.session_state["gv_trainer"]
    assert trainer.epoch == 7 and len(trainer.history) == 7 and trainer.config.heads == 3
    assert at.number_input(key="gv_heads").value == 3 and not at.warning     # the sidebar shows the run's settings
    assert any("Opened run cli-run.zip: 7 epochs" in c.value.replace("\\", "") for c in at.sidebar.caption)   # not a member
    run(centre_box(at).set_value("5"))
    run(pick(at, head=0))
    assert dict(zip(table(at)["name"], table(at)["alpha"])) == cli_alpha
    assert at.session_state["gv_trainer"] is trainer                        # nothing retrained
    # no file chosen yet under Upload: the run on screen stays, and nothing asks about the run's own
    # settings the sidebar has no field for (it was trained with --snapshot-every 2)
    run(at.radio(key="gv_source").set_value("Upload"))
    assert at.session_state["gv_trainer"] is trainer and not at.warning
    run(at.number_input(key="gv_heads").set_value(2))
    assert "heads 3 → 2" in at.warning[0].value and "snapshot" not in at.warning[0].value


def test_a_hostile_run_zip_is_one_line_and_changes_nothing(tmp_path):
    import io
    import zipfile
    at = start()
    graph, trainer = at.session_state["gv_graph"], at.session_state["gv_trainer"]
    run(at.radio(key="gv_source").set_value("Run"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("../evil.txt", "x")
        z.writestr("config.json", "{}")
    at.file_uploader(key="gv_runzip_0").upload("evil.zip", buffer.getvalue(), "application/zip")
    run(at)
    (error,) = [e.value for e in at.sidebar.error]
    assert "unsafe path" in error.replace("\\", "") and "\n" not in error
    assert at.session_state["gv_graph"] is graph and at.session_state["gv_trainer"] is trainer
    assert not (tmp_path.parent / "evil.txt").exists() and view(at)


def test_a_gcn_run_zip_is_refused_in_one_line(tmp_path):
    from gatviz import cli, runzip
    assert cli.main(["train", "--dataset", "karate", "--model", "gcn", "--epochs", "3",
                     "--out", str(tmp_path / "gcn")]) == 0
    at = start()
    graph, trainer = at.session_state["gv_graph"], at.session_state["gv_trainer"]
    run(at.radio(key="gv_source").set_value("Run"))
    at.file_uploader(key="gv_runzip_0").upload("gcn.zip", runzip.pack(tmp_path / "gcn"), "application/zip")
    run(at)
    (error,) = [e.value.replace("\\", "").replace("\u2060", "") for e in at.sidebar.error]
    assert error.startswith("gcn.zip is a GCN run: it has no attention to show") and "\n" not in error
    assert at.session_state["gv_graph"] is graph and at.session_state["gv_trainer"] is trainer and view(at)


def test_keep_current_model_puts_back_the_file_the_model_was_trained_on():
    at = start(gv_per_update=2)
    run(at.radio(key="gv_source").set_value("Upload"))
    at.file_uploader(key="gv_edges_0").upload("first.csv", b"a,b\nb,c\nc,a\nc,d\n", "text/csv")
    run(at)
    run(button(at, "Train").click())
    run(button(at, "Stop").click())
    trainer = at.session_state["gv_trainer"]
    at.file_uploader(key="gv_edges_0").upload("second.csv", b"x,y\ny,z\n", "text/csv")
    run(at)
    assert any("the graph" in w.value for w in at.warning)            # asks before discarding
    run(button(at, "Keep current model").click())
    assert at.session_state["gv_trainer"] is trainer
    assert not any("Settings changed" in w.value for w in at.warning)
    # the uploader was renewed (it cannot be set), and the report describes the model's file again
    assert at.file_uploader(key="gv_edges_1").value is None
    assert any(t.value.startswith("first.csv") for t in at.sidebar.text)
    assert not any("second.csv" in t.value for t in at.sidebar.text)


def test_a_link_to_the_dictionary_takes_its_settings_unless_it_says_otherwise():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["dataset"] = "dictionary"
    at.query_params["lr"] = "0.01"
    run(at)
    config = at.session_state["gv_trainer"].config
    assert config.dataset == "dictionary" and config.layers == 1 and config.out_heads == 8
    assert config.dropout == 0.0 and config.lr == 0.01          # the link's own value wins


def test_a_link_opens_the_compare_page_at_a_section_and_snapshot_epoch():
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in {"trained": "10", "section": "Over training", "epoch": "5", "node": "0"}.items():
        at.query_params[key] = value
    run(at)
    at.switch_page("pages/compare.py")
    run(at)
    assert at.radio(key="gv_cmp_section").value == "Over training"
    assert at.session_state["gv_cmp_epoch"] == 5 and not at.exception
    bad = AppTest.from_file(APP, default_timeout=60)
    bad.query_params["trained"] = "4"
    bad.query_params["section"] = "Nowhere"
    run(bad)
    bad.switch_page("pages/compare.py")
    run(bad)
    assert bad.radio(key="gv_cmp_section").value == "Over training" and not bad.exception


def test_the_sidebar_is_drawn_when_the_explorer_fails(monkeypatch):
    """The Explorer draws the sidebar last (its settings are applied first): a failure in the
    view below still leaves the settings and Train / Stop / Reset on the page."""
    at = start()
    assert [b.label for b in at.sidebar.button][:3] == ["Train", "Stop", "Reset"]

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the view")
    monkeypatch.setattr("gatviz.exports.attention_table", broken)
    at.run()
    assert at.exception                                                  # the page says it failed
    assert [b.label for b in at.sidebar.button][:3] == ["Train", "Stop", "Reset"]
    assert at.selectbox(key="gv_dataset").value == "karate"


def test_a_node_file_chosen_while_the_edge_uploader_is_empty_goes_with_the_earlier_edge_file():
    at = start()
    run(at.radio(key="gv_source").set_value("Upload"))
    at.file_uploader(key="gv_edges_0").upload("ring.csv", b"a,b\nb,c\nc,d\nd,a\n", "text/csv")
    run(at)
    assert at.session_state["gv_graph"].class_names[0].startswith("community")
    at.switch_page("pages/explain.py")              # another page's uploaders start empty
    run(at)
    assert at.file_uploader(key="gv_edges_0").value is None
    at.file_uploader(key="gv_nodes_0").upload("nodes.csv", b"node,label\na,x\nb,x\nc,y\nd,y\n", "text/csv")
    run(at)
    graph = at.session_state["gv_graph"]
    assert graph.names == ["a", "b", "c", "d"] and graph.class_names == ["x", "y"]
    assert any("uploaded earlier" in c.value for c in at.sidebar.caption)
    assert at.session_state["gv_upload"].edges_name == "ring.csv"


def test_the_graphs_warnings_are_in_the_page_not_only_in_the_sidebar():
    at = start()
    run(at.radio(key="gv_source").set_value("Upload"))
    at.file_uploader(key="gv_edges_0").upload("ring.csv", b"1,2\n2,3\n3,4\n4,5\n5,1\n", "text/csv")
    at.file_uploader(key="gv_nodes_0").upload("names.csv", b"1,Ann\n2,Bob\n3,Cy\n4,Di\n5,Ed\n", "text/csv")
    run(at)
    said = [w.value.replace("\\", "") for w in at.main.warning]   # (markdown-escaped: plain text)
    assert any("every node has a class of its own (5 classes)" in w for w in said)
    assert sum("no validation nodes" in w for w in said) == 1          # the report's and the run's: once
