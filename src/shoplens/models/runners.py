"""Runners: typed questions about the store's customers and demand, answered from its warehouse.

Each ``run_…`` function reads the warehouse through Ibis, calls the models and returns a JSON-ready ``dict`` that
the query layer (:mod:`shoplens.queries`) validates into its typed result; the questions themselves (what may be
asked, and its validation) are the query layer's. The parameters are described here as protocols.

**What a purchase is.** The customer-base models follow customers over time, so they read the purchases of known
customers only (:func:`shoplens.metrics.customer_orders`: a guest order cannot be linked to anyone's history, and
cancelled, voided and test orders never happened). The amount is ``orders.net`` — merchandise after discounts,
*before* refunds: the transaction models count purchase occasions, and a refunded order was still an occasion;
refunds in many exports (UCI Online Retail credit notes) are not linked to the order they reverse, so subtracting
them per purchase would be guesswork. When the store has refunds the fit says how large they are, so that
``--margin`` can be lowered to match. CDNOW has none.

**Days.** Purchase days are the store's local days (``Settings.timezone``), the same days the metrics use:
exact across daylight-saving changes.

**Saved fits.** ``run_clv_fit`` writes the fitted parameters to ``<models_dir>/<model>.json`` with the warehouse's
data version; ``run_clv_predict`` reuses them while the data version is unchanged, and otherwise fits BG/NBD (or
Pareto/NBD) and Gamma-Gamma on all the data first.
"""

from __future__ import annotations

import json
import math
import os
import warnings as python_warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Protocol, cast

import numpy as np
import pandas as pd

