"""Charts drawn on the server: altair specs rendered to SVG by vl-convert (no browser, no JavaScript)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd
import vl_convert as vlc

FONT = "DejaVu Sans"


def _svg(chart: alt.TopLevelMixin) -> str:
    spec = chart.configure(font=FONT).configure_view(strokeWidth=0).to_dict()
    svg: str = vlc.vegalite_to_svg(spec)
    return svg


def sparkline(values: Sequence[float | None], *, width: int = 160, height: int = 36) -> str:
    """A small line of ``values`` in order, without axes: the trend next to a KPI."""
    frame = pd.DataFrame({"i": range(len(values)), "v": [float(v) if v is not None else None for v in values]})
    chart = (
        alt.Chart(frame)
        .mark_line(strokeWidth=2, color="#2563eb")
        .encode(x=alt.X("i:Q", axis=None), y=alt.Y("v:Q", axis=None, scale=alt.Scale(zero=False)))
        .properties(width=width, height=height)
    )
    return _svg(chart)


def bar_chart(records: list[dict[str, Any]], *, category: str, value: str, title: str, width: int = 420) -> str:
    frame = pd.DataFrame.from_records(records)
    chart = (
        alt.Chart(frame, title=title)
        .mark_bar(color="#2563eb")
        .encode(y=alt.Y(f"{category}:N", sort="-x", title=None), x=alt.X(f"{value}:Q", title=value))
        .properties(width=width)
    )
    return _svg(chart)


def heatmap(records: list[dict[str, Any]], *, x: str, y: str, value: str, title: str) -> str:
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
