"""Customer value and demand as questions: fit a customer-base model, predict per customer, forecast demand.

The computations are in :mod:`shoplens.models`; this module holds what may be asked (validated up front, with one
sentence naming the bad value) and the typed shape of each answer. Fits are saved under the store's models
directory, so a fit and the predictions that reuse it are not kept in the disk cache.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from pydantic import Field

from shoplens.models import (
    FLAT_MARGIN,
    ClvFitParameters,
    ClvPredictParameters,
    ForecastGrain,
    ForecastMetric,
    ForecastParameters,
    ModelName,
    TimeUnit,
    TransactionModelName,
    run_clv_fit,
    run_clv_predict,
    run_forecast,
)
from shoplens.queries._base import Query, Result, Row, answers
from shoplens.queries._context import QueryContext
from shoplens.queries._profit import contribution_margin_rate


class ClvFitQuery(ClvFitParameters, Query):
    """Fit one model and save it (``shoplens clv fit``); see :class:`shoplens.models.ClvFitParameters`."""

    kind: ClassVar[str] = "clv_fit"
    kept_on_disk: ClassVar[bool] = False


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
    churn_bands: dict[str, Any] | None = None
    churn_validation: dict[str, Any] | None = None
    saved_to: str


class ClvPredictQuery(ClvPredictParameters, Query):
    """Per-customer predictions (``shoplens clv predict``); see :class:`shoplens.models.ClvPredictParameters`."""

    kind: ClassVar[str] = "clv_predict"
    kept_on_disk: ClassVar[bool] = False


class _ClvTotals(Result):
    """What a CLV prediction says about the whole store: its settings, the fits used, totals and groups."""

    as_of: date
    horizon: int
    time_unit: TimeUnit
    horizon_days: int
    margin: float
    margin_basis: str = Field(
        "flat", description="contribution (the store's contribution margin rate, costs known) or flat"
    )
    margin_note: str = ""
    annual_discount_rate: float
    models: dict[str, Any]
    n_customers: int
    totals: dict[str, float]
    churn: dict[str, Any]
    by_churn_risk: list[Row]
    by_value_tier: list[Row]
    warnings: list[str]


class ClvPredictResult(_ClvTotals):
    query: ClvPredictQuery
    rows: list[Row]
    rows_shown: int


class ClvSummaryQuery(Query):
    """The CLV prediction's totals by churn risk and value tier, without per-customer rows (API and dashboard)."""

    kind: ClassVar[str] = "clv_summary"
    kept_on_disk: ClassVar[bool] = False

    horizon: int = Field(365, ge=1, le=3650)
    model: TransactionModelName = "bgnbd"


class ForecastQuery(ForecastParameters, Query):
    """The demand forecast (``shoplens forecast``); see :class:`shoplens.models.ForecastParameters`."""

    kind: ClassVar[str] = "forecast"


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


class ClvSummaryResult(_ClvTotals):
    """:class:`ClvPredictResult` without its per-customer rows."""

    query: ClvSummaryQuery


def _fits_of(context: QueryContext) -> dict[str, Any]:
    """Where a computation saves and finds fits: the data version they are for, the models directory, the zone."""
    return {
        "data_version": int(context.data_version or 0),
        "models_dir": context.models_directory(),
        "timezone": context.store_timezone,
    }


@answers(ClvFitQuery, ClvFitResult)
def answer_clv_fit(context: QueryContext, query: ClvFitQuery) -> ClvFitResult:
    document = run_clv_fit(context.backend, query, **_fits_of(context))
    return ClvFitResult.model_validate(document | {"query": query})


def clv_margin(context: QueryContext, asked: float | None) -> tuple[float, str, str]:
    """The margin CLV keeps of expected spend: ``(margin, basis, note)``. The margin asked for when one is; else the
    store's contribution margin rate when every sold product's cost is known (basis ``contribution``); else
    :data:`shoplens.models.FLAT_MARGIN` (basis ``flat``), with the note saying which costs are missing."""
    if asked is not None:
        return asked, "flat", "the margin asked for (--margin)"
    rate, reason = contribution_margin_rate(context)
    if rate is None:
        return FLAT_MARGIN, "flat", f"a flat {FLAT_MARGIN:.0%} of spend, as the store's margin is unknown: {reason}"
    if rate < 0:
        return 0.0, "contribution", f"{reason} is negative ({rate:.1%}): CLV is taken at a margin of 0"
    return min(rate, 1.0), "contribution", reason


@answers(ClvPredictQuery, ClvPredictResult)
def answer_clv_predict(context: QueryContext, query: ClvPredictQuery) -> ClvPredictResult:
    margin, basis, note = clv_margin(context, query.margin)
    chosen = query.model_copy(update={"margin": margin})
    document = run_clv_predict(context.backend, chosen, **_fits_of(context))
    return ClvPredictResult.model_validate(document | {"query": query, "margin_basis": basis, "margin_note": note})


@answers(ClvSummaryQuery, ClvSummaryResult)
def answer_clv_summary(context: QueryContext, query: ClvSummaryQuery) -> ClvSummaryResult:
    prediction = context.run(ClvPredictQuery(horizon=query.horizon, model=query.model, limit=1), ClvPredictResult)
    kept = prediction.model_dump(exclude={"query", "rows", "rows_shown", "cached"})
    return ClvSummaryResult.model_validate(kept | {"query": query})


@answers(ForecastQuery, ForecastResult)
def answer_forecast(context: QueryContext, query: ForecastQuery) -> ForecastResult:
    document = run_forecast(context.backend, query, timezone=context.store_timezone)
    return ForecastResult.model_validate(document | {"query": query})
