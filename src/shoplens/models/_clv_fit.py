"""Fit one customer-base model on the store's purchases, score it on a holdout, save it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

from shoplens.errors import FieldError, InputError
from shoplens.models import bgnbd, gamma_gamma, pareto_nbd
from shoplens.models._customer_base import (
    PurchaseSpan,
    check_summary,
    customer_summary,
    purchase_span,
    quiet_numerics,
    refund_share,
)
from shoplens.models._fitting import SMALL_DATA_CUSTOMERS, BootstrapIntervals
from shoplens.models._holdout_plot import (
    bucket_errors,
    check_chart_path,
    holdout_by_frequency,
    holdout_chart,
    write_chart,
)
from shoplens.models._saved_fits import MODEL_NAMES, ModelName, SavedFit, finite_or_none, save_fit
from shoplens.models._summary import DAYS_PER_TIME_UNIT, TimeUnit, check_time_unit
from shoplens.models.bgnbd import FittedBGNBD
from shoplens.models.churn import CHURN_WINDOW_DAYS, ChurnBands, choose_cut_offs, validate_churn_score
from shoplens.models.clv import holdout_comparison
from shoplens.models.pareto_nbd import FittedParetoNBD

TIME_UNIT_NAMES = {"D": "days", "W": "weeks"}

# Below SMALL_DATA_CUSTOMERS customers every fit reports bootstrap intervals, with this many resamples unless asked.
AUTOMATIC_BOOTSTRAP_RESAMPLES = 100
AUTOMATIC_BOOTSTRAP_SECONDS = 20.0
REQUESTED_BOOTSTRAP_SECONDS = 300.0
BOOTSTRAP_LEVEL = 0.95


# --- clv fit ---------------------------------------------------------------------------------------------------------


class ClvFitParameters(BaseModel):
    """What to fit: the model, the calibration and holdout ends, the time unit, bootstrap resamples and seed, and
    where to draw the holdout chart. ``calibration_end`` defaults to the last purchase day; a holdout is scored when
    it is earlier (up to ``observation_end``, default the last purchase day). Checked up front, each bad value with
    one sentence (an InputError, not a ValueError, so that it reaches the user unchanged)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: ModelName = "bgnbd"
    calibration_end: date | None = None
    observation_end: date | None = None
    time_unit: TimeUnit = "D"
    bootstrap: int | None = None
    seed: int = 0
    plot: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _known_names(cls, values: Any) -> Any:
        if isinstance(values, dict):
            model = values.get("model", "bgnbd")
            if model not in MODEL_NAMES:
                raise InputError(f"unknown model {model!r}; choose one of: {', '.join(MODEL_NAMES)}")
            check_time_unit(values.get("time_unit", "D"))
        return values

    @model_validator(mode="after")
    def _consistent(self) -> ClvFitParameters:
        if self.bootstrap is not None and self.bootstrap < 2:
            raise FieldError(f"{{bootstrap}} needs at least 2 resamples, got {self.bootstrap}")
        if self.observation_end is not None and self.calibration_end is None:
            raise FieldError("{observation_end} needs a {calibration_end}: the holdout starts after it")
        if self.plot is not None:
            if self.model == "gamma-gamma":
                raise FieldError("{plot} compares holdout purchases; use {model} bgnbd or pareto-nbd")
            check_chart_path(self.plot)
        return self


def _resolve_period(query: ClvFitParameters, span: PurchaseSpan) -> tuple[date, date | None]:
    calibration_end = query.calibration_end or span.last_day
    if calibration_end < span.first_day:
        raise FieldError(
            f"{{calibration_end}} {calibration_end} is before the first order ({span.first_day}): no customer to fit on"
        )
    if calibration_end > span.last_day:
        raise FieldError(
            f"{{calibration_end}} {calibration_end} is after the last order ({span.last_day}); the data end there"
        )
    observation_end = query.observation_end
    if observation_end is None:
        observation_end = span.last_day if calibration_end < span.last_day else None
    elif observation_end <= calibration_end:
        raise FieldError(
            f"{{observation_end}} {observation_end} must be after {{calibration_end}} {calibration_end}, "
            "or the holdout period is empty"
        )
    elif observation_end > span.last_day:
        raise FieldError(
            f"{{observation_end}} {observation_end} is after the last order ({span.last_day}); the holdout would "
            "count days without data as days without purchases"
        )
    if query.plot is not None and observation_end is None:
        raise FieldError(
            f"{{plot}} needs a holdout period: give a {{calibration_end}} before the last order ({span.last_day})"
        )
    return calibration_end, observation_end


