"""The forecast model: an unobserved-components model of log(1 + demand) with weekly and yearly patterns and event
regressors, fitted once and refiltered, and its median, mean and interval forecasts (see
:mod:`shoplens.models.forecast`).
"""

from __future__ import annotations

import warnings as python_warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from shoplens.errors import InputError
from shoplens.models._fitting import FloatArray
from shoplens.models._forecast_events import EventEffect
from shoplens.models._forecast_periods import DAYS_PER_WEEK, DAYS_PER_YEAR, BoolArray, Grain

# The yearly pattern is modelled only when at least half of the year has been seen twice; with less it cannot be
# told apart from the level's drift.
YEARLY_MIN_HISTORY_DAYS = 548
YEARLY_HARMONICS = 4
DEFAULT_INTERVAL_LEVEL = 0.8
# The mean forecast's correction is estimated from the last quarter (13 weeks) or half year (26 weeks).
SMEARING_RECENT_PERIODS: dict[str, int] = {"day": 91, "week": 26}


@dataclass(frozen=True)
class _Specification:
    grain: Grain
    yearly: bool
    event_names: tuple[str, ...]

    def model(self, endog: FloatArray, regressors: pd.DataFrame) -> Any:
        from statsmodels.tsa.statespace.structural import UnobservedComponents  # type: ignore[import-untyped]

        seasonal: list[dict[str, float]] = []
        stochastic: list[bool] = []
        if self.grain == "day":
            seasonal.append({"period": DAYS_PER_WEEK, "harmonics": 3})
            stochastic.append(True)
        if self.yearly:
            period = DAYS_PER_YEAR if self.grain == "day" else DAYS_PER_YEAR / DAYS_PER_WEEK
            seasonal.append({"period": period, "harmonics": YEARLY_HARMONICS})
            stochastic.append(False)
        exog = regressors[list(self.event_names)].to_numpy() if self.event_names else None
        return UnobservedComponents(
            endog,
            level="llevel",
            freq_seasonal=seasonal or None,
            stochastic_freq_seasonal=stochastic or None,
            exog=exog,
            mle_regression=False,
        )

    @property
    def components(self) -> list[str]:
        parts = ["local level"]
        if self.grain == "day":
            parts.append("weekly pattern")
        if self.yearly:
            parts.append("yearly pattern")
        if self.event_names:
            parts.append(f"{len(self.event_names)} calendar events")
        return parts


def _specify(grain: Grain, endog: FloatArray, regressors: pd.DataFrame, *, use_events: bool) -> _Specification:
    """Yearly pattern when the history is long enough; a regressor for every event seen on an open period."""
    days = len(endog) * (1 if grain == "day" else DAYS_PER_WEEK)
    observed = np.isfinite(endog)
    seen = [name for name in regressors.columns if (regressors[name].to_numpy()[observed] > 0).any()]
    return _Specification(grain, days >= YEARLY_MIN_HISTORY_DAYS, tuple(seen) if use_events else ())


@dataclass(frozen=True)
class _Estimate:
    specification: _Specification
    params: FloatArray
    results: Any
    warnings: list[str]


def _estimate(specification: _Specification, endog: FloatArray, regressors: pd.DataFrame) -> _Estimate:
    from statsmodels.tools.sm_exceptions import ConvergenceWarning  # type: ignore[import-untyped]

    model = specification.model(endog, regressors)
    with python_warnings.catch_warnings(record=True) as caught:
        python_warnings.simplefilter("always")
        results = model.fit(disp=False, maxiter=500)
    notes = []
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        notes.append("the forecast model's optimiser did not fully converge; its intervals are less reliable")
    return _Estimate(specification, np.asarray(results.params, dtype=np.float64), results, notes)


def _refilter(estimate: _Estimate, endog: FloatArray, regressors: pd.DataFrame) -> Any:
    """The same parameters on a longer history: the Kalman filter updates level, patterns and event effects."""
    model = estimate.specification.model(endog, regressors)
    with python_warnings.catch_warnings():
        python_warnings.simplefilter("ignore")
        return model.filter(estimate.params)


@dataclass(frozen=True)
class _Prediction:
    median: FloatArray  # in the original scale, zero on closed periods
    expected: FloatArray  # the mean: medians of parts do not add up to the median of the whole, means do
    lower: FloatArray
    upper: FloatArray
    effects: list[EventEffect]
    warnings: list[str]


