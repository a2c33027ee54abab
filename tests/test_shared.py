"""A lecture hall on one link: one training per shared run, a bounded, first-come queue."""
import pytest
from streamlit.testing.v1 import AppTest

from ui import shared
from test_app import APP, button, run, wait_epoch


@pytest.fixture
def one_slot(monkeypatch):
    monkeypatch.setattr(shared, "MAX_TRAININGS", 1)
    clock = [100.0]
    monkeypatch.setattr(shared.time, "monotonic", lambda: clock[0])
    shared._running.clear()
    shared._waiting.clear()
    yield clock
    shared._running.clear()
    shared._waiting.clear()


def test_queue_is_first_come_first_served_and_forgets_who_left(one_slot):
    assert shared.try_slot("a") == 0                         # a trains
    assert shared.try_slot("b") == 1 and shared.try_slot("c") == 2
    assert shared.try_slot("b") == 1                          # asking again keeps the place
    shared.release("a")
    assert shared.try_slot("c") == 1                          # c may not jump ahead of b
    assert shared.try_slot("b") == 0 and shared.try_slot("c") == 1
    one_slot[0] += shared.STALE_S + 1                         # c closed its tab and stopped asking
    assert shared.try_slot("d") == 1                          # behind b's running chunk only
    shared.release("b")
    assert shared.try_slot("d") == 0


def test_two_tabs_opening_one_link_cost_one_training():
    before = shared.trainings["shared"]
    link = {"heads": "2", "hidden": "4", "seed": "11", "trained": "6", "node": "3"}
    tabs = []
    for _ in range(2):
        at = AppTest.from_file(APP, default_timeout=60)
        for key, value in link.items():
            at.query_params[key] = value
        tabs.append(run(at))
    first, second = (at.session_state["gv_trainer"] for at in tabs)
    assert shared.trainings["shared"] == before + 1 and first is second and first.epoch == 6
    # the second tab trains on: it gets its own copy, the shared run stays at epoch 6
    tabs[1].session_state["gv_per_update"] = 2
    run(button(tabs[1], "Train").click())
    own = tabs[1].session_state["gv_trainer"]
    wait_epoch(own, 8)   # the update's two epochs, in the tab's training thread
    assert own is not first and own.epoch == 8 and first.epoch == 6
    assert own.graph is first.graph                           # the graph is shared read-only
    run(tabs[0])
    assert tabs[0].session_state["gv_trainer"] is first and first.epoch == 6
    assert not first.model.training          # shared runs stay in eval mode between readers
    tabs[0].switch_page("pages/compare.py")   # hooks and masks go on a copy, never on the shared model
    run(tabs[0])
    assert tabs[0].session_state["gv_trainer"] is not first and first.epoch == 6