def _intervals(result: BootstrapIntervals) -> dict[str, Any]:
    return {
        "level": result.level,
        "n_resamples": result.n_resamples,
        "n_failed": result.n_failed,
        "requested": result.requested,
        "seconds": round(result.seconds, 2),
        "params": {name: [low, high] for name, (low, high) in result.intervals.items()},
    }


def _parameter_intervals(query: ClvFitParameters, summary: pd.DataFrame) -> tuple[dict[str, Any] | None, list[str]]:
    """Bootstrap intervals when asked for, or automatically (within a time budget) for a small store."""
    if query.bootstrap is None and len(summary) >= SMALL_DATA_CUSTOMERS:
        return None, []
    automatic = query.bootstrap is None
    model = {"bgnbd": bgnbd, "pareto-nbd": pareto_nbd, "gamma-gamma": gamma_gamma}[query.model]
    result = model.bootstrap(
        summary,
        n=AUTOMATIC_BOOTSTRAP_RESAMPLES if automatic else int(query.bootstrap or 0),
        seed=query.seed,
        level=BOOTSTRAP_LEVEL,
        seconds=AUTOMATIC_BOOTSTRAP_SECONDS if automatic else REQUESTED_BOOTSTRAP_SECONDS,
    )
    notes = []
    if result.stopped_early:
        notes.append(
            f"the bootstrap stopped at its time limit ({result.seconds:.0f} s) after {result.n_resamples} "
            f"of {result.requested} resamples; the intervals are rough"
            + (" (ask for more time with --bootstrap N)" if automatic else "")
        )
    if result.n_failed:
        notes.append(
            f"{result.n_failed} bootstrap resample(s) could not be fitted (no repeat buyer, or no "
            "convergence) and are left out of the intervals"
        )
    return _intervals(result), notes


def fit_model(
    model: ModelName, summary: pd.DataFrame, *, time_unit: TimeUnit, calibration_end: date, data_version: int
) -> SavedFit:
    if model == "gamma-gamma":
        spend = gamma_gamma.fit(summary)
        return SavedFit(
            model=model,
            params=spend.params,
            log_likelihood=spend.log_likelihood,
            n_customers=spend.n_customers,
            n_repeat_buyers=spend.n_customers,
            converged=spend.converged,
            warnings=list(spend.warnings),
            time_unit=time_unit,
            calibration_end=calibration_end,
            data_version=data_version,
            frequency_monetary_correlation=spend.frequency_monetary_correlation,
        )
    fitted: FittedBGNBD | FittedParetoNBD = bgnbd.fit(summary) if model == "bgnbd" else pareto_nbd.fit(summary)
    return SavedFit(
        model=model,
        params=fitted.params,
        log_likelihood=fitted.log_likelihood,
        n_customers=fitted.n_customers,
        n_repeat_buyers=fitted.n_repeat_buyers,
        converged=fitted.converged,
        warnings=list(fitted.warnings),
        time_unit=time_unit,
        calibration_end=calibration_end,
        data_version=data_version,
    )


# --- churn cut-offs --------------------------------------------------------------------------------------------------


def churn_on_holdout(fit: SavedFit, summary: pd.DataFrame, *, observation_end: date) -> SavedFit:
    """``fit`` with churn cut-offs chosen on the holdout of ``summary`` (an ``rfm_summary`` with
    ``observation_end``, the one ``fit`` was calibrated on) and their validation there."""
    model = fit.transaction_model()
    window = float(summary["duration_holdout"].iloc[0])
    frequency, recency, age = summary["frequency"], summary["recency"], summary["T"]
    score = model.probability_no_purchase(window, frequency, recency, age)
    bought = summary["frequency_holdout"].to_numpy() > 0
    medium_from, high_from = choose_cut_offs(score, bought)
    bands = ChurnBands(window * DAYS_PER_TIME_UNIT[fit.time_unit], medium_from, high_from, chosen_on="holdout")
    validation = validate_churn_score(score, bought, bands, p_alive=model.probability_alive(frequency, recency, age))
    validation = {
        "calibration_end": fit.calibration_end.isoformat(),
        "observation_end": observation_end.isoformat(),
        "model": fit.model,
        "params": fit.params,
    } | validation
    return replace(fit, churn_bands=bands, churn_validation=validation)