def _predict(
    results: Any,
    specification: _Specification,
    future: pd.DatetimeIndex,
    future_regressors: pd.DataFrame,
    kinds: dict[str, str],
    closed: BoolArray,
    level: float,
) -> _Prediction:
    """Median forecast and interval; events never seen before get the mean effect of their kind's seen events."""
    names = list(specification.event_names)
    with python_warnings.catch_warnings():
        python_warnings.simplefilter("ignore")
        prediction = results.get_forecast(
            steps=len(future),
            exog=future_regressors.reindex(columns=names, fill_value=0.0).to_numpy() if names else None,
        )
    mean = np.asarray(prediction.predicted_mean, dtype=np.float64)
    spread = np.sqrt(np.asarray(prediction.var_pred_mean, dtype=np.float64))
    state_names = list(results.model.state_names)
    last_state = np.asarray(results.filtered_state)[:, -1]
    coefficients = {name: float(last_state[state_names.index(f"beta.x{i + 1}")]) for i, name in enumerate(names)}
    effects = [
        EventEffect(name, kinds.get(name, ""), float(np.exp(value)), 0, True) for name, value in coefficients.items()
    ]
    by_kind: dict[str, list[float]] = {}
    for name, value in coefficients.items():
        by_kind.setdefault(kinds.get(name, ""), []).append(value)
    notes: list[str] = []
    for name in future_regressors.columns:
        if name in coefficients or not future_regressors[name].to_numpy().any():
            continue
        kind = kinds.get(name, "")
        if kind and kind in by_kind:
            adjustment = float(np.mean(by_kind[kind]))
            mean = mean + future_regressors[name].to_numpy() * adjustment
            effects.append(EventEffect(name, kind, float(np.exp(adjustment)), 0, False))
        else:
            notes.append(
                f"event {name!r} has not happened before and no past event shares its kind: its effect cannot be "
                "estimated and the forecast leaves it out"
            )
    z = float(special.ndtri(0.5 + level / 2.0))
    with np.errstate(over="ignore"):  # closed periods may have an unbounded pattern; they are zero anyway
        median, lower, upper = (np.expm1(v).clip(0.0) for v in (mean, mean - z * spread, mean + z * spread))
        factor, one_step_variance = _smearing(results, specification.grain)
        extra_variance = np.clip(spread**2 - one_step_variance, 0.0, None)
        expected = (np.exp(mean + extra_variance / 2.0) * factor - 1.0).clip(0.0)
    return _Prediction(
        median=np.where(closed, 0.0, median),
        expected=np.where(closed, 0.0, expected),
        lower=np.where(closed, 0.0, lower),
        upper=np.where(closed, 0.0, upper),
        effects=effects,
        warnings=notes,
    )


def _smearing(results: Any, grain: Grain) -> tuple[float, float]:
    """E[exp(one-step error)] and the one-step error variance, at the store's current scale.

    The factor is the mean of the exponentials of the recent one-step errors (Duan 1983, "Smearing estimate", JASA
    78): the mean of 1 + y next period is exp(μ) times it; further ahead the level's extra uncertainty is taken as
    normal, adding (σ²_h − σ²_1)/2 to the exponent. Empirical rather than exp(σ²/2), because log(1 + y) is far from
    normal where a small shop has days without orders (a zero sits several units below the typical log revenue); and
    recent (:data:`SMEARING_RECENT_PERIODS`), because a growing shop's early days, with a handful of orders, are
    noisier than its present.
    """
    errors = np.asarray(results.forecasts_error, dtype=np.float64)[0]
    start = max(int(results.loglikelihood_burn), len(errors) - SMEARING_RECENT_PERIODS[grain])
    recent = errors[start:]
    recent = recent[np.isfinite(recent)]
    factor = float(np.mean(np.exp(recent))) if len(recent) else 1.0
    return factor, float(np.asarray(results.forecasts_error_cov, dtype=np.float64)[0, 0, -1])


def _log_demand(values: pd.Series, closed: BoolArray) -> FloatArray:
    """log(1 + y), with closed periods missing."""
    demand: FloatArray = np.log1p(np.clip(values.to_numpy(dtype=np.float64), 0.0, None))
    demand[closed] = np.nan
    if not np.isfinite(demand).any():
        raise InputError("every period of the history is a closure; there is no demand to fit")
    return demand
