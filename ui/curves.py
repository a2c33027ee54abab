"""The Explorer's progress column as one element: the run's progress, its last accuracies and
its loss and accuracy curves, drawn in the browser by static/gatviz-curves.js (SVG; hovering a
chart shows every series' value at that epoch).

While the tab's run trains on its own (epochs per update: auto), the browser asks the server
for the newest of it every tick (ui.feed, :data:`ui.feed.CURVES_ROUTE`), as the view does,
instead of a script run per tick: a Streamlit script run, even a fragment's, re-renders every
element of the page in the browser (a Vega chart's update among them), ~0.16 s of Chromium's
CPU per tick on Cora, taken from the cores the run trains on. The fetch that finds the run
ended (or ending within a tick: the server waits for it) tells the page ("ended"), and that
interaction's run of the page's fragments draws it done (ui.live.on_ended; ui.live.show_end
when there is more to say). Stepping through epochs keeps the timer: each tick grants the next
step.

:func:`data` reads only the trainer and words given: it also runs in the thread of the
browser's fetch, outside any session.
"""
from __future__ import annotations

import math

import numpy as np
import streamlit as st

from .i18n import lang, t

LIVE_POINTS = 150   # epochs per curve while a run trains (the browser redraws them at every tick)
MOST_POINTS = 2_000   # ... and at most, otherwise (every epoch up to there: more than a chart's pixels)
SPLITS = ("train", "val", "test")
COLORS = ("#3B6EA8", "#E69F00", "#009E73")   # train, val, test (colour-blind safe)


def words(in_lang: str) -> dict:
    """The column's words in ``in_lang`` (the fetch's thread has no session to ask)."""
    return {"epoch_of": t("epoch.of", in_lang, epoch="{epoch}", epochs="{epochs}"),
            "training": t("training", in_lang), "done": t("done", in_lang),
            "waiting": t("waiting", in_lang, ahead="{ahead}"), "press": t("press.train", in_lang),
            "accuracy": t("accuracy", in_lang), "loss": t("loss", in_lang), "x": t("cmp.x.epoch", in_lang),
            **{s: t(f"cmp.split.{s}", in_lang) for s in SPLITS}}


def thin(count: int, points: int) -> list[int]:
    """At most ``points`` of the indices 0..count-1, evenly spread, the first and the last kept.
    A live chart given all its epochs redraws more at every tick the longer a run goes; this
    keeps its size fixed."""
    if count <= points:
        return list(range(count))
    return np.unique(np.linspace(0, count - 1, points).round().astype(int)).tolist()


def _number(value) -> float | None:
    value = float(value)
    return None if math.isnan(value) else round(value, 5)


def data(trainer, words: dict, training: bool, waiting: int = 0, presenter: bool = False) -> dict:
    """What the column shows of ``trainer`` (``training``: its run trains: the curves thinned to
    LIVE_POINTS epochs, else to MOST_POINTS; ``waiting``: runs ahead of it in the server's
    queue). The x axis spans the run's budget and accuracy's 0 to 1: the curves grow across a
    still frame. Values are the history's (NaN: None, a gap in the curve)."""
    history = trainer.history[:]   # a copy: the training thread appends meanwhile
    epoch, target = trainer.epoch, trainer.config.epochs
    status = words["training"] if training else (words["done"] if trainer.remaining == 0 else "")
    if training and waiting:
        status = words["waiting"].format(ahead=waiting)
    rows = [history[i] for i in thin(len(history), LIVE_POINTS if training else MOST_POINTS)]
    accuracy = None
    if history:
        last = history[-1]
        accuracy = {"label": words["accuracy"],
                    "items": [[words[s], "n/a" if math.isnan(last[f"{s}_acc"]) else format(last[f"{s}_acc"], ".0%")]
                              for s in SPLITS]}

    def series(columns) -> list[dict]:
        return [{"name": words[split], "color": color, "values": [_number(r[column]) for r in rows]}
                for (split, column), color in zip(columns, COLORS)]

    return {"progress": {"value": min(epoch / target, 1.0) if target else 1.0,
                         "text": words["epoch_of"].format(epoch=epoch, epochs=target) + status},
            "accuracy": accuracy, "info": None if history else words["press"],
            "x": [r["epoch"] for r in rows], "x_domain": [0, max(target, epoch, 1)], "x_label": words["x"],
            "charts": [{"title": words["loss"], "series": series((("train", "loss"), ("val", "val_loss")))},
                       {"title": words["accuracy"], "y_domain": [0, 1], "percent": True,
                        "series": series(tuple((s, f"{s}_acc") for s in SPLITS))}],
            "presenter": bool(presenter)}


def draw(trainer, live: dict | None = None, on_ended=None) -> None:
    """The column for the tab's trainer (``live``: fetched while its run trains, ui.network.draw_curves)."""
    from .network import draw_curves
    ss = st.session_state
    draw_curves(data(trainer, words(lang()), training=bool(ss.get("gv_training")), waiting=ss.get("gv_waiting", 0),
                     presenter=ss.get("gv_presenter", False)), live=live, on_ended=on_ended)
