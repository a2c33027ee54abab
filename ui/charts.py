"""Line charts as a plain Vega-Lite spec: ``st.vega_lite_chart`` with a dict.

``st.line_chart`` builds each chart through Altair and validates it against Vega-Lite's
schema: ~50 ms of the server per chart (~250 ms for a process's first), paid at every tick
of a live training (two curves). The same chart from a dict costs ~3 ms; the browser draws
it with the same Vega-Lite and Streamlit theme.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

def _long(frame: pd.DataFrame) -> tuple[list[str], pd.DataFrame]:
    """The series' names and ``frame`` in long form: columns x, series, value."""
    series = [str(c) for c in frame.columns]
    data = frame.set_axis(series, axis=1).rename_axis("x").reset_index()
    return series, data.melt(id_vars="x", var_name="series", value_name="value")


def _lines(series: list[str], colors: Sequence[str] | None, height: int, x_label: str,
           x_domain: Sequence[float] | None = None, y_domain: Sequence[float] | None = None) -> dict:
    """A Vega-Lite line view of the long data; the legend keeps the series' order. A domain
    given fixes that axis (else it follows the data)."""
    color = {"field": "series", "type": "nominal", "title": None, "sort": series,
             "scale": {"domain": series, **({"range": list(colors)} if colors else {})},
             "legend": {"orient": "bottom"}}
    # x counts epochs: whole-number ticks, also on a short run's axis
    x = {"field": "x", "type": "quantitative", "title": x_label, "axis": {"tickMinStep": 1, "format": "d"}}
    y = {"field": "value", "type": "quantitative", "title": None}
    for axis, domain in ((x, x_domain), (y, y_domain)):
        if domain is not None:
            axis["scale"] = {"domain": list(domain), "nice": False}
    return {"mark": {"type": "line", "tooltip": True}, "height": height,
            "encoding": {"x": x, "y": y, "color": color}}


def line_chart(frame: pd.DataFrame, height: int, x_label: str, colors: Sequence[str] | None = None) -> None:
    """One line per column of ``frame`` against its index; the legend keeps the columns' order.

    ``frame``: index = x (e.g. epoch), one numeric column per series, named for the legend.
    NaN values leave a gap (Vega-Lite filters invalid values).
    """
    series, data = _long(frame)
    st.vega_lite_chart(data, _lines(series, colors, height, x_label), width="stretch")


def stacked_line_charts(charts: Sequence[tuple], height: int, x_label: str,
                        x_domain: Sequence[float] | None = None) -> None:
    """Several line charts above one another in ONE Vega view (one element for the page, one
    dataset for the browser to replace at each tick: about half the browser's work of two).

    ``charts``: (title, frame, colours) or (title, frame, colours, y domain) each; ``frame``
    as in :func:`line_chart` (it may have no rows: the axes and legends are drawn empty).
    ``x_domain``: the x axis of every chart, fixed. With the axes fixed the spec stays the same
    while the frames grow: the browser replaces the data of the view it has (no new Vega view).
    """
    parts, views = [], []
    for n, (title, frame, colors, *y_domain) in enumerate(charts):
        series, long = _long(frame)
        parts.append(long.assign(chart=n))
        views.append({"title": {"text": title, "anchor": "start", "fontWeight": "normal"},
                      "transform": [{"filter": f"datum.chart == {n}"}], "width": "container",
                      **_lines(series, colors, height, x_label, x_domain, y_domain[0] if y_domain else None)})
    spec = {"vconcat": views, "resolve": {"scale": {"color": "independent"}, "legend": {"color": "independent"}}}
    st.vega_lite_chart(pd.concat(parts, ignore_index=True), spec, width="stretch")
