"""Customer value and demand as questions: fit a customer-base model, predict per customer, forecast demand.

The computations are in :mod:`shoplens.models`; this module holds what may be asked (validated up front, with one
sentence naming the bad value) and the typed shape of each answer. Fits are saved under the store's models
directory, so a fit and the predictions that reuse it are not kept in the disk cache.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, model_validator

from shoplens.errors import InputError
from shoplens.models import (
    DAYS_PER_TIME_UNIT,
    DEFAULT_INTERVAL_LEVEL,
    FORECAST_GRAINS,
    FORECAST_METRICS,
    MODEL_NAMES,
    TRANSACTION_MODEL_NAMES,
    ForecastGrain,
    ForecastMetric,
    ModelName,
    TimeUnit,
    TransactionModelName,
    check_chart_path,
    run_clv_fit,
    run_clv_predict,
    run_forecast,
)
from shoplens.queries._base import Query, Result, Row, answers
from shoplens.queries._context import QueryContext


class ClvFitQuery(Query):
    """Fit one model. ``calibration_end`` defaults to the last purchase day; a holdout is scored when it is earlier
    (up to ``observation_end``, default the last purchase day)."""

    kind: ClassVar[str] = "clv_fit"
    kept_on_disk: ClassVar[bool] = False

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
        # Raised as InputError (not ValueError) so the sentence reaches the user unchanged.
        if isinstance(values, dict):
            model, unit = values.get("model", "bgnbd"), values.get("time_unit", "D")
            if model not in MODEL_NAMES:
                raise InputError(f"unknown model {model!r}; choose one of: {', '.join(MODEL_NAMES)}")
            if unit not in DAYS_PER_TIME_UNIT:
                raise InputError(f"time unit must be D (days) or W (weeks), not {unit!r}")
        return values

    @model_validator(mode="after")
    def _consistent(self) -> ClvFitQuery:
        if self.bootstrap is not None and self.bootstrap < 2:
            raise InputError(f"--bootstrap needs at least 2 resamples, got {self.bootstrap}")
        if self.observation_end is not None and self.calibration_end is None:
            raise InputError("--observation-end needs a --calibration-end: the holdout starts after it")
        if self.plot is not None:
            if self.model == "gamma-gamma":
                raise InputError("--plot compares holdout purchases; use --model bgnbd or pareto-nbd")
            check_chart_path(self.plot)
        return self


class ClvFitResult(Result):
    query: ClvFitQuery
    model: ModelName
    params: dict[str, float]
    log_likelihood: float
    n_customers: int
    n_repeat_buyers: int
    converged: bool
    time_unit: TimeUnit
    calibration_start: date
    calibration_end: date
    warnings: list[str]
    frequency_monetary_correlation: float | None = None
    intervals: dict[str, Any] | None = None
    holdout: dict[str, Any] | None = None
    saved_to: str


class ClvPredictQuery(Query):
    """Per-customer predictions over ``horizon`` time units from the end of the data."""

    kind: ClassVar[str] = "clv_predict"
    kept_on_disk: ClassVar[bool] = False

    horizon: int = 365
    time_unit: TimeUnit = "D"
    model: TransactionModelName = "bgnbd"
    margin: float = 0.3
    annual_discount_rate: float = 0.1
    limit: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _known_names(cls, values: Any) -> Any:
        if isinstance(values, dict):
            unit, model = values.get("time_unit", "D"), values.get("model", "bgnbd")
            if unit not in DAYS_PER_TIME_UNIT:
                raise InputError(f"time unit must be D (days) or W (weeks), not {unit!r}")
            if model not in TRANSACTION_MODEL_NAMES:
                raise InputError(f"--model must be one of {', '.join(TRANSACTION_MODEL_NAMES)}, not {model!r}")
        return values

    @model_validator(mode="after")
    def _in_range(self) -> ClvPredictQuery:
        if self.horizon < 1:
            raise InputError(f"--horizon must be at least 1, got {self.horizon}")
        if not (math.isfinite(self.margin) and 0.0 <= self.margin <= 1.0):
            raise InputError(f"--margin is a share of revenue between 0 and 1, got {self.margin}")
        if not (math.isfinite(self.annual_discount_rate) and 0.0 <= self.annual_discount_rate < 1.0):
            raise InputError(f"--discount-rate is a yearly rate between 0 and 1, got {self.annual_discount_rate}")
        if self.limit is not None and self.limit < 1:
            raise InputError(f"--limit must be at least 1, got {self.limit}")
        return self

    @property
    def horizon_days(self) -> int:
        return self.horizon * DAYS_PER_TIME_UNIT[self.time_unit]


class ClvPredictResult(Result):
    query: ClvPredictQuery
    as_of: date
    horizon: int
    time_unit: TimeUnit
    horizon_days: int
    margin: float
    annual_discount_rate: float
    models: dict[str, Any]
    n_customers: int
    totals: dict[str, float]
    by_churn_risk: list[Row]
    by_value_tier: list[Row]
    rows: list[Row]
    rows_shown: int
    warnings: list[str]


class ClvSummaryQuery(Query):
    """The CLV prediction's totals by churn risk and value tier, without per-customer rows (API and dashboard)."""

    kind: ClassVar[str] = "clv_summary"
    kept_on_disk: ClassVar[bool] = False

    horizon: int = Field(365, ge=1, le=3650)
    model: TransactionModelName = "bgnbd"