def with_churn_bands(backend: Any, span: PurchaseSpan, fit: SavedFit, summary: pd.DataFrame) -> SavedFit:
    """``fit`` (calibrated on ``summary``, without a holdout) with churn cut-offs from a time split.

    The same model is fitted on the purchases up to ``CHURN_WINDOW_DAYS`` before the end of ``fit``'s calibration
    (at most half the store's history) and its cut-offs are chosen on the purchases of that window; they are then
    used with ``fit``, whose P(no purchase) is on the same scale. When the split cannot be fitted (too little
    history), the cut-offs are chosen on ``fit``'s own predicted purchase chances, and its warnings say so.
    """
    window_days = min(CHURN_WINDOW_DAYS, (fit.calibration_end - span.first_day).days // 2)
    split_end = fit.calibration_end - timedelta(days=window_days)
    try:
        if window_days < 1:
            raise InputError("the history is too short for a holdout")
        split_summary = customer_summary(
            backend, span, calibration_end=split_end, observation_end=fit.calibration_end, time_unit=fit.time_unit
        )
        check_summary(split_summary, span, split_end)
        split_fit = fit_model(
            fit.model, split_summary, time_unit=fit.time_unit, calibration_end=split_end, data_version=fit.data_version
        )
        on_split = churn_on_holdout(split_fit, split_summary, observation_end=fit.calibration_end)
        return replace(fit, churn_bands=on_split.churn_bands, churn_validation=on_split.churn_validation)
    except InputError as reason:
        return _churn_bands_from_model(fit, summary, window_days=max(window_days, 1), reason=str(reason))


def _churn_bands_from_model(fit: SavedFit, summary: pd.DataFrame, *, window_days: int, reason: str) -> SavedFit:
    model = fit.transaction_model()
    window = window_days / DAYS_PER_TIME_UNIT[fit.time_unit]
    score = model.probability_no_purchase(window, summary["frequency"], summary["recency"], summary["T"])
    try:
        medium_from, high_from = choose_cut_offs(score, 1.0 - score)
    except InputError:
        bands = ChurnBands(float(window_days), 0.0, 2.0, chosen_on="none")
        note = "every customer is 'medium' churn risk: too few customers tell apart"
    else:
        bands = ChurnBands(float(window_days), medium_from, high_from, chosen_on="model")
        note = "churn-risk cut-offs are chosen on the model's own predictions, not validated on a holdout"
    return replace(fit, churn_bands=bands, churn_validation=None, warnings=[*fit.warnings, f"{note} ({reason})"])


def _transaction_holdout(
    fit: SavedFit, summary: pd.DataFrame, *, observation_end: date, plot: Path | None
) -> dict[str, Any]:
    model = fit.transaction_model()
    totals = holdout_comparison(model, summary)
    buckets = holdout_by_frequency(model, summary)
    document: dict[str, Any] = {
        "observation_end": observation_end.isoformat(),
        "duration": float(summary["duration_holdout"].iloc[0]),
        "customers": int(totals["customers"]),
        "actual_purchases": totals["actual_purchases"],
        "predicted_purchases": totals["predicted_purchases"],
        "predicted_to_actual": finite_or_none(totals["predicted_to_actual"]),
        "mean_absolute_error_per_customer": totals["mean_absolute_error"],
        "buckets": [
            {
                "calibration_frequency": str(row["bucket"]),
                "customers": int(row["customers"]),
                "actual_mean": float(row["actual"]),
                "predicted_mean": float(row["predicted"]),
            }
            for row in buckets.to_dict("records")
        ],
        "bucket_errors": bucket_errors(buckets),
        "plot": None,
    }
    if plot is not None:
        duration = float(summary["duration_holdout"].iloc[0])
        unit = TIME_UNIT_NAMES[fit.time_unit][:-1]
        title = (
            f"{'BG/NBD' if fit.model == 'bgnbd' else 'Pareto/NBD'}: holdout purchases to {observation_end} "
            f"(calibration to {fit.calibration_end})"
        )
        document["plot"] = str(
            write_chart(holdout_chart(buckets, title=title, holdout_length=f"{duration:.3g}-{unit}"), plot)
        )
    return document


def _spend_holdout(fit: SavedFit, summary: pd.DataFrame, *, observation_end: date) -> dict[str, Any]:
    """Predicted average spend (from the calibration) against the actual mean spend of the holdout purchases."""
    buyers = summary[summary["frequency_holdout"] > 0]
    document: dict[str, Any] = {"observation_end": observation_end.isoformat(), "customers": len(buyers)}
    if buyers.empty:
        return document | {"actual_mean_spend": None, "predicted_mean_spend": None, "mean_absolute_error": None}
    predicted = fit.spend_model().conditional_expected_average_spend(buyers["frequency"], buyers["monetary_value"])
    actual = buyers["monetary_value_holdout"].to_numpy(dtype=np.float64)
    return document | {
        "actual_mean_spend": float(actual.mean()),
        "predicted_mean_spend": finite_or_none(float(np.nanmean(predicted))),
        "mean_absolute_error": finite_or_none(float(np.nanmean(np.abs(predicted - actual)))),
    }


def run_clv_fit(
    backend: Any, query: ClvFitParameters, *, data_version: int, models_dir: Path, timezone: str = "UTC"
) -> dict[str, Any]:
    """Fit ``query.model`` on the warehouse behind ``backend`` (an Ibis backend), save it, and report it."""
    with quiet_numerics():
        return _run_clv_fit(backend, query, data_version=data_version, models_dir=models_dir, timezone=timezone)


def _run_clv_fit(
    backend: Any, query: ClvFitParameters, *, data_version: int, models_dir: Path, timezone: str
) -> dict[str, Any]:
    span = purchase_span(backend, timezone=timezone)
    calibration_end, observation_end = _resolve_period(query, span)
    summary = customer_summary(
        backend, span, calibration_end=calibration_end, observation_end=observation_end, time_unit=query.time_unit
    )
    check_summary(summary, span, calibration_end)
    fit = fit_model(
        query.model, summary, time_unit=query.time_unit, calibration_end=calibration_end, data_version=data_version
    )
    if query.model != "gamma-gamma":
        if observation_end is not None:
            fit = churn_on_holdout(fit, summary, observation_end=observation_end)
        else:
            fit = with_churn_bands(backend, span, fit, summary)
    warnings = list(fit.warnings)
    refunded = refund_share(backend)
    if refunded > 0:
        warnings.append(
            f"refunds are {refunded:.1%} of the value of customers' orders; spend and CLV are before refunds, "
            "so lower the margin for clv predict to match"
        )
    document: dict[str, Any] = {
        "model": query.model,
        "params": fit.params,
        "log_likelihood": fit.log_likelihood,
        "n_customers": fit.n_customers,
        "n_repeat_buyers": fit.n_repeat_buyers,
        "converged": fit.converged,
        "time_unit": query.time_unit,
        "calibration_start": span.first_day.isoformat(),
        "calibration_end": calibration_end.isoformat(),
        "data_version": data_version,
        "warnings": warnings,
    }
    if query.model == "gamma-gamma":
        document["frequency_monetary_correlation"] = finite_or_none(fit.frequency_monetary_correlation)
    else:
        document["churn_bands"] = None if fit.churn_bands is None else fit.churn_bands.as_dict()
        document["churn_validation"] = fit.churn_validation
    intervals, notes = _parameter_intervals(query, summary)
    if intervals is not None:
        document["intervals"] = intervals
        warnings += notes
    if observation_end is not None:
        if query.model == "gamma-gamma":
            document["holdout"] = _spend_holdout(fit, summary, observation_end=observation_end)
        else:
            document["holdout"] = _transaction_holdout(fit, summary, observation_end=observation_end, plot=query.plot)
    # relative to the store's home (the models directory's parent): an answer never shows a server path
    document["saved_to"] = save_fit(models_dir, fit).relative_to(models_dir.parent).as_posix()
    return document
