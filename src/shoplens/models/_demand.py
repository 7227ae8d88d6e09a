"""The store's demand forecast (and per category) with its backtest, as the query layer answers it."""

from __future__ import annotations

from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

from shoplens.errors import FieldError, InputError
from shoplens.models._customer_base import quiet_numerics, store_zone
from shoplens.models.forecast import (
    DEFAULT_INTERVAL_LEVEL,
    GRAINS,
    METRICS,
    Accuracy,
    Backtest,
    Closures,
    Grain,
    Metric,
    backtest,
    demand_periods,
    find_closures,
    forecast,
    order_volume,
)

# --- forecast --------------------------------------------------------------------------------------------------------


class ForecastParameters(BaseModel):
    """Forecast ``metric`` per ``grain`` for ``horizon`` periods, backtested over the last ``backtest_weeks`` weeks
    (0: no backtest); per product category too when ``by_category``. Checked up front."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: Metric = "revenue"
    grain: Grain = "day"
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
            if metric not in METRICS:
                raise FieldError(f"{{metric}} must be one of {', '.join(METRICS)}, not {metric!r}")
            if grain not in GRAINS:
                raise FieldError(f"{{grain}} must be one of {', '.join(GRAINS)}, not {grain!r}")
        return values

    @model_validator(mode="after")
    def _in_range(self) -> ForecastParameters:
        if self.horizon < 1:
            raise FieldError(f"{{horizon}} must be at least 1, got {self.horizon}")
        if self.backtest_weeks < 0:
            raise FieldError(f"{{backtest_weeks}} must be 0 (no backtest) or more, got {self.backtest_weeks}")
        if not 0.0 < self.level < 1.0:
            raise InputError(f"the interval level must be between 0 and 1, got {self.level}")
        return self


def _accuracy(result: Accuracy) -> dict[str, Any]:
    return {
        "mape": result.mape,
        "mase": result.mase,
        "mae": result.mae,
        "periods": result.periods,
        "mape_periods": result.mape_periods,
    }


def _beats(model: float | None, baseline: float | None) -> bool | None:
    return None if model is None or baseline is None else model < baseline


def _backtest_document(result: Backtest) -> dict[str, Any]:
    return {
        "weeks": result.weeks,
        "season_length": result.season_length,
        "baseline": "seasonal naive" if result.season_length > 1 else "naive (last week)",
        "model": _accuracy(result.model),
        "seasonal_naive": _accuracy(result.seasonal_naive),
        "beats_seasonal_naive": {
            "mape": _beats(result.model.mape, result.seasonal_naive.mape),
            "mase": _beats(result.model.mase, result.seasonal_naive.mase),
        },
        "rows": [
            {
                "period": pd.Timestamp(row["period"]).date().isoformat(),
                "actual": float(row["actual"]),
                "forecast": float(row["forecast"]),
                "seasonal_naive": float(row["seasonal_naive"]),
                "events": list(row["events"]),
            }
            for row in result.frame.to_dict("records")
        ],
    }


def _series_document(
    history: pd.Series, query: ForecastParameters, calendar: pd.DataFrame, store_orders: pd.Series, closures: Closures
) -> dict[str, Any]:
    predicted = forecast(
        history,
        grain=query.grain,
        horizon=query.horizon,
        calendar=calendar,
        closures=closures,
        use_events=query.use_events,
        level=query.level,
    )
    warnings = list(predicted.warnings)
    backtest_document = None
    if query.backtest_weeks:
        replay = backtest(
            history,
            grain=query.grain,
            weeks=query.backtest_weeks,
            calendar=calendar,
            store_orders=store_orders,
            use_events=query.use_events,
        )
        backtest_document = _backtest_document(replay)
        warnings += [w for w in replay.warnings if w not in warnings]
    return {
        "components": predicted.components,
        "rows": [
            {
                "period": pd.Timestamp(row["period"]).date().isoformat(),
                "forecast": float(row["forecast"]),
                "expected": float(row["expected"]),
                "lower": float(row["lower"]),
                "upper": float(row["upper"]),
                "events": list(row["events"]),
            }
            for row in predicted.frame.to_dict("records")
        ],
        "event_effects": [
            {
                "name": effect.name,
                "kind": effect.kind or None,
                "multiplier": effect.multiplier,
                "periods_seen": effect.periods_seen,
                "estimated": effect.estimated,
            }
            for effect in predicted.event_effects
        ],
        "backtest": backtest_document,
        "warnings": warnings,
    }


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def run_forecast(backend: Any, query: ForecastParameters, *, timezone: str = "UTC") -> dict[str, Any]:
    """Forecast the store's demand (and per category), with a backtest against the seasonal-naive baseline."""
    with quiet_numerics():
        return _run_forecast(backend, query, timezone=timezone)


def _run_forecast(backend: Any, query: ForecastParameters, *, timezone: str) -> dict[str, Any]:
    zone = store_zone(backend, timezone)
    orders = backend.table("orders")
    totals = demand_periods(backend.execute(order_volume(orders, zone=zone)), grain=query.grain, timezone=timezone)
    calendar = backend.execute(backend.table("events_calendar"))
    store_orders = totals.set_index("period")["orders"]
    closures = find_closures(store_orders, grain=query.grain, calendar=calendar)
    history = totals.set_index("period")[query.metric].astype("float64")
    document: dict[str, Any] = {
        "metric": query.metric,
        "grain": query.grain,
        "horizon": query.horizon,
        "timezone": timezone,
        "interval_level": query.level,
        "events": query.use_events,
        "history": {
            "first_period": pd.Timestamp(history.index[0]).date().isoformat(),
            "last_period": pd.Timestamp(history.index[-1]).date().isoformat(),
            "periods": len(history),
        },
        "closures": {
            "rest_weekdays": [WEEKDAY_NAMES[d] for d in sorted(closures.rest_weekdays)],
            "closed_periods": sorted(pd.Timestamp(p).date().isoformat() for p in closures.closed_periods),
        },
    }
    document |= _series_document(history, query, calendar, store_orders, closures)
    if query.by_category:
        lines = order_volume(
            orders, zone=zone, order_lines=backend.table("order_lines"), products=backend.table("products")
        )
        per_category = demand_periods(backend.execute(lines), grain=query.grain, timezone=timezone)
        categories = []
        for name, rows in per_category.groupby("category", sort=True):
            series = rows.set_index("period")[query.metric].astype("float64").reindex(history.index, fill_value=0.0)
            categories.append(
                {"category": str(name)} | _series_document(series, query, calendar, store_orders, closures)
            )
        document["categories"] = categories
    return document
