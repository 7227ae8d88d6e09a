"""Customer lifetime value, churn risk and next-purchase timing from a fitted transaction and spend model.

Combines a transaction model (:class:`~shoplens.models.bgnbd.FittedBGNBD` or
:class:`~shoplens.models.pareto_nbd.FittedParetoNBD`) with the Gamma-Gamma spend model as in Fader, Hardie & Lee
(2005), "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", *Journal of Marketing Research* 42(4):
value = expected purchases × expected spend per purchase × margin, discounted period by period. The discrete
discounting (expected purchases in each period, divided by (1 + d)^k for period k) is the scheme of the
``lifetimes`` package's ``customer_lifetime_value``; the code here is independent of it.

All times are in the time unit the models were fitted in (days or weeks, see
:func:`shoplens.models.rfm_summary`). A "period" is ``period_length`` such units: for a model fitted in weeks and
monthly discounting, ``period_length = 52 / 12``.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from shoplens.errors import InputError
from shoplens.models._fitting import FloatArray
from shoplens.models._summary import DAYS_PER_TIME_UNIT, TimeUnit
from shoplens.models._validation import validate_columns
from shoplens.models.churn import ChurnBands
from shoplens.models.gamma_gamma import FittedGammaGamma


class TransactionModel(Protocol):
    """What CLV needs from a fitted BG/NBD or Pareto/NBD model."""

    def expected_purchases(
        self,
        t: npt.ArrayLike,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        T: npt.ArrayLike,  # noqa: N803 (T is the literature's name)
    ) -> FloatArray: ...

    def probability_alive(
        self,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        T: npt.ArrayLike,  # noqa: N803 (T is the literature's name)
    ) -> FloatArray: ...

    def probability_no_purchase(
        self,
        t: npt.ArrayLike,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        T: npt.ArrayLike,  # noqa: N803 (T is the literature's name)
    ) -> FloatArray: ...


def _summary_arrays(summary: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, FloatArray]:
    return validate_columns(summary, columns, model="CLV")


def _check_horizon(horizon_periods: int, period_length: float) -> None:
    if isinstance(horizon_periods, bool) or not isinstance(horizon_periods, (int, np.integer)) or horizon_periods < 1:
        raise InputError(f"horizon_periods must be a whole number of periods ≥ 1, got {horizon_periods!r}")
    if not (np.isfinite(period_length) and period_length > 0):
        raise InputError(f"period_length must be a positive number of time units, got {period_length!r}")


def customer_lifetime_value(
    transaction_model: TransactionModel,
    spend_model: FittedGammaGamma,
    summary: pd.DataFrame,
    horizon_periods: int,
    discount_rate_per_period: float,
    margin: float,
    *,
    period_length: float = 1.0,
) -> pd.Series:
    """Discounted value of each customer's purchases over the next ``horizon_periods`` periods.

    CLV = margin × E[spend | x, m_x] × Σ_{k=1..H} (E[Y(k·L)] − E[Y((k−1)·L)]) / (1 + d)^k, where E[Y(t)] is the
    conditional expected number of purchases in (T, T+t], L the period length and d the discount rate per period.

    ``summary`` needs ``frequency``, ``recency``, ``T`` and ``monetary_value``; the result is a Series named ``clv``
    with the same index.
    """
    _check_horizon(horizon_periods, period_length)
    if not (np.isfinite(discount_rate_per_period) and discount_rate_per_period > -1.0):
        raise InputError(f"discount_rate_per_period must be greater than -1, got {discount_rate_per_period!r}")
    if not (np.isfinite(margin) and 0.0 <= margin <= 1.0):
        raise InputError(f"margin is a share of revenue between 0 and 1, got {margin!r}")
    arrays = _summary_arrays(summary, ("frequency", "recency", "T", "monetary_value"))
    frequency, recency, age = arrays["frequency"], arrays["recency"], arrays["T"]
    spend = spend_model.conditional_expected_average_spend(frequency, arrays["monetary_value"])

    discounted_purchases = np.zeros_like(frequency)
    purchases_so_far = np.zeros_like(frequency)
    for period in range(1, horizon_periods + 1):
        cumulative = transaction_model.expected_purchases(period * period_length, frequency, recency, age)
        discounted_purchases += (cumulative - purchases_so_far) / (1.0 + discount_rate_per_period) ** period
        purchases_so_far = cumulative
    return pd.Series(margin * spend * discounted_purchases, index=summary.index, name="clv")


def expected_time_to_next_purchase(
    transaction_model: TransactionModel, summary: pd.DataFrame, *, horizon: float
) -> FloatArray:
    """Rough time from the end of calibration to the next purchase, in model time units; NaN beyond ``horizon``.

    Heuristic, not a model quantity: the customer's expected purchase rate over the horizon,
    rate = E[Y(horizon)] / horizon, which already discounts for the chance that she has left, is turned into a
    waiting time 1/rate. The next purchase is then expected at age T + 1/rate. Customers whose waiting time exceeds
    the horizon are "not expected within the horizon" (NaN) rather than given a date far in the future.
    """
    if not (np.isfinite(horizon) and horizon > 0):
        raise InputError(f"horizon must be a positive number of time units, got {horizon!r}")
    arrays = _summary_arrays(summary, ("frequency", "recency", "T"))
    expected = transaction_model.expected_purchases(horizon, arrays["frequency"], arrays["recency"], arrays["T"])
    rate = expected / horizon
    with np.errstate(divide="ignore"):
        waiting_time = 1.0 / rate
    return np.asarray(np.where(waiting_time <= horizon, waiting_time, np.nan), dtype=np.float64)


def predict_customers(
    transaction_model: TransactionModel,
    summary: pd.DataFrame,
    *,
    horizon_periods: int,
    churn_bands: ChurnBands,
    spend_model: FittedGammaGamma | None = None,
    discount_rate_per_period: float = 0.0,
    margin: float = 1.0,
    period_length: float = 1.0,
    calibration_end: date | None = None,
    time_unit: TimeUnit = "D",
) -> pd.DataFrame:
    """One row per customer (same index as ``summary``) with everything the CLI and dashboard show.

    Columns: ``expected_purchases`` over the horizon (``horizon_periods × period_length`` time units),
    ``probability_alive``, ``p_no_purchase`` (no purchase in the next ``churn_bands.window_days`` days, see
    :mod:`shoplens.models.churn`), ``churn_risk`` (its band), ``time_to_next_purchase`` (see
    :func:`expected_time_to_next_purchase`), ``next_purchase_date`` when ``calibration_end`` is given, and with a
    ``spend_model`` also ``expected_average_spend`` and ``clv``.
    """
    _check_horizon(horizon_periods, period_length)
    if time_unit not in DAYS_PER_TIME_UNIT:
        raise InputError(f"time_unit must be 'D' (days) or 'W' (weeks), not {time_unit!r}")
    arrays = _summary_arrays(summary, ("frequency", "recency", "T"))
    frequency, recency, age = arrays["frequency"], arrays["recency"], arrays["T"]
    horizon = horizon_periods * period_length
    p_alive = transaction_model.probability_alive(frequency, recency, age)
    churn_window = churn_bands.window_days / DAYS_PER_TIME_UNIT[time_unit]
    p_no_purchase = transaction_model.probability_no_purchase(churn_window, frequency, recency, age)
    result = pd.DataFrame(
        {
            "expected_purchases": transaction_model.expected_purchases(horizon, frequency, recency, age),
            "probability_alive": p_alive,
            "p_no_purchase": p_no_purchase,
            "churn_risk": churn_bands.band(p_no_purchase),
            "time_to_next_purchase": expected_time_to_next_purchase(transaction_model, summary, horizon=horizon),
        },
        index=summary.index,
    )
    if calibration_end is not None:
        result["next_purchase_date"] = _days_after(
            calibration_end, result["time_to_next_purchase"].to_numpy() * DAYS_PER_TIME_UNIT[time_unit]
        )
    if spend_model is not None:
        spend_arrays = _summary_arrays(summary, ("monetary_value",))
        result["expected_average_spend"] = spend_model.conditional_expected_average_spend(
            frequency, spend_arrays["monetary_value"]
        )
        result["clv"] = customer_lifetime_value(
            transaction_model,
            spend_model,
            summary,
            horizon_periods,
            discount_rate_per_period,
            margin,
            period_length=period_length,
        )
    return result


def _days_after(start: date, days: FloatArray) -> npt.NDArray[np.object_]:
    """``start`` plus each number of days rounded to a whole day (half to even, as ``round``), None where NaN;
    in numpy, since a Python loop over every customer costs seconds on a large store."""
    finite = np.isfinite(days)
    whole = np.where(finite, np.round(days), 0.0).astype(np.int64).astype("timedelta64[D]")
    found: npt.NDArray[np.object_] = (np.datetime64(start, "D") + whole).astype(object)
    found[~finite] = None
    return found


def holdout_comparison(transaction_model: TransactionModel, summary: pd.DataFrame) -> dict[str, float]:
    """Predicted against actual purchases in the holdout period, from an ``rfm_summary`` with ``observation_end``.

    Returns the totals, the mean absolute error per customer and the ratio predicted/actual, the check Fader,
    Hardie & Lee (2005) use to validate the BG/NBD model on CDNOW.
    """
    arrays = _summary_arrays(summary, ("frequency", "recency", "T", "frequency_holdout", "duration_holdout"))
    predicted = transaction_model.expected_purchases(
        arrays["duration_holdout"], arrays["frequency"], arrays["recency"], arrays["T"]
    )
    actual = arrays["frequency_holdout"]
    actual_total = float(actual.sum())
    predicted_total = float(predicted.sum())
    return {
        "customers": float(len(actual)),
        "actual_purchases": actual_total,
        "predicted_purchases": predicted_total,
        "predicted_to_actual": predicted_total / actual_total if actual_total > 0 else float("nan"),
        "mean_absolute_error": float(np.mean(np.abs(predicted - actual))),
    }