class ForecastQuery(Query):
    """Forecast ``metric`` per ``grain`` for ``horizon`` periods, backtested over the last ``backtest_weeks`` weeks
    (0: no backtest); per product category too when ``by_category``."""

    kind: ClassVar[str] = "forecast"

    metric: ForecastMetric = "revenue"
    grain: ForecastGrain = "day"
    horizon: int = 28
    by_category: bool = False
    backtest_weeks: int = 8
    use_events: bool = True
    level: float = DEFAULT_INTERVAL_LEVEL

    @model_validator(mode="before")
    @classmethod
    def _known_names(cls, values: Any) -> Any:
        if isinstance(values, dict):
            metric, grain = values.get("metric", "revenue"), values.get("grain", "day")
            if metric not in FORECAST_METRICS:
                raise InputError(f"--metric must be one of {', '.join(FORECAST_METRICS)}, not {metric!r}")
            if grain not in FORECAST_GRAINS:
                raise InputError(f"--grain must be one of {', '.join(FORECAST_GRAINS)}, not {grain!r}")
        return values

    @model_validator(mode="after")
    def _in_range(self) -> ForecastQuery:
        if self.horizon < 1:
            raise InputError(f"--horizon must be at least 1, got {self.horizon}")
        if self.backtest_weeks < 0:
            raise InputError(f"--backtest-weeks must be 0 (no backtest) or more, got {self.backtest_weeks}")
        if not 0.0 < self.level < 1.0:
            raise InputError(f"the interval level must be between 0 and 1, got {self.level}")
        return self


class ForecastResult(Result):
    query: ForecastQuery
    metric: ForecastMetric
    grain: ForecastGrain
    horizon: int
    timezone: str
    interval_level: float
    events: bool
    history: dict[str, Any]
    closures: dict[str, Any]
    components: list[str]
    rows: list[Row]
    event_effects: list[Row]
    backtest: dict[str, Any] | None
    warnings: list[str]
    categories: list[dict[str, Any]] | None = None


class ClvSummaryResult(Result):
    """:class:`ClvPredictResult` without its per-customer rows."""

    query: ClvSummaryQuery
    as_of: date
    horizon: int
    time_unit: TimeUnit
    horizon_days: int
    margin: float
    annual_discount_rate: float
    models: dict[str, Any]
    n_customers: int
    totals: dict[str, float]
    by_churn_risk: list[Row]
    by_value_tier: list[Row]
    warnings: list[str]


@answers(ClvFitQuery, ClvFitResult)
def answer_clv_fit(context: QueryContext, query: ClvFitQuery) -> ClvFitResult:
    document = run_clv_fit(
        context.backend,
        query,
        data_version=int(context.data_version or 0),
        models_dir=context.models_directory(),
        timezone=context.store_timezone,
    )
    return ClvFitResult.model_validate(document | {"query": query})


@answers(ClvPredictQuery, ClvPredictResult)
def answer_clv_predict(context: QueryContext, query: ClvPredictQuery) -> ClvPredictResult:
    document = run_clv_predict(
        context.backend,
        query,
        data_version=int(context.data_version or 0),
        models_dir=context.models_directory(),
        timezone=context.store_timezone,
    )
    return ClvPredictResult.model_validate(document | {"query": query})


@answers(ClvSummaryQuery, ClvSummaryResult)
def answer_clv_summary(context: QueryContext, query: ClvSummaryQuery) -> ClvSummaryResult:
    prediction = context.run(ClvPredictQuery(horizon=query.horizon, model=query.model, limit=1), ClvPredictResult)
    kept = prediction.model_dump(exclude={"query", "rows", "rows_shown", "cached"})
    return ClvSummaryResult.model_validate(kept | {"query": query})


@answers(ForecastQuery, ForecastResult)
def answer_forecast(context: QueryContext, query: ForecastQuery) -> ForecastResult:
    document = run_forecast(context.backend, query, timezone=context.store_timezone)
    return ForecastResult.model_validate(document | {"query": query})
