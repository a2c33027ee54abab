"""ui.feed: while a tab's run trains, its browser fetches the run's newest view at a route of
the server (no script run per redraw). The route's answer is the page's own view."""
import json
import threading
import time

import pytest
import torch
from starlette.requests import Request

from tests.test_app import button, component_data, progress, progress_live, run, start, view, view_element
from ui import feed, live


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)   # what the ui package sets for the app


def ask(token: str, after=None):
    """The route as Starlette calls it: (status, JSON body)."""
    query = b"" if after is None else f"after={after}".encode()
    request = Request({"type": "http", "method": "GET", "path": feed.url(token), "query_string": query,
                       "headers": [], "path_params": {"token": token}})
    response = feed.endpoint(request)
    assert response.headers["cache-control"] == "no-store"
    return response.status_code, json.loads(response.body)


def test_a_feed_builds_a_view_at_most_once_a_tick_and_only_for_a_new_epoch():
    epoch, built, done = [3], [], threading.Event()

    def build():
        built.append(epoch[0])
        return {"epoch": epoch[0], "name": "<b>x</b>"}

    one = feed.Feed("key", build, done=done, epoch=lambda: epoch[0], every=lambda: 0.3,
                    words=lambda p: {**p, "lang": "zh"}, first={"epoch": 0})
    assert one.view() == ({"epoch": 0}, -1)          # the view on screen when the run started, within a tick
    time.sleep(0.3)
    assert one.view() == ({"epoch": 3, "name": "<b>x</b>"}, 3) and built == [3]
    epoch[0] = 4
    assert one.view()[1] == 3 and built == [3]       # a new epoch, but within a tick of the last build
    time.sleep(0.3)
    assert one.view()[1] == 4
    time.sleep(0.3)
    assert one.view()[1] == 4 and built == [3, 4]    # a tick later, the same epoch: not built again
    assert one.answer(after=None)["payload"]["lang"] == "zh"   # in the tab's language
    assert one.answer(after=4) == {"epoch": 4, "every": 0.3, "payload": None}   # the browser has it


def test_the_route_answers_a_training_tab_s_token_only_and_escapes_names():
    tab, done = feed.Tab(), threading.Event()
    assert ask(tab.token) == (200, {"done": True})                     # no run trains there
    assert ask("not-a-token") == (200, {"done": True})
    tab.feed = feed.Feed("key", lambda: {"name": "</script><img src=x onerror=alert(1)>"}, done=done,
                         epoch=lambda: 1, every=lambda: 1.2, words=lambda p: p)
    request = Request({"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": [],
                       "path_params": {"token": tab.token}})
    raw = feed.endpoint(request).body.decode()
    assert "<" not in raw and ">" not in raw                           # JSON safe inside HTML as well
    status, body = ask(tab.token)
    assert status == 200 and body["epoch"] == 1 and body["payload"]["name"].startswith("</script>")
    assert ask(tab.token, after=1)[1]["payload"] is None
    assert ask(tab.token, after="x")[1]["payload"] is not None         # a malformed query: sent in full
    def broken():
        raise RuntimeError("CUDA out of memory")

    tab.feed = feed.Feed("key2", broken, done=done, epoch=lambda: 2, every=lambda: 1.2, words=lambda p: p)
    request = Request({"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": [],
                       "path_params": {"token": tab.token}})
    assert feed.endpoint(request).status_code == 500                   # asked again a tick later
    done.set()                                                         # the run has ended
    assert ask(tab.token)[1] == {"done": True}
    token = tab.token
    del tab
    assert ask(token)[1] == {"done": True}                                        # the session is gone


def test_the_app_routes_the_feed_under_the_server_s_base_path():
    view_route, curves_route = feed.routes("/lecture/")
    assert view_route.path == "/lecture/gatviz/live/{token}" and feed.url("abc", "lecture") == "/lecture/gatviz/live/abc"
    assert curves_route.path == "/lecture/gatviz/live/{token}/curves"
    assert feed.url("abc", "lecture", feed.CURVES_ROUTE) == "/lecture/gatviz/live/abc/curves"
    assert [r.path for r in feed.routes()] == [feed.ROUTE, feed.CURVES_ROUTE] == ["/gatviz/live/{token}",
                                                                                   "/gatviz/live/{token}/curves"]


def ask_curves(token: str, wait: bool = False):
    """The curves route as Starlette calls it: (status, JSON body)."""
    request = Request({"type": "http", "method": "GET", "path": feed.url(token, route=feed.CURVES_ROUTE),
                       "query_string": b"wait=1" if wait else b"", "headers": [], "path_params": {"token": token}})
    response = feed.curves_endpoint(request)
    assert response.headers["cache-control"] == "no-store"
    return response.status_code, json.loads(response.body)