from shoplens.errors import InputError
from shoplens.metrics import StoreZone, customer_orders, purchase_refunds
from shoplens.models import bgnbd, gamma_gamma, pareto_nbd
from shoplens.models._fitting import SMALL_DATA_CUSTOMERS, BootstrapIntervals
from shoplens.models._holdout_plot import (
    bucket_errors,
    holdout_by_frequency,
    holdout_chart,
    write_chart,
)
from shoplens.models._summary import DAYS_PER_TIME_UNIT, TimeUnit, rfm_summary
from shoplens.models.bgnbd import FittedBGNBD
from shoplens.models.clv import CHURN_RISK_BANDS, holdout_comparison, predict_customers
from shoplens.models.forecast import (
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
from shoplens.models.gamma_gamma import FittedGammaGamma
from shoplens.models.pareto_nbd import FittedParetoNBD

ModelName = Literal["bgnbd", "pareto-nbd", "gamma-gamma"]
TransactionModelName = Literal["bgnbd", "pareto-nbd"]
MODEL_NAMES: tuple[ModelName, ...] = ("bgnbd", "pareto-nbd", "gamma-gamma")
TRANSACTION_MODEL_NAMES: tuple[TransactionModelName, ...] = ("bgnbd", "pareto-nbd")
TIME_UNIT_NAMES = {"D": "days", "W": "weeks"}

# Below SMALL_DATA_CUSTOMERS customers every fit reports bootstrap intervals, with this many resamples unless asked.
AUTOMATIC_BOOTSTRAP_RESAMPLES = 100
AUTOMATIC_BOOTSTRAP_SECONDS = 20.0
REQUESTED_BOOTSTRAP_SECONDS = 300.0
BOOTSTRAP_LEVEL = 0.95
# A saved fit of another format is refitted, not reused (2: purchases only, on DST-exact local days).
SAVED_FIT_FORMAT = 2
# Discounting is monthly: the horizon is cut into whole periods of about this many days.
DISCOUNT_PERIOD_DAYS = 365.25 / 12
# Value tiers: the customers with the highest predicted CLV, by share of customers.
VALUE_TIERS = (("high", 0.2), ("medium", 0.3), ("low", 0.5))


@contextmanager
def _quiet_numerics() -> Iterator[None]:
    """Run model fits single-threaded and without numpy's RuntimeWarnings.

    The optimisers work on vectors of three or four parameters and the Kalman filter on small matrices: BLAS
    threads only add overhead, and on a busy machine (two cores shared with other work) waiting for them made a
    CDNOW fit 40 times slower (0.24 s instead of 6 ms). threadpoolctl comes with scikit-learn; without it, BLAS
    keeps its default. The models handle overflow and log(0) at extreme parameters themselves and report doubtful
    fits in their warnings, so numpy's RuntimeWarnings about the same would only clutter stderr.
    """
    with python_warnings.catch_warnings(), np.errstate(all="ignore"), _single_threaded_blas():
        python_warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _single_threaded_blas() -> AbstractContextManager[object]:
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - threadpoolctl is there wherever scikit-learn is
        return nullcontext()
    return cast(AbstractContextManager[object], threadpool_limits(limits=1, user_api="blas"))


# --- what the warehouse holds ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseSpan:
    """When the known customers' purchases start and end, in store-local days."""

    first_day: date
    last_day: date
    customers: int
    zone: StoreZone


def _store_zone(backend: Any, timezone: str) -> StoreZone:
    """The store's zone narrowed to the years its orders span (keeps the local-time expression small)."""
    orders = backend.table("orders")
    row = backend.execute(orders.aggregate(first=orders["ordered_at"].min(), last=orders["ordered_at"].max()))
    years = [pd.Timestamp(row[column].iloc[0]).year for column in ("first", "last") if pd.notna(row[column].iloc[0])]
    return StoreZone.spanning(timezone, years)


def purchase_span(backend: Any, *, timezone: str = "UTC") -> PurchaseSpan:
    """The span of the store's customer purchases; an InputError when there are none."""
    zone = _store_zone(backend, timezone)
    purchases = customer_orders(backend.table("orders"), zone)
    row = backend.execute(
        purchases.aggregate(
            first=purchases["local_day"].min(),
            last=purchases["local_day"].max(),
            customers=purchases["customer_key"].nunique(),
        )
    ).iloc[0]
    if pd.isna(row["last"]):
        raise InputError(
            "no orders from known customers in the warehouse: import orders with customer ids first "
            "(guest orders cannot be followed over time)"
        )
    return PurchaseSpan(
        first_day=pd.Timestamp(row["first"]).date(),
        last_day=pd.Timestamp(row["last"]).date(),
        customers=int(row["customers"]),
        zone=zone,
    )


def _refund_share(backend: Any) -> float:
    """Refunds to known customers as a share of their purchases' net sales."""
    orders = backend.table("orders")
    refunds = purchase_refunds(backend.table("refunds"), orders)
    ordered = backend.execute(customer_orders(orders)["net"].sum())
    refunded = backend.execute(refunds.filter(refunds["customer_key"].notnull())["amount"].sum())
    if ordered is None or pd.isna(ordered) or ordered <= 0 or refunded is None or pd.isna(refunded):
        return 0.0
    return float(Decimal(refunded) / Decimal(ordered))


def _summary(
    backend: Any,
    span: PurchaseSpan,
    *,
    calibration_end: date,
    observation_end: date | None,
    time_unit: TimeUnit,
) -> pd.DataFrame:
    purchases = customer_orders(backend.table("orders"), span.zone)
    expression = rfm_summary(
        purchases,
        calibration_end=calibration_end,
        observation_end=observation_end,
        time_unit=time_unit,
        time_col="local_day",
        amount_col="net",
    )
    summary: pd.DataFrame = backend.execute(expression)
    return summary.sort_values("customer_key").reset_index(drop=True)


def _check_summary(summary: pd.DataFrame, span: PurchaseSpan, calibration_end: date) -> None:
    """Degenerate data get one clear sentence instead of a failed fit."""
    if span.first_day == span.last_day:
        raise InputError(
            f"every order falls on one day ({span.first_day}): there is no time in which a repeat purchase could "
            "be seen"
        )
    if len(summary) < 2:
        raise InputError(
            f"only {len(summary)} customer had bought by {calibration_end}: the models describe a customer base "
            "and need many customers (about 50 or more)"
        )
    if not (summary["T"] > 0).any():
        raise InputError(
            f"every customer's first purchase is on {calibration_end}, the end of calibration: there is no time in "
            "which a repeat purchase could be seen; use a later --calibration-end"
        )
    if not (summary["frequency"] > 0).any():
        raise InputError(
            f"no customer bought on two different days by {calibration_end}, so buying rate and dropout cannot be "
            "told apart; use a later --calibration-end or more data"
        )


# --- saved fits ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedFit:
    """A fitted model as written to ``<models_dir>/<model>.json``."""

    model: ModelName
    params: dict[str, float]
    log_likelihood: float
    n_customers: int
    n_repeat_buyers: int
    converged: bool
    warnings: list[str]
    time_unit: TimeUnit
    calibration_end: date
    data_version: int
    frequency_monetary_correlation: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": SAVED_FIT_FORMAT,
            "model": self.model,
            "params": self.params,
            "log_likelihood": self.log_likelihood,
            "n_customers": self.n_customers,
            "n_repeat_buyers": self.n_repeat_buyers,
            "converged": self.converged,
            "warnings": self.warnings,
            "time_unit": self.time_unit,
            "calibration_end": self.calibration_end.isoformat(),
            "data_version": self.data_version,
            "frequency_monetary_correlation": _finite_or_none(self.frequency_monetary_correlation),
        }

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> SavedFit:
        correlation = document.get("frequency_monetary_correlation")
        return cls(
            model=document["model"],
            params={str(k): float(v) for k, v in document["params"].items()},
            log_likelihood=float(document["log_likelihood"]),
            n_customers=int(document["n_customers"]),
            n_repeat_buyers=int(document["n_repeat_buyers"]),
            converged=bool(document["converged"]),
            warnings=[str(w) for w in document["warnings"]],
            time_unit=document["time_unit"],
            calibration_end=date.fromisoformat(document["calibration_end"]),
            data_version=int(document["data_version"]),
            frequency_monetary_correlation=None if correlation is None else float(correlation),
        )

    def transaction_model(self) -> FittedBGNBD | FittedParetoNBD:
        kind = FittedBGNBD if self.model == "bgnbd" else FittedParetoNBD
        return kind(
            params=self.params,
            log_likelihood=self.log_likelihood,
            n_customers=self.n_customers,
            n_repeat_buyers=self.n_repeat_buyers,
            converged=self.converged,
            warnings=self.warnings,
        )

    def spend_model(self) -> FittedGammaGamma:
        correlation = self.frequency_monetary_correlation
        return FittedGammaGamma(
            params=self.params,
            log_likelihood=self.log_likelihood,
            n_customers=self.n_customers,
            frequency_monetary_correlation=float("nan") if correlation is None else correlation,
            converged=self.converged,
            warnings=self.warnings,
        )


