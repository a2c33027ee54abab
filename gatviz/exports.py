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
"""
from __future__ import annotations

import pandas as pd

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
    return neutralise(table).to_csv(index=False)


def attention_context(graph: str, model: str, epoch: int) -> dict:
    """What ``attention.csv`` shows, for ``metrics.json["attention_csv"]``."""
    return {"graph": graph, "model": model, "epoch": epoch, "centre": "every node (target)",
            "layer": "every layer, numbered from 1", "head": "each head (no mean rows), numbered from 0",
            "taken": "eval mode, after the last epoch",
            "cells": "a name starting with = + - @ tab, CR or ' has a ' added in front (CSV injection); "
                     "drop one leading ' to get the name back"}