class FakeRun:
    """What ui.feed.Curves asks of a run (ui.live.Runner's methods)."""

    def __init__(self):
        self.done, self.ending, self.seen, self.waited = threading.Event(), False, 0, []

    def seen_now(self):
        self.seen += 1

    def about_to_finish(self, horizon):
        return self.ending

    def wait_end(self, horizon):
        self.waited.append(horizon)
        self.done.set()   # (it has ended meanwhile)


def test_the_curves_route_keeps_the_run_alive_says_when_it_ends_soon_and_waits_for_the_end():
    tab, run_ = feed.Tab(), FakeRun()
    assert ask_curves(tab.token) == (200, {"done": True})             # no run trains there
    built = []
    tab.curves = feed.Curves(lambda: built.append(1) or {"progress": {"text": "</script>"}}, run_,
                             every=lambda: 2.4, horizon=lambda: 2.5)
    status, body = ask_curves(tab.token)
    assert status == 200 and body == {"every": 2.4, "curves": {"progress": {"text": "</script>"}}, "soon": False}
    assert run_.seen == 1 and built == [1]                              # the tab is alive; built at every ask
    run_.ending = True
    assert ask_curves(tab.token)[1]["soon"] is True                     # ask again at once, with wait
    assert ask_curves(tab.token, wait=True) == (200, {"done": True}) and run_.waited == [2.5]
    assert run_.seen == 3


def test_the_curves_route_waits_for_a_real_run_s_end():
    """ui.live.Runner.wait_end: a run that ends within the horizon is waited for, and the answer
    that follows is the end ({"done": true})."""
    at = start(gv_epochs=60)                 # karate: ~0.1 s
    trainer = at.session_state["gv_trainer"]
    runner = live.Runner(trainer, "test-feed")
    tab = feed.Tab()
    tab.curves = feed.Curves(lambda: {}, runner, every=lambda: 1.2, horizon=lambda: 1.3)
    assert ask_curves(tab.token, wait=True) == (200, {"done": True}) and trainer.epoch == 60


def test_while_a_run_trains_the_page_tells_the_view_where_to_fetch_and_both_send_the_same_view():
    """Stepping (5 epochs per update): the model stands still between two ticks, so the page's
    view and the fetched one can be compared at one epoch."""
    at = start(gv_epochs=100_000, gv_per_update=5)
    at = run(button(at, "Train").click())
    data = component_data(view_element(at))
    live_data, token = data["live"], at.session_state["gv_live"].token
    assert live_data["url"] == feed.url(token) and live_data["every"] == pytest.approx(live.TICK_S)
    trainer = at.session_state["gv_trainer"]
    deadline = time.monotonic() + 30
    while trainer.epoch < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(live.TICK_S)
    status, body = ask(token)
    assert status == 200 and body["epoch"] == 5
    assert body["payload"]["file_stem"].endswith("-epoch5")
    at = run(at)                                                       # a rerun of the page meanwhile
    assert view(at) == body["payload"]                                 # the same view, not built again
    stopped = run(button(at, "Stop").click())
    assert component_data(view_element(stopped))["live"] is None   # no fetch once stopped
    assert stopped.session_state["gv_live"].feed is None               # (nor a trainer held for one)
    assert ask(token)[1] == {"done": True}


def test_a_run_training_on_its_own_has_its_curves_fetched_and_no_timer():
    """Epochs per update auto: the progress column's browser fetches the run's curves every tick
    (no timer, no script run per tick); the answer is the page's own column at a later epoch."""
    at = start(gv_epochs=100_000)
    at = run(button(at, "Train").click())
    token = at.session_state["gv_live"].token
    fetched = progress_live(at)
    assert fetched == {"url": feed.url(token, route=feed.CURVES_ROUTE), "every": pytest.approx(live.tick_seconds())}
    assert at.session_state["gv_tick"] is None                         # no timer
    trainer = at.session_state["gv_trainer"]
    deadline = time.monotonic() + 30
    while trainer.epoch < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    status, body = ask_curves(token)
    assert status == 200 and body["soon"] is False and body["every"] == pytest.approx(live.tick_seconds())
    shown = body["curves"]
    assert shown["x"][-1] >= 5 and shown["progress"]["text"].startswith(f"Epoch {shown['x'][-1]} of 100000 · training")
    assert shown.keys() == progress(at).keys()
    stopped = run(button(at, "Stop").click())
    assert progress_live(stopped) is None and stopped.session_state["gv_live"].curves is None
    assert ask_curves(token)[1] == {"done": True}
