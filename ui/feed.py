"""The Explorer's view while its run trains, fetched by the browser: no script run per redraw.

A script run, even a fragment's, re-renders every element of the page in the browser
(Streamlit's run state changes at its start and end): on Cora, ~1,000 React components three
times per run. While a tab's run trains, its view no longer has a timer of its own: the view
component (network.js) asks this server for the newest view every tick, at
``/gatviz/live/<token>`` (:data:`ROUTE`, a route of app.py's ``st.App``), and draws it in
place. The progress column (ui.curves) asks likewise at ``/gatviz/live/<token>/curves``
(:data:`CURVES_ROUTE`, :class:`Curves`): its fetch keeps the run going (the tab is alive), and
the one that finds the run ended tells the page, whose run of the Explorer's fragments draws it
done. A fetch asked with ``?wait=1`` (the last answer said the run ends within a tick) is
answered once the run has ended.

A tab's token is random (128 bits) and known only to its page; it gives the view of its run
while the run trains, and nothing else (the route answers {"done": true} when no run trains
there, as for a token it does not know).
The response is the payload the page itself would have drawn, built by the page's own
function for the tab's centre, layer, head and options at the time (:class:`Feed`).

This module imports no torch: app.py reads it as the server starts.
"""
from __future__ import annotations

import secrets
import threading
import time
import traceback
import weakref
from collections.abc import Callable

ROUTE = "/gatviz/live/{token}"
CURVES_ROUTE = "/gatviz/live/{token}/curves"


class Tab:
    """A tab's token and the feed of its training run (in its session state: ``gv_live``)."""

    def __init__(self):
        self.token = secrets.token_urlsafe(16)
        self.feed: Feed | None = None
        self.curves: Curves | None = None
        _tabs[self.token] = self


# token -> the tab's Tab, while its session holds it
_tabs: "weakref.WeakValueDictionary[str, Tab]" = weakref.WeakValueDictionary()


def url(token: str, base: str = "", route: str = ROUTE) -> str:
    """The path the browser asks (``base``: Streamlit's ``server.baseUrlPath``)."""
    base = base.strip("/")
    return ("/" + base if base else "") + route.format(token=token)


class Feed:
    """The newest view of a training run for one choice of centre, layer, head and options
    (``key``): ``build()`` makes it (the page's own function), at most once a tick (``every()``
    seconds: the browser asks once a tick) and only for a new epoch. The page's runs while
    training send the same view (:meth:`view`), so a rerun never draws an older one than the
    browser fetched."""

    def __init__(self, key, build: Callable[[], dict], *, done: threading.Event, epoch: Callable[[], int],
                 every: Callable[[], float], words: Callable[[dict], dict], first: dict | None = None,
                 trainer=None):
        # done: the run's event, set once it has ended (a new run of the same trainer takes the
        # feed over: ui.live.start); trainer: the model it shows
        self.key, self.done, self.trainer = key, done, trainer
        self._build, self._epoch, self._every, self._words = build, epoch, every, words
        self._lock = threading.Lock()
        # a view of this key built before the run started counts as built now: the Train click's
        # run sends the view on screen (not drawn again), the first fetch a tick later the trained one
        self._payload, self._at, self._epoch_of = first, time.monotonic(), None if first is None else -1

    def view(self) -> tuple[dict, int]:
        """(payload, its epoch): the one built last if it is younger than a tick or the model
        has not moved since, else a new one."""
        with self._lock:
            epoch = self._epoch()
            due = time.monotonic() - self._at >= self._every() - 0.05   # (a fetch a tick later finds it due)
            if self._payload is None or (epoch != self._epoch_of and due):
                self._payload, self._at, self._epoch_of = self._build(), time.monotonic(), epoch
            return self._payload, self._epoch_of

    def answer(self, after: int | None) -> dict:
        """What the route sends: the view, unless the browser has that epoch's already."""
        payload, epoch = self.view()
        return {"epoch": epoch, "every": self._every(),
                "payload": None if epoch == after and epoch >= 0 else self._words(payload)}


class Curves:
    """The progress column's data while a tab's run trains: ``build()`` makes it (ui.curves.data,
    the page's words), at every fetch. ``runner``: the run (ui.live.Runner); ``every()``: the
    tick, s; ``horizon()``: a run that ends within this is waited for (ui.live)."""

    def __init__(self, build: Callable[[], dict], runner, *, every: Callable[[], float],
                 horizon: Callable[[], float]):
        self.runner, self._build, self._every, self._horizon = runner, build, every, horizon

    def answer(self, wait: bool = False) -> dict | None:
        """{every, curves, soon}: ``soon`` when the run ends within the horizon (the browser asks
        again at once, with ``wait``: answered once it has ended); None once it has ended."""
        runner = self.runner
        runner.seen_now()   # the tab is alive: its run goes on (ui.live.ABANDONED_S)
        if wait:
            runner.wait_end(self._horizon())
        if runner.done.is_set():
            return None
        return {"every": self._every(), "curves": self._build(),
                "soon": runner.about_to_finish(self._horizon())}


def curves_answer(token: str, wait: bool) -> dict | None:
    """The curves route's answer for ``token``: None ({"done": true}) when that tab's run is not training."""
    tab = _tabs.get(token)
    curves = tab.curves if tab is not None else None
    return None if curves is None else curves.answer(wait)


def answer(token: str, after: int | None) -> dict | None:
    """The route's answer for ``token``: None ({"done": true}) when that tab's run is not training."""
    tab = _tabs.get(token)
    feed = tab.feed if tab is not None else None
    if feed is None or feed.done.is_set():
        return None
    return feed.answer(after)


def endpoint(request):
    """GET ``ROUTE``?after=<epoch drawn>: JSON {epoch, every (s to the next ask), payload};
    {"done": true} when the tab's run is not training (the browser stops asking), 500 when its
    view could not be built (the browser asks again a tick later; the server's log has the
    traceback)."""
    try:
        after = int(request.query_params.get("after", ""))
    except ValueError:
        after = None
    return _respond(lambda: answer(request.path_params["token"], after))


def curves_endpoint(request):
    """GET ``CURVES_ROUTE``[?wait=1]: JSON {every, curves, soon}; {"done": true} once the tab's
    run is not training (the browser tells the page), 500 as :func:`endpoint`."""
    return _respond(lambda: curves_answer(request.path_params["token"], request.query_params.get("wait") == "1"))


def _respond(make: Callable[[], dict | None]):
    from starlette.responses import Response

    try:
        body = make()
    except Exception:   # (a view that cannot be built: the page's own run says why; asked again)
        traceback.print_exc()
        return Response(b'{"error": true}', status_code=500, media_type="application/json",
                        headers={"Cache-Control": "no-store"})
    if body is None:   # (not a 404: the browser would log each run's end as a failed load in its console)
        return Response(b'{"done": true}', media_type="application/json", headers={"Cache-Control": "no-store"})
    from gatviz.render import to_json   # (escapes <, >, &: the names are a user's text)
    return Response(to_json(body).encode("utf-8"), media_type="application/json",
                    headers={"Cache-Control": "no-store"})


def routes(base: str = "") -> list:
    """The route for app.py's ``st.App`` (a sync endpoint: Starlette runs it in a worker thread,
    not on the server's event loop)."""
    from starlette.routing import Route

    base = base.strip("/")
    base = "/" + base if base else ""
    return [Route(base + ROUTE, endpoint, methods=["GET"]), Route(base + CURVES_ROUTE, curves_endpoint, methods=["GET"])]
