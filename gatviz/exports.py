"""CSV that is safe to open in a spreadsheet, and carries what it shows.

Node names come from strangers' files. A spreadsheet runs a cell that starts
with ``=``, ``+``, ``-`` or ``@`` as a formula (and tab / carriage return can
hide one), so every string cell gatviz writes to CSV that starts with one of
those, or with ``'`` itself, gets a leading ``'`` (OWASP "CSV injection").
Spreadsheets show such a cell as text without the quote; a program gets the
name back with :func:`unsafe_cell` (drop one leading ``'``). Numbers are never
touched: ``-0.5`` in a numeric column stays a number.

Context: a table alone does not say which node, layer, head, epoch, graph or
model it shows. :func:`safe_csv` (the app's table download) puts that context
in leading columns with one value repeated on every row, so any CSV reader
gets it without skipping ``#`` lines. ``attention.csv`` keeps the column
contract of DESIGN.md (``layer,head,source,target,alpha``); its context goes
in the run's ``metrics.json`` under ``attention_csv`` (see :func:`attention_context`).

Downloads of one view (the app's buttons, a notebook, a script): :func:`attention_table`
with its :func:`context` as CSV or JSON (:func:`table_json`), :func:`metrics_csv`,
:func:`view_html`, and :func:`bundle`, one zip of all of these plus a PNG and the run zip.
"""
from __future__ import annotations

import json
import re

import pandas as pd

from .errors import node_index

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def safe_cell(value):
    """``value`` with a ``'`` in front when it is a string a spreadsheet could run; else as is."""
    if isinstance(value, str) and value.startswith(TRIGGERS + (QUOTE,)):
        return QUOTE + value
    return value


def unsafe_cell(value):
    """Inverse of :func:`safe_cell`: the name as the user gave it."""
    if isinstance(value, str) and value.startswith(QUOTE) and value[1:].startswith(TRIGGERS + (QUOTE,)):
        return value[1:]
    return value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`safe_cell` applied to every text cell (and column name)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(safe_cell)
    out.columns = [safe_cell(str(c)) for c in out.columns]
    return out


def safe_csv(frame: pd.DataFrame, context: dict | None = None) -> str:
    """CSV text of ``frame`` with its context as leading columns, every text cell neutralised.

    Args:
        frame: the table as shown (any columns).
        context: e.g. ``{"graph": "karate", "model": "GAT", "epoch": 200, "centre": "0",
            "layer": 1, "head": "mean of heads"}``; each key becomes a column holding
            its value on every row, before the table's own columns.

    Raises:
        ValueError: a context key is already a column of ``frame`` (a bug, not the user's).
    """
    context = context or {}
    clash = [k for k in context if k in frame.columns]
    if clash:
        raise ValueError(f"context key(s) {clash} are already columns of the table")
    table = pd.concat([pd.DataFrame({k: [v] * len(frame) for k, v in context.items()}, index=frame.index),
                       frame], axis=1) if context else frame
    table = neutralise(table)
    # Python's csv writer quotes a cell holding a character of the line terminator: a name with a
    # bare carriage return (kept from a quoted upload) is quoted only when lines end in \r\n
    carriage = any(table[c].astype(str).str.contains("\r", regex=False).any() for c in table.columns
                   if table[c].dtype == object or pd.api.types.is_string_dtype(table[c]))
    return table.to_csv(index=False, lineterminator="\r\n" if carriage else "\n")


def attention_context(graph: str, model: str, epoch: int) -> dict:
    """What ``attention.csv`` shows, for ``metrics.json["attention_csv"]``."""
    return {"graph": graph, "model": model, "epoch": epoch, "centre": "every node (target)",
            "layer": "every layer, numbered from 1", "head": "each head (no mean rows), numbered from 0",
            "taken": "eval mode, after the last epoch",
            "cells": "a name starting with = + - @ tab, CR or ' has a ' added in front (CSV injection); "
                     "drop one leading ' to get the name back"}


# ---------------------------------------------------------------- tables, metrics, one bundle
# These take a Trainer and a view (centre, layer, head) and build what the app's
# download buttons give; ``layer`` is 0-based here, as everywhere in the library,
# and numbered from 1 in every file written (CSV, JSON, file names).
def head_label(head) -> str:
    """How files name a head: ``head 3``, ``mean of heads``, ``all heads``."""
    return {"all": "all heads", "mean": "mean of heads"}.get(head, f"head {head}")


def context(trainer, center: int, layer: int, head) -> dict:
    """What one view's table shows: graph, model, epoch, centre (name), layer (from 1), head."""
    center = node_index(center, trainer.graph.num_nodes)
    return {"graph": trainer.graph.name, "model": trainer.config.model.upper(), "epoch": trainer.epoch,
            "centre": trainer.graph.names[center], "layer": layer + 1, "head": head_label(head)}