def saved_fit_path(models_dir: Path, model: ModelName) -> Path:
    return models_dir / f"{model}.json"


def save_fit(models_dir: Path, fit: SavedFit) -> Path:
    """Write atomically, so a reader never sees half a file."""
    models_dir.mkdir(parents=True, exist_ok=True)
    path = saved_fit_path(models_dir, fit.model)
    partial = path.with_suffix(f".json.{os.getpid()}.tmp")
    partial.write_text(json.dumps(fit.as_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


def load_fit(models_dir: Path, model: ModelName) -> SavedFit | None:
    """The saved fit, or None when there is none or it cannot be read (it is then simply refitted)."""
    path = saved_fit_path(models_dir, model)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("format") != SAVED_FIT_FORMAT or document.get("model") != model:
            return None
        return SavedFit.from_dict(document)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


# --- clv fit ---------------------------------------------------------------------------------------------------------


class ClvFitQuery(Protocol):
    """What to fit (validated by the query layer): the model, the calibration and holdout ends, the time unit,
    bootstrap resamples and seed, and where to draw the holdout chart."""

    @property
    def model(self) -> ModelName: ...
    @property
    def calibration_end(self) -> date | None: ...
    @property
    def observation_end(self) -> date | None: ...
    @property
    def time_unit(self) -> TimeUnit: ...
    @property
    def bootstrap(self) -> int | None: ...
    @property
    def seed(self) -> int: ...
    @property
    def plot(self) -> Path | None: ...


def _resolve_period(query: ClvFitQuery, span: PurchaseSpan) -> tuple[date, date | None]:
    calibration_end = query.calibration_end or span.last_day
    if calibration_end < span.first_day:
        raise InputError(
            f"--calibration-end {calibration_end} is before the first order ({span.first_day}): no customer to fit on"
        )
    if calibration_end > span.last_day:
        raise InputError(
            f"--calibration-end {calibration_end} is after the last order ({span.last_day}); the data end there"
        )
    observation_end = query.observation_end
    if observation_end is None:
        observation_end = span.last_day if calibration_end < span.last_day else None
    elif observation_end <= calibration_end:
        raise InputError(
            f"--observation-end {observation_end} must be after --calibration-end {calibration_end}, "
            "or the holdout period is empty"
        )
    elif observation_end > span.last_day:
        raise InputError(
            f"--observation-end {observation_end} is after the last order ({span.last_day}); the holdout would "
            "count days without data as days without purchases"
        )
    if query.plot is not None and observation_end is None:
        raise InputError(
            f"--plot needs a holdout period: give a --calibration-end before the last order ({span.last_day})"
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


def _parameter_intervals(query: ClvFitQuery, summary: pd.DataFrame) -> tuple[dict[str, Any] | None, list[str]]:
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


def _fit_model(
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
        "predicted_to_actual": _finite_or_none(totals["predicted_to_actual"]),
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
        "predicted_mean_spend": _finite_or_none(float(np.nanmean(predicted))),
        "mean_absolute_error": _finite_or_none(float(np.nanmean(np.abs(predicted - actual)))),
    }


def run_clv_fit(
    backend: Any, query: ClvFitQuery, *, data_version: int, models_dir: Path, timezone: str = "UTC"
) -> dict[str, Any]:
    """Fit ``query.model`` on the warehouse behind ``backend`` (an Ibis backend), save it, and report it."""
    with _quiet_numerics():
        return _run_clv_fit(backend, query, data_version=data_version, models_dir=models_dir, timezone=timezone)


def _run_clv_fit(
    backend: Any, query: ClvFitQuery, *, data_version: int, models_dir: Path, timezone: str
) -> dict[str, Any]:
    span = purchase_span(backend, timezone=timezone)
    calibration_end, observation_end = _resolve_period(query, span)
    summary = _summary(
        backend, span, calibration_end=calibration_end, observation_end=observation_end, time_unit=query.time_unit
    )
    _check_summary(summary, span, calibration_end)
    fit = _fit_model(
        query.model, summary, time_unit=query.time_unit, calibration_end=calibration_end, data_version=data_version
    )
    warnings = list(fit.warnings)
    refund_share = _refund_share(backend)
    if refund_share > 0:
        warnings.append(
            f"refunds are {refund_share:.1%} of the value of customers' orders; spend and CLV are before refunds, "
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
        document["frequency_monetary_correlation"] = _finite_or_none(fit.frequency_monetary_correlation)
    intervals, notes = _parameter_intervals(query, summary)
    if intervals is not None:
        document["intervals"] = intervals
        warnings += notes
    if observation_end is not None:
        if query.model == "gamma-gamma":
            document["holdout"] = _spend_holdout(fit, summary, observation_end=observation_end)
        else:
            document["holdout"] = _transaction_holdout(fit, summary, observation_end=observation_end, plot=query.plot)
    document["saved_to"] = str(save_fit(models_dir, fit))
    return document


# --- clv predict -----------------------------------------------------------------------------------------------------


class ClvPredictQuery(Protocol):
    """What to predict (validated by the query layer): horizon and time unit, model, margin, discount rate, rows."""

    @property
    def horizon(self) -> int: ...
    @property
    def time_unit(self) -> TimeUnit: ...
    @property
    def model(self) -> TransactionModelName: ...
    @property
    def margin(self) -> float: ...
    @property
    def annual_discount_rate(self) -> float: ...
    @property
    def limit(self) -> int | None: ...
    @property
    def horizon_days(self) -> int: ...


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
    """The saved fit when it is for the current data; otherwise a new fit on all the data, saved. (fit, reused)."""
    saved = load_fit(models_dir, model)
    if saved is not None and saved.data_version == data_version:
        return saved, True
    if time_unit not in summary_cache:
        summary = _summary(backend, span, calibration_end=span.last_day, observation_end=None, time_unit=time_unit)
        _check_summary(summary, span, span.last_day)
        summary_cache[time_unit] = summary
    fit = _fit_model(
        model, summary_cache[time_unit], time_unit=time_unit, calibration_end=span.last_day, data_version=data_version
    )
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
                "mean_p_alive": _finite_or_none(float(group["probability_alive"].mean())) if len(group) else None,
                "clv": clv_sum,
                "clv_share": clv_sum / total_clv if total_clv > 0 else None,
            }
        )
    return rows


def _optional_number(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def run_clv_predict(
    backend: Any, query: ClvPredictQuery, *, data_version: int, models_dir: Path, timezone: str = "UTC"
) -> dict[str, Any]:
    """Expected purchases, P(alive), churn risk, spend, CLV and next order date per customer, plus group totals."""
    with _quiet_numerics():
        return _run_clv_predict(backend, query, data_version=data_version, models_dir=models_dir, timezone=timezone)


def _run_clv_predict(
    backend: Any, query: ClvPredictQuery, *, data_version: int, models_dir: Path, timezone: str
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
        summary = _summary(backend, span, calibration_end=span.last_day, observation_end=None, time_unit=unit)
    horizon_in_fit_units = query.horizon_days / DAYS_PER_TIME_UNIT[unit]
    periods = max(1, round(query.horizon_days / DISCOUNT_PERIOD_DAYS))
    period_length = horizon_in_fit_units / periods
    period_days = query.horizon_days / periods
    discount_per_period = (1.0 + query.annual_discount_rate) ** (period_days / 365.25) - 1.0
    predictions = predict_customers(
        transaction_fit.transaction_model(),
        summary,
        horizon_periods=periods,
        spend_model=spend_fit.spend_model(),
        discount_rate_per_period=discount_per_period,
        margin=query.margin,
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
        "margin": query.margin,
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


# --- forecast --------------------------------------------------------------------------------------------------------


class ForecastQuery(Protocol):
    """What to forecast (validated by the query layer)."""

    @property
    def metric(self) -> Metric: ...
    @property
    def grain(self) -> Grain: ...
    @property
    def horizon(self) -> int: ...
    @property
    def by_category(self) -> bool: ...
    @property
    def backtest_weeks(self) -> int: ...
    @property
    def use_events(self) -> bool: ...
    @property
    def level(self) -> float: ...


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
    history: pd.Series, query: ForecastQuery, calendar: pd.DataFrame, store_orders: pd.Series, closures: Closures
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


def run_forecast(backend: Any, query: ForecastQuery, *, timezone: str = "UTC") -> dict[str, Any]:
    """Forecast the store's demand (and per category), with a backtest against the seasonal-naive baseline."""
    with _quiet_numerics():
        return _run_forecast(backend, query, timezone=timezone)


def _run_forecast(backend: Any, query: ForecastQuery, *, timezone: str) -> dict[str, Any]:
    zone = _store_zone(backend, timezone)
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
