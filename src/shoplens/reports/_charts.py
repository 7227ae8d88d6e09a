"""Charts drawn on the server: altair specs rendered to SVG by vl-convert (no browser, no JavaScript).

Drawing takes tens of milliseconds, so the last :data:`CHARTS_KEPT` charts are kept by their inputs: a page or a
report drawn again from the same numbers gets the same SVG without drawing it again.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Literal

import altair as alt
import pandas as pd
import vl_convert as vlc

FONT = "DejaVu Sans"
CHARTS_KEPT = 128

_drawn: OrderedDict[str, str] = OrderedDict()
_drawn_lock = threading.Lock()


def _remembered(inputs: Any, draw: Callable[[], str]) -> str:
    key = json.dumps(inputs, sort_keys=True, default=str)
    with _drawn_lock:
        if key in _drawn:
            _drawn.move_to_end(key)
            return _drawn[key]
    svg = draw()
    with _drawn_lock:
        _drawn[key] = svg
        while len(_drawn) > CHARTS_KEPT:
            _drawn.popitem(last=False)
    return svg


def _svg(chart: alt.TopLevelMixin) -> str:
    spec = chart.configure(font=FONT).configure_view(strokeWidth=0).to_dict()
    svg: str = vlc.vegalite_to_svg(spec)
    return svg


def sparkline(values: Sequence[float | None], *, width: int = 160, height: int = 36) -> str:
    """A small line of ``values`` in order, without axes: the trend next to a KPI."""
    return _remembered(["sparkline", list(values), width, height], lambda: _sparkline(values, width, height))


def _sparkline(values: Sequence[float | None], width: int, height: int) -> str:
    frame = pd.DataFrame({"i": range(len(values)), "v": [float(v) if v is not None else None for v in values]})
    chart = (
        alt.Chart(frame)
        .mark_line(strokeWidth=2, color="#2563eb")
        .encode(x=alt.X("i:Q", axis=None), y=alt.Y("v:Q", axis=None, scale=alt.Scale(zero=False)))
        .properties(width=width, height=height)
    )
    return _svg(chart)


def bar_chart(records: list[dict[str, Any]], *, category: str, value: str, title: str, width: int = 420) -> str:
    """Horizontal bars of ``value`` per ``category``, longest first."""
    inputs = ["bar", records, category, value, title, width]
    return _remembered(inputs, lambda: _bar_chart(records, category, value, title, width))


def _bar_chart(records: list[dict[str, Any]], category: str, value: str, title: str, width: int) -> str:
    frame = pd.DataFrame.from_records(records)
    chart = (
        alt.Chart(frame, title=title)
        .mark_bar(color="#2563eb")
        .encode(y=alt.Y(f"{category}:N", sort="-x", title=None), x=alt.X(f"{value}:Q", title=value))
        .properties(width=width)
    )
    return _svg(chart)


def heatmap(records: list[dict[str, Any]], *, x: str, y: str, value: str, title: str) -> str:
    """Cells coloured by ``value`` on an ``x`` by ``y`` grid (cohort retention)."""
    return _remembered(["heatmap", records, x, y, value, title], lambda: _heatmap(records, x, y, value, title))


def _heatmap(records: list[dict[str, Any]], x: str, y: str, value: str, title: str) -> str:
    frame = pd.DataFrame.from_records(records)
    chart = (
        alt.Chart(frame, title=title)
        .mark_rect()
        .encode(
            x=alt.X(f"{x}:O", title=x),
            y=alt.Y(f"{y}:O", title=y),
            color=alt.Color(f"{value}:Q", scale=alt.Scale(scheme="blues"), title=value),
            tooltip=[x, y, value],
        )
        .properties(width=420)
    )
    return _svg(chart)


def line_chart(
    records: list[dict[str, Any]],
    *,
    x: str,
    y: str,
    title: str,
    series: str | None = None,
    x_kind: Literal["label", "month", "number"] = "label",
    y_format: str = "",
    width: int = 420,
) -> str:
    """A line with points of ``y`` over ``x`` — period labels (a share over time), months (units per month) or
    numbers (a profit LTV curve by months since the first order) — one line per ``series`` when given."""
    inputs = ["line", records, x, y, title, series, x_kind, y_format, width]
    return _remembered(inputs, lambda: _line_chart(records, x, y, title, series, x_kind, y_format, width))


def _line_chart(
    records: list[dict[str, Any]],
    x: str,
    y: str,
    title: str,
    series: str | None,
    x_kind: str,
    y_format: str,
    width: int,
) -> str:
    frame = pd.DataFrame.from_records(records)
    x_encoding = {
        "label": alt.X(f"{x}:O", title=x),
        "month": alt.X(f"{x}:T", title=None, axis=alt.Axis(format="%Y-%m")),
        "number": alt.X(f"{x}:Q", title=x),
    }[x_kind]
    axis = alt.Axis(format=y_format) if y_format else alt.Axis()
    y_encoding = alt.Y(f"{y}:Q", title=y, axis=axis, scale=alt.Scale(zero=True))
    base = alt.Chart(frame, title=title)
    if series is None:
        chart = base.mark_line(point=True, color="#2563eb").encode(x=x_encoding, y=y_encoding)
    else:
        chart = base.mark_line(point=True).encode(
            x=x_encoding, y=y_encoding, color=alt.Color(f"{series}:N", title=series), tooltip=[series, x, y]
        )
    chart = chart.properties(width=width)
    return _svg(chart)
