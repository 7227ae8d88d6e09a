"""Holdout calibration of a transaction model: predicted against actual purchases by calibration frequency.

Fader, Hardie & Lee (2005, figure 4) validate BG/NBD on CDNOW this way: group customers by how many repeat purchases
they made in the calibration period (0, 1, …, 6, 7+), and compare each group's mean number of purchases in the
holdout period with the model's conditional expectation for the same customers. A model that is right on average
but wrong for light or heavy buyers shows it here. The errors are over the group means, each group weighing the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shoplens.errors import FieldError
from shoplens.models._validation import validate_columns
from shoplens.models.clv import TransactionModel

# Customers with this many or more calibration repeat purchases share the last group ("7+"), as in the paper.
TOP_FREQUENCY_BUCKET = 7
CHART_FONT = "DejaVu Sans"
CHART_FORMATS = (".svg", ".png")


def holdout_by_frequency(
    transaction_model: TransactionModel, summary: pd.DataFrame, *, top_bucket: int = TOP_FREQUENCY_BUCKET
) -> pd.DataFrame:
    """Mean actual and predicted holdout purchases per calibration-frequency group.

    ``summary`` is an :func:`~shoplens.models.rfm_summary` with an ``observation_end`` (holdout columns). Returns
    columns ``bucket`` ("0", "1", …, "7+"), ``customers``, ``actual``, ``predicted`` (means per customer), one row
    per group that has customers, in frequency order.
    """
    arrays = validate_columns(
        summary, ("frequency", "recency", "T", "frequency_holdout", "duration_holdout"), model="holdout"
    )
    predicted = transaction_model.expected_purchases(
        arrays["duration_holdout"], arrays["frequency"], arrays["recency"], arrays["T"]
    )
    group = np.minimum(arrays["frequency"], top_bucket).astype(int)
    table = (
        pd.DataFrame({"group": group, "actual": arrays["frequency_holdout"], "predicted": predicted})
        .groupby("group")
        .agg(customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean"))
        .reset_index()
    )
    table["bucket"] = [f"{g}+" if g == top_bucket else str(g) for g in table["group"]]
    return table[["bucket", "customers", "actual", "predicted"]]


def bucket_errors(table: pd.DataFrame) -> dict[str, float | None]:
    """MAE, RMSE and MAPE (percent, over groups with actual > 0) of the group means."""
    actual = table["actual"].to_numpy(dtype=np.float64)
    errors = table["predicted"].to_numpy(dtype=np.float64) - actual
    nonzero = actual > 0
    return {
        "mae": float(np.mean(np.abs(errors))),
        "rmse": float(np.sqrt(np.mean(errors**2))),
        "mape": float(100.0 * np.mean(np.abs(errors[nonzero]) / actual[nonzero])) if nonzero.any() else None,
    }


def holdout_chart(table: pd.DataFrame, *, title: str, holdout_length: str) -> Any:
    """An altair line chart of actual and predicted mean holdout purchases per frequency group."""
    import altair as alt

    order = table["bucket"].tolist()
    long = table.melt(
        id_vars=["bucket", "customers"], value_vars=["actual", "predicted"], var_name="series", value_name="purchases"
    )
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "bucket:O", sort=order, title="Repeat purchases in the calibration period", axis=alt.Axis(labelAngle=0)
            ),
            y=alt.Y("purchases:Q", title=f"Mean purchases per customer in the {holdout_length} holdout"),
            color=alt.Color("series:N", title=None, sort=["actual", "predicted"]),
            strokeDash=alt.StrokeDash("series:N", sort=["actual", "predicted"], legend=None),
            tooltip=["bucket", "series", alt.Tooltip("purchases:Q", format=".3f"), "customers"],
        )
        .properties(title=title, width=480, height=300)
        .configure(font=CHART_FONT)
    )


def check_chart_path(path: Path) -> None:
    """Refuse a chart path we cannot write before any work is done."""
    if path.suffix.lower() not in CHART_FORMATS:
        raise FieldError(f"{{plot}} {path}: the chart is written as SVG or PNG; name the file .svg or .png")
    if not path.parent.exists():
        raise FieldError(f"{{plot}} {path}: folder {path.parent} does not exist")


def write_chart(chart: Any, path: Path) -> Path:
    """Render ``chart`` to SVG or PNG (by the file suffix) with vl-convert: no browser needed."""
    import vl_convert

    check_chart_path(path)
    spec = chart.to_dict()
    if path.suffix.lower() == ".svg":
        path.write_text(vl_convert.vegalite_to_svg(spec), encoding="utf-8")
    else:
        path.write_bytes(vl_convert.vegalite_to_png(spec, scale=2))
    return path
