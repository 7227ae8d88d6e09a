"""Per-customer predictions: expected purchases, P(alive), churn risk, spend, CLV and next order date."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

from shoplens.errors import FieldError
from shoplens.models._clv_fit import fit_model, with_churn_bands
from shoplens.models._customer_base import PurchaseSpan, check_summary, customer_summary, purchase_span, quiet_numerics
from shoplens.models._saved_fits import (
    TRANSACTION_MODEL_NAMES,
    ModelName,
    SavedFit,
    TransactionModelName,
    finite_or_none,
    load_fit,
    save_fit,
)
from shoplens.models._summary import DAYS_PER_TIME_UNIT, TimeUnit, check_time_unit
from shoplens.models.churn import CHURN_RISK_BANDS, ChurnBands
from shoplens.models.clv import predict_customers

# Discounting is monthly: the horizon is cut into whole periods of about this many days.
DISCOUNT_PERIOD_DAYS = 365.25 / 12
# The share of expected spend CLV keeps when neither a margin is given nor the store's own margin is known.
FLAT_MARGIN = 0.3
# Value tiers: the customers with the highest predicted CLV, by share of customers.
VALUE_TIERS = (("high", 0.2), ("medium", 0.3), ("low", 0.5))


# --- clv predict -----------------------------------------------------------------------------------------------------


class ClvPredictParameters(BaseModel):
    """Per-customer predictions over ``horizon`` time units from the end of the data, with the margin and the
    yearly discount rate of CLV; ``limit`` keeps the customers of highest CLV. Checked up front.

    ``margin`` None leaves the choice to the caller (the store's contribution margin rate when its costs are known);
    :func:`run_clv_predict` takes it as :data:`FLAT_MARGIN` when nobody chose."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    horizon: int = 365
    time_unit: TimeUnit = "D"
    model: TransactionModelName = "bgnbd"
    margin: float | None = None
    annual_discount_rate: float = 0.1
    limit: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _known_names(cls, values: Any) -> Any:
        if isinstance(values, dict):
            check_time_unit(values.get("time_unit", "D"))
            model = values.get("model", "bgnbd")
            if model not in TRANSACTION_MODEL_NAMES:
                raise FieldError(f"{{model}} must be one of {', '.join(TRANSACTION_MODEL_NAMES)}, not {model!r}")
        return values

    @model_validator(mode="after")
    def _in_range(self) -> ClvPredictParameters:
        if self.horizon < 1:
            raise FieldError(f"{{horizon}} must be at least 1, got {self.horizon}")
        if self.margin is not None and not (math.isfinite(self.margin) and 0.0 <= self.margin <= 1.0):
            raise FieldError(f"{{margin}} is a share of revenue between 0 and 1, got {self.margin}")
        if not (math.isfinite(self.annual_discount_rate) and 0.0 <= self.annual_discount_rate < 1.0):
            raise FieldError(
                f"{{annual_discount_rate}} is a yearly rate between 0 and 1, got {self.annual_discount_rate}"
            )
        if self.limit is not None and self.limit < 1:
            raise FieldError(f"{{limit}} must be at least 1, got {self.limit}")
        return self

    @property
    def horizon_days(self) -> int:
        return self.horizon * DAYS_PER_TIME_UNIT[self.time_unit]


def _current_fit(
    backend: Any,
    span: PurchaseSpan,
    model: ModelName,
    *,
    data_version: int,
    models_dir: Path,
    time_unit: TimeUnit,
    summary_cache: dict[str, pd.DataFrame],
) -> tuple[SavedFit, bool]:
    """The saved fit when it is for the current data; otherwise a new fit on all the data, saved. (fit, reused).

    A new BG/NBD or Pareto/NBD fit gets its churn cut-offs from a time split (:func:`with_churn_bands`)."""
    saved = load_fit(models_dir, model)
    if saved is not None and saved.data_version == data_version and (model == "gamma-gamma" or saved.churn_bands):
        return saved, True
    if time_unit not in summary_cache:
        summary = customer_summary(
            backend, span, calibration_end=span.last_day, observation_end=None, time_unit=time_unit
        )
        check_summary(summary, span, span.last_day)
        summary_cache[time_unit] = summary
    fit = fit_model(
        model, summary_cache[time_unit], time_unit=time_unit, calibration_end=span.last_day, data_version=data_version
    )
    if model != "gamma-gamma":
        fit = with_churn_bands(backend, span, fit, summary_cache[time_unit])
    save_fit(models_dir, fit)
    return fit, False


def _value_tiers(clv: pd.Series) -> np.ndarray[Any, np.dtype[np.object_]]:
    """'high' for the top 20 % of customers by predicted CLV, 'medium' for the next 30 %, 'low' for the rest."""
    share_ranked_above = clv.rank(method="first", ascending=False).to_numpy() / max(len(clv), 1)
    tiers = np.empty(len(clv), dtype=object)
    upper_share = 0.0
    for name, share in VALUE_TIERS:
        lower_share, upper_share = upper_share, upper_share + share
        tiers[(share_ranked_above > lower_share) & (share_ranked_above <= upper_share + 1e-12)] = name
    return tiers


def _group_totals(frame: pd.DataFrame, column: str, order: tuple[str, ...]) -> list[dict[str, Any]]:
    total_clv = float(frame["clv"].sum())
    rows = []
    for name in order:
        group = frame[frame[column] == name]
        clv_sum = float(group["clv"].sum())
        rows.append(
            {
                column: name,
                "customers": len(group),
                "expected_purchases": float(group["expected_purchases"].sum()),
                "mean_p_alive": finite_or_none(float(group["probability_alive"].mean())) if len(group) else None,
                "mean_p_no_purchase": finite_or_none(float(group["p_no_purchase"].mean())) if len(group) else None,
                "clv": clv_sum,
                "clv_share": clv_sum / total_clv if total_clv > 0 else None,
            }
        )
    return rows


def _optional_number(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _churn_document(bands: ChurnBands, validation: dict[str, Any] | None) -> dict[str, Any]:
    """What the churn-risk bands mean: the score, its window, the cut-offs and how they did on their holdout."""
    return bands.as_dict() | {"validation": validation}


def run_clv_predict(
    backend: Any, query: ClvPredictParameters, *, data_version: int, models_dir: Path, timezone: str = "UTC"
) -> dict[str, Any]:
    """Expected purchases, P(alive), churn risk, spend, CLV and next order date per customer, plus group totals."""
    with quiet_numerics():
        return _run_clv_predict(backend, query, data_version=data_version, models_dir=models_dir, timezone=timezone)


def _run_clv_predict(
    backend: Any, query: ClvPredictParameters, *, data_version: int, models_dir: Path, timezone: str
) -> dict[str, Any]:
    span = purchase_span(backend, timezone=timezone)
    cache: dict[str, pd.DataFrame] = {}
    transaction_fit, transaction_reused = _current_fit(
        backend,
        span,
        query.model,
        data_version=data_version,
        models_dir=models_dir,
        time_unit=query.time_unit,
        summary_cache=cache,
    )
    spend_fit, spend_reused = _current_fit(
        backend,
        span,
        "gamma-gamma",
        data_version=data_version,
        models_dir=models_dir,
        time_unit=transaction_fit.time_unit,
        summary_cache=cache,
    )
    unit = transaction_fit.time_unit
    summary = cache.get(unit)
    if summary is None:
        summary = customer_summary(backend, span, calibration_end=span.last_day, observation_end=None, time_unit=unit)
    horizon_in_fit_units = query.horizon_days / DAYS_PER_TIME_UNIT[unit]
    periods = max(1, round(query.horizon_days / DISCOUNT_PERIOD_DAYS))
    period_length = horizon_in_fit_units / periods
    period_days = query.horizon_days / periods
    discount_per_period = (1.0 + query.annual_discount_rate) ** (period_days / 365.25) - 1.0
    margin = FLAT_MARGIN if query.margin is None else query.margin
    churn_bands = transaction_fit.churn_bands
    assert churn_bands is not None  # _current_fit gives a transaction fit its churn cut-offs
    predictions = predict_customers(
        transaction_fit.transaction_model(),
        summary,
        horizon_periods=periods,
        churn_bands=churn_bands,
        spend_model=spend_fit.spend_model(),
        discount_rate_per_period=discount_per_period,
        margin=margin,
        period_length=period_length,
        calibration_end=span.last_day,
        time_unit=unit,
    )
    predictions["customer_key"] = summary["customer_key"].to_numpy()
    predictions["value_tier"] = _value_tiers(predictions["clv"])
    ordered = predictions.join(summary[["frequency", "recency", "T", "monetary_value"]]).sort_values(
        ["clv", "customer_key"], ascending=[False, True]
    )
    shown = ordered if query.limit is None else ordered.head(query.limit)
    warnings: list[str] = []
    for fit in (transaction_fit, spend_fit):
        if fit.calibration_end < span.last_day:
            warnings.append(
                f"the saved {fit.model} fit was calibrated on data up to {fit.calibration_end} "
                f"(clv fit --calibration-end); run clv fit without it to use all data to {span.last_day}"
            )
        warnings += [f"{fit.model}: {w}" for w in fit.warnings]
    return {
        "as_of": span.last_day.isoformat(),
        "horizon": query.horizon,
        "time_unit": query.time_unit,
        "horizon_days": query.horizon_days,
        "margin": margin,
        "annual_discount_rate": query.annual_discount_rate,
        "models": {
            "transaction": {
                "model": transaction_fit.model,
                "params": transaction_fit.params,
                "calibration_end": transaction_fit.calibration_end.isoformat(),
                "time_unit": unit,
                "reused_saved_fit": transaction_reused,
            },
            "spend": {
                "model": spend_fit.model,
                "params": spend_fit.params,
                "calibration_end": spend_fit.calibration_end.isoformat(),
                "reused_saved_fit": spend_reused,
            },
        },
        "data_version": data_version,
        "n_customers": len(predictions),
        "totals": {
            "expected_purchases": float(predictions["expected_purchases"].sum()),
            "clv": float(predictions["clv"].sum()),
        },
        "churn": _churn_document(churn_bands, transaction_fit.churn_validation),
        "by_churn_risk": _group_totals(predictions, "churn_risk", CHURN_RISK_BANDS),
        "by_value_tier": _group_totals(predictions, "value_tier", tuple(name for name, _ in VALUE_TIERS)),
        "rows": [
            {
                "customer_key": str(row["customer_key"]),
                "frequency": float(row["frequency"]),
                "recency": float(row["recency"]),
                "T": float(row["T"]),
                "expected_purchases": float(row["expected_purchases"]),
                "p_alive": float(row["probability_alive"]),
                "p_no_purchase": float(row["p_no_purchase"]),
                "churn_risk": str(row["churn_risk"]),
                "expected_average_spend": _optional_number(row["expected_average_spend"]),
                "clv": _optional_number(row["clv"]),
                "expected_next_order_date": (
                    row["next_purchase_date"].isoformat() if isinstance(row["next_purchase_date"], date) else None
                ),
                "value_tier": str(row["value_tier"]),
            }
            for row in shown.to_dict("records")
        ],
        "rows_shown": len(shown),
        "warnings": warnings,
    }