def attention_table(trainer, center: int, layer: int, head) -> pd.DataFrame:
    """What ``center`` (target i) attends to: :func:`gatviz.attention.neighbourhood` plus ``ratio``.

    Args:
        head: a head index, "mean", or "all" (the mean's alpha plus one ``head h`` column per head).

    Returns:
        One row per input j in N(i) ∪ {i}, highest alpha first: source (index j), name, alpha,
        ratio (alpha / uniform), score (e_ij), rank, degree, uniform, self[, head 0 .. head H-1].
    """
    from . import attention
    att, graph = trainer.attention(), trainer.graph
    frame = attention.neighbourhood(att, center, layer, "mean" if head == "all" else head,
                                    graph.degree, graph.names)
    frame.insert(frame.columns.get_loc("alpha") + 1, "ratio", frame["alpha"] / frame["uniform"])
    if head == "all":
        per_head = att.alpha[layer].numpy()[frame["edge"].to_numpy()]     # (rows, H)
        for h in range(per_head.shape[1]):
            frame[f"head {h}"] = per_head[:, h]
    return frame.drop(columns=["edge"])


def table_json(frame: pd.DataFrame, context: dict) -> str:
    """The table as JSON: ``{"context": {...}, "columns": [...], "rows": [{column: value}]}``.

    Names stay exactly as given (JSON is no spreadsheet); NaN becomes null.
    """
    rows = json.loads(frame.to_json(orient="records", double_precision=15))
    return json.dumps({"context": context, "columns": [str(c) for c in frame.columns], "rows": rows},
                      ensure_ascii=False, indent=1) + "\n"


METRIC_COLUMNS = ["epoch", "loss", "val_loss", "train_acc", "val_acc", "test_acc"]


def metrics_csv(trainer) -> str:
    """One row per trained epoch (epoch, loss, val_loss, train/val/test accuracy), via :func:`safe_csv`.

    The graph and model lead every row; an accuracy without nodes in its split is empty.
    """
    frame = pd.DataFrame(trainer.history, columns=METRIC_COLUMNS)
    return safe_csv(frame, {"graph": trainer.graph.name, "model": trainer.config.model.upper()})


def file_stem(trainer, center: int, layer: int, head) -> str:
    """``gatviz-karate-node0-layer1-head2-epoch200``: a file name safe on every system."""
    def clean(text) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("._")[:40] or "x"
    center = node_index(center, trainer.graph.num_nodes)
    head_part = {"all": "allheads", "mean": "meanhead"}.get(head, f"head{head}")
    return (f"gatviz-{clean(trainer.graph.name)}-node{clean(trainer.graph.names[center])}-layer{layer + 1}"
            f"-{head_part}-epoch{trainer.epoch}")


def view_html(trainer, center: int, layer: int, head, *, hops: int = 1, top_k: int = 40,
              encoding: str = "uniform") -> str:
    """The standalone HTML view (:func:`gatviz.render.standalone_html`) of one node, layer, head.

    ``head`` "all" draws every head and their mean, as ``python -m gatviz view --head all``.
    """
    from . import render
    att, graph = trainer.attention(), trainer.graph
    heads = list(range(att.heads(layer))) + ["mean"] if head == "all" else [head]
    predictions = trainer.predictions().numpy() if trainer.epoch else None   # no "wrong" before training
    payload = render.view(graph, att, center, layer, heads, hops=hops, top_k=top_k,
                          predictions=predictions, encoding=encoding)
    title = f"gatviz: {graph.name}, node {graph.names[center]}, layer {layer + 1}, {head_label(head)}"
    return render.standalone_html(payload, title)


def bundle(trainer, center: int, layer: int, head, *, hops: int = 1, top_k: int = 40,
           encoding: str = "uniform", png: bytes | None = None, run_zip: bytes | None = None,
           source=None, html: str | None = None) -> bytes:
    """One zip of a view's exports, every file under a folder named by :func:`file_stem`.

    Holds ``attention.csv`` (:func:`safe_csv` with :func:`context`), ``attention.json``,
    ``metrics.csv``, ``view.html`` (standalone, offline), ``view.png`` when ``png`` is given
    (the browser's canvas; the library draws no pixels) and ``run.zip`` (the saved run).

    Args:
        center, layer, head: the view (0-based layer; head index, "mean" or "all").
        run_zip: the saved run's bytes; None: :func:`gatviz.runs.save_zip` with ``source``.
        source: the run's :class:`gatviz.runs.GraphSource` (None for a built-in graph).
        html: the view's HTML when the caller has it (e.g. presenter mode); else built here.
    """
    import io
    import zipfile
    from . import runs
    frame, ctx = attention_table(trainer, center, layer, head), context(trainer, center, layer, head)
    stem = file_stem(trainer, center, layer, head)
    files = {"attention.csv": safe_csv(frame, ctx), "attention.json": table_json(frame, ctx),
             "metrics.csv": metrics_csv(trainer),
             "view.html": html or view_html(trainer, center, layer, head, hops=hops, top_k=top_k,
                                            encoding=encoding)}
    if png is not None:
        files["view.png"] = png
    files["run.zip"] = run_zip if run_zip is not None else runs.save_zip(trainer, source)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for name, data in files.items():
            out.writestr(f"{stem}/{name}", data.encode("utf-8") if isinstance(data, str) else data)
    return buffer.getvalue()
