"""Per-customer recency/frequency/monetary summary, the input of the probability models.

The summary follows the conventions of the buy-till-you-die literature (Fader, Hardie & Lee 2005, "Counting Your
Customers the Easy Way", Marketing Science 24(2); Fader & Hardie 2001, "Forecasting Repeat Sales at CDNOW",
Interfaces 31(3)), which the published CDNOW summaries reproduce exactly:

* transactions of one customer on one calendar day are **one purchase** (their amounts are summed), because the
  models count purchase occasions, not order lines or split shipments;
* ``frequency`` (x) is the number of *repeat* purchase days: purchase days − 1;
* ``recency`` (t_x) is the time from the first to the last purchase day;
* ``T`` is the time from the first purchase day to the end of the calibration period (the customer's "age");
* ``monetary_value`` (z̄) is the mean amount of the repeat purchase days (0 for a customer with no repeat), since
  the Gamma-Gamma spend model is fitted on repeat purchases only (Fader, Hardie & Lee 2005, "RFM and CLV: Using
  Iso-Value Curves for Customer Base Analysis", Journal of Marketing Research 42(4)).

Times are measured in days (``"D"``) or weeks of 7 days (``"W"``). Customers whose first purchase falls after the
calibration end are not yet customers at that time and are left out; rows without a customer key (guest orders)
cannot be followed over time and are left out too.

``rfm_summary`` is a pure Ibis expression (Table → Table): it never touches a connection, so the same code runs on
DuckDB, PostgreSQL or Spark.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import ibis
import ibis.expr.types as ir

from shoplens.errors import InputError

TimeUnit = Literal["D", "W"]

DAYS_PER_TIME_UNIT: dict[str, int] = {"D": 1, "W": 7}


def check_time_unit(unit: object) -> None:
    """An InputError unless ``unit`` is D (days) or W (weeks)."""
    if unit not in DAYS_PER_TIME_UNIT:
        raise InputError(f"time unit must be D (days) or W (weeks), not {unit!r}")


SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value")
HOLDOUT_COLUMNS = ("frequency_holdout", "monetary_value_holdout", "duration_holdout")


def rfm_summary(
    transactions: ir.Table,
    *,
    calibration_end: date | None = None,
    observation_end: date | None = None,
    time_unit: TimeUnit = "D",
    customer_col: str = "customer_key",
    time_col: str = "ordered_at",
    amount_col: str = "amount",
) -> ir.Table:
    """Summarise transactions into one row per customer: frequency, recency, T and monetary value.

    Parameters
    ----------
    transactions
        One row per transaction; ``time_col`` is a date or a timestamp (truncated to its calendar day).
    calibration_end
        Last day of the calibration period (inclusive). ``None`` means the last purchase day in the data.
    observation_end
        Last day of the holdout period (inclusive). When given, the result also has ``frequency_holdout``
        (purchase days in ``(calibration_end, observation_end]``), ``monetary_value_holdout`` (their mean amount,
        0 when none) and ``duration_holdout`` (length of the holdout period in ``time_unit``).
    time_unit
        ``"D"`` for days, ``"W"`` for weeks of 7 days.

    Returns
    -------
    A table with ``customer_col``, ``frequency``, ``recency``, ``T``, ``monetary_value`` (float64) and, with an
    ``observation_end``, the holdout columns.
    """
    if time_unit not in DAYS_PER_TIME_UNIT:
        raise InputError(f"time_unit must be 'D' (days) or 'W' (weeks), not {time_unit!r}")
    missing = [c for c in (customer_col, time_col, amount_col) if c not in transactions.columns]
    if missing:
        raise InputError(
            f"transactions lack column(s) {', '.join(missing)} needed for the RFM summary; "
            f"present: {', '.join(transactions.columns)}"
        )
    if observation_end is not None:
        if calibration_end is None:
            raise InputError("observation_end needs a calibration_end: the holdout period starts after it")
        if observation_end <= calibration_end:
            raise InputError(
                f"observation_end {observation_end} must be after calibration_end {calibration_end}, "
                "or the holdout period is empty"
            )
    days_per_unit = DAYS_PER_TIME_UNIT[time_unit]

    time_type = transactions[time_col].type()
    if time_type.is_timestamp():
        purchase_day = transactions[time_col].date()
    elif time_type.is_date():
        purchase_day = transactions[time_col]
    else:
        raise InputError(f"column {time_col!r} must be a date or a timestamp, not {time_type}")
    amount_type = transactions[amount_col].type()
    if not amount_type.is_numeric():
        raise InputError(f"column {amount_col!r} must be numeric (an amount of money), not {amount_type}")

    known = transactions.filter(transactions[customer_col].notnull(), transactions[time_col].notnull())
    # Same-day transactions of a customer are one purchase occasion (module docstring). Money is summed in its own
    # type (DECIMAL in the warehouse: exact, so the same data always give the same summary) and made float last.
    purchase_days = (
        known.mutate(_day=purchase_day.name("_day"))
        .group_by([customer_col, "_day"])
        .aggregate(_amount=lambda t: t[amount_col].sum().fill_null(0))
    )

    if calibration_end is None:
        calibration_days = purchase_days
        end_of_calibration: ir.DateValue = purchase_days["_day"].max()
    else:
        calibration_days = purchase_days.filter(purchase_days["_day"] <= ibis.date(calibration_end))
        end_of_calibration = ibis.date(calibration_end)

    first_day = calibration_days["_day"].min().over(group_by=customer_col)
    flagged = calibration_days.mutate(_is_first=calibration_days["_day"] == first_day)
    per_customer = flagged.group_by(customer_col).aggregate(
        _first=flagged["_day"].min(),
        _last=flagged["_day"].max(),
        _purchase_days=flagged.count(),
        _repeat_amount=flagged["_amount"].sum(where=~flagged["_is_first"]),
    )
    repeat_purchases = per_customer["_purchase_days"] - 1
    summary = per_customer.select(
        customer_col,
        frequency=repeat_purchases.cast("float64"),
        recency=per_customer["_last"].delta(per_customer["_first"], unit="day").cast("float64") / days_per_unit,
        T=end_of_calibration.delta(per_customer["_first"], unit="day").cast("float64") / days_per_unit,
        monetary_value=ibis.cases(
            (
                repeat_purchases > 0,
                per_customer["_repeat_amount"].cast("float64").fill_null(0.0) / repeat_purchases.cast("float64"),
            ),
            else_=ibis.literal(0.0),
        ),
    )
    if observation_end is None or calibration_end is None:
        return summary

    holdout_days = purchase_days.filter(
        purchase_days["_day"] > ibis.date(calibration_end), purchase_days["_day"] <= ibis.date(observation_end)
    )
    holdout = holdout_days.group_by(customer_col).aggregate(
        _holdout_days=holdout_days.count(), _holdout_amount=holdout_days["_amount"].sum()
    )
    joined = summary.left_join(holdout, customer_col)
    holdout_count = joined["_holdout_days"].fill_null(0)
    duration = (observation_end - calibration_end).days / days_per_unit
    return joined.select(
        customer_col,
        *SUMMARY_COLUMNS,
        frequency_holdout=holdout_count.cast("float64"),
        monetary_value_holdout=ibis.cases(
            (
                holdout_count > 0,
                joined["_holdout_amount"].cast("float64").fill_null(0.0) / holdout_count.cast("float64"),
            ),
            else_=ibis.literal(0.0),
        ),
        duration_holdout=ibis.literal(duration, type="float64"),
    )
