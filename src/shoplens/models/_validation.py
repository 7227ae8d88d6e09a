"""Checks of the per-customer summary the models are fitted on, with errors that say which column, which row and why."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from shoplens.errors import InputError
from shoplens.models._fitting import FloatArray

# Tolerance for "the summary is consistent" checks on inputs written with two decimals (e.g. recency ≤ T).
SUMMARY_ROUNDING_TOLERANCE = 1e-6


def validate_columns(data: pd.DataFrame, columns: Sequence[str], *, model: str) -> dict[str, FloatArray]:
    """Check that ``data`` has the numeric, finite, non-negative ``columns``; return them as float arrays."""
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"{model}: expected a pandas DataFrame with columns {', '.join(columns)}, not {type(data)}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise InputError(
            f"{model}: missing column(s) {', '.join(missing)}; the data has {', '.join(map(str, data.columns))}. "
            "Build it with shoplens.models.rfm_summary"
        )
    arrays: dict[str, FloatArray] = {}
    for name in columns:
        column = data[name]
        if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
            raise InputError(f"{model}: column {name!r} must be numeric, not {column.dtype}")
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(values)
        if bad.any():
            raise InputError(
                f"{model}: column {name!r} has {int(bad.sum())} missing or infinite value(s), "
                f"first at row {int(np.argmax(bad))}"
            )
        negative = values < 0
        if negative.any():
            raise InputError(
                f"{model}: column {name!r} has {int(negative.sum())} negative value(s), "
                f"first at row {int(np.argmax(negative))}; it counts purchases, time or money"
            )
        arrays[name] = values
    return arrays


def validate_repeat_purchase_summary(data: pd.DataFrame, *, model: str) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validate the (frequency, recency, T) summary the BG/NBD and Pareto/NBD models are fitted on."""
    arrays = validate_columns(data, ("frequency", "recency", "T"), model=model)
    frequency, recency, age = arrays["frequency"], arrays["recency"], arrays["T"]
    if len(frequency) < 2:
        raise InputError(f"{model}: needs at least 2 customers, got {len(frequency)}")
    fractional = frequency != np.round(frequency)
    if fractional.any():
        raise InputError(
            f"{model}: column 'frequency' must count repeat purchases (whole numbers); "
            f"row {int(np.argmax(fractional))} is {frequency[fractional][0]}"
        )
    recency_after_age = recency > age + SUMMARY_ROUNDING_TOLERANCE
    if recency_after_age.any():
        raise InputError(
            f"{model}: column 'recency' exceeds 'T' in {int(recency_after_age.sum())} row(s), first at row "
            f"{int(np.argmax(recency_after_age))}; the last purchase cannot be after the end of calibration"
        )
    recency_without_repeat = (frequency == 0) & (recency > SUMMARY_ROUNDING_TOLERANCE)
    if recency_without_repeat.any():
        raise InputError(
            f"{model}: column 'recency' must be 0 when 'frequency' is 0 (no repeat purchase), "
            f"but is not in {int(recency_without_repeat.sum())} row(s), first at row "
            f"{int(np.argmax(recency_without_repeat))}"
        )
    if np.all(age <= SUMMARY_ROUNDING_TOLERANCE):
        raise InputError(
            f"{model}: all purchases fall on the last day of the calibration period (T = 0 for every customer), "
            "so there is no time in which a repeat purchase could be observed"
        )
    if not (frequency > 0).any():
        raise InputError(
            f"{model}: no customer has a repeat purchase (frequency > 0), so buying rate and dropout cannot be "
            "told apart; use a longer calibration period"
        )
    return frequency, np.minimum(recency, age), age
