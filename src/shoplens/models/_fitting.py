"""Maximum-likelihood machinery shared by the customer-base models.

Every model here is fitted the same way: validate the per-customer summary (``_validation``), collapse customers
with identical inputs into one weighted row (on real shops thousands of customers share
``frequency = 0, recency = 0`` and a handful of ages, so the likelihood is evaluated on far fewer rows), maximise the
total log-likelihood over the logarithms of the parameters (which keeps them positive without constraints) with
L-BFGS-B, and report anything a careful analyst should know in ``warnings`` rather than failing.

Bootstrap intervals resample customers with replacement (Efron & Tibshirani 1993, "An Introduction to the
Bootstrap", ch. 13, percentile intervals). Resampling customers is the same as drawing multinomial counts over the
collapsed rows, so a resample costs one refit on the already-collapsed data. A bootstrap may be given a time
budget: on a few dozen customers most refits take milliseconds, but a resample that pushes Pareto/NBD's s and β
towards "nobody ever leaves" can send the optimiser into thousands of slow evaluations, and an interval must not
hold a command for an hour. The budget is checked inside the objective, so it stops even in the middle of a refit,
and the result says how many resamples it rests on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from scipy import optimize

from shoplens.errors import InputError

FloatArray = npt.NDArray[np.float64]
T = TypeVar("T")

# Below these sizes the published parameter estimates are unstable and their sampling error is large; the fit
# still runs, with a warning that points to bootstrap intervals.
SMALL_DATA_CUSTOMERS = 200
SMALL_DATA_REPEAT_BUYERS = 20

# Search box for log(parameter): every parameter of these models is positive; values beyond e^±18 (≈ 1.5e-8 and
# 6.6e7) mean the data cannot identify the parameter, which is reported as a warning.
LOG_PARAM_BOUND = 18.0

# Gamma and beta shape parameters outside this range mean a mixing distribution collapsed to a point or spread
# to nothing: the likelihood keeps improving towards a limit (e.g. "nobody drops out") instead of having a maximum.
EXTREME_SHAPE = (1e-4, 1e4)

# L-BFGS-B on the *mean* log-likelihood: stop when the projected gradient is this small. The published estimates
# are quoted to 4 significant figures, which needs the optimum to ~1e-6 relative; 1e-9 leaves ample margin.
GRADIENT_TOLERANCE = 1e-9
# L-BFGS-B often stops with "ABNORMAL_TERMINATION_IN_LNSRCH" once it sits at the optimum to machine precision;
# a gradient this small there still counts as converged.
ACCEPTABLE_GRADIENT = 1e-5


@dataclass(frozen=True)
class WeightedRows:
    """Distinct input rows (one column per array) and how many customers share each."""

    columns: tuple[FloatArray, ...]
    counts: FloatArray

    @property
    def n_customers(self) -> int:
        return int(self.counts.sum())


@dataclass(frozen=True)
class DistinctValues:
    """A column with its few distinct values, so that costly functions of it (ln Γ, digamma) run once per value.

    Purchase counts take a few hundred distinct values even among millions of customers.
    """

    column: FloatArray
    values: FloatArray
    index: npt.NDArray[np.intp]

    @classmethod
    def of(cls, column: FloatArray) -> DistinctValues:
        values, index = np.unique(column, return_inverse=True)
        return cls(column=column, values=values, index=index.reshape(column.shape))

    def expand(self, per_value: FloatArray) -> FloatArray:
        """Values computed on :attr:`values`, one per element of :attr:`column`."""
        return np.asarray(per_value[self.index], dtype=np.float64)


def collapse_identical_rows(*columns: FloatArray) -> WeightedRows:
    """Collapse customers with identical inputs into one row carrying their count as a weight."""
    stacked = np.column_stack(columns)
    unique_rows, counts = np.unique(stacked, axis=0, return_counts=True)
    return WeightedRows(
        columns=tuple(np.ascontiguousarray(unique_rows[:, i]) for i in range(unique_rows.shape[1])),
        counts=counts.astype(np.float64),
    )


def small_data_warnings(n_customers: int, n_repeat_buyers: int) -> list[str]:
    """Warn when the sample is too small for stable estimates."""
    if n_customers < SMALL_DATA_CUSTOMERS or n_repeat_buyers < SMALL_DATA_REPEAT_BUYERS:
        return [
            f"small data: {n_customers} customers, {n_repeat_buyers} repeat buyers (want at least "
            f"{SMALL_DATA_CUSTOMERS} and {SMALL_DATA_REPEAT_BUYERS}); estimates are unstable, "
            "see bootstrap() for intervals"
        ]
    return []


@dataclass(frozen=True)
class MaximumLikelihood:
    """What an optimisation found; ``warnings`` explain anything doubtful about it."""

    params: dict[str, float]
    log_likelihood: float
    converged: bool
    warnings: list[str]


# A log-likelihood: natural-scale parameter vector → total log-likelihood, and optionally its gradient with
# respect to the natural-scale parameters.
LogLikelihood = Callable[[FloatArray], float]
LogLikelihoodWithGradient = Callable[[FloatArray], tuple[float, FloatArray]]


def maximise_log_likelihood(
    names: Sequence[str],
    start: FloatArray,
    total_weight: float,
    log_likelihood: LogLikelihood | None = None,
    log_likelihood_with_gradient: LogLikelihoodWithGradient | None = None,
    shape_parameters: Collection[str] = (),
    deadline: float | None = None,
) -> MaximumLikelihood:
    """Maximise a total log-likelihood over log-parameters with L-BFGS-B, falling back to Nelder-Mead.

    The objective is the *mean* negative log-likelihood so that tolerances do not depend on the number of
    customers. Give either ``log_likelihood`` (gradient by central differences) or
    ``log_likelihood_with_gradient`` (analytic gradient, much faster). ``shape_parameters`` are checked against
    :data:`EXTREME_SHAPE`. Past ``deadline`` (a ``time.monotonic()`` value) the objective raises
    :class:`BudgetExhaustedError`.
    """
    scale = 1.0 / total_weight
    if deadline is not None:
        log_likelihood = _until(deadline, log_likelihood)
        log_likelihood_with_gradient = _until(deadline, log_likelihood_with_gradient)

    def negative_mean(log_params: FloatArray) -> float:
        params = np.exp(log_params)
        if log_likelihood_with_gradient is not None:
            value = log_likelihood_with_gradient(params)[0]
        else:
            assert log_likelihood is not None
            value = log_likelihood(params)
        return -value * scale if np.isfinite(value) else np.inf

    def negative_mean_and_gradient(log_params: FloatArray) -> tuple[float, FloatArray]:
        assert log_likelihood_with_gradient is not None
        params = np.exp(log_params)
        value, gradient = log_likelihood_with_gradient(params)
        if not (np.isfinite(value) and np.all(np.isfinite(gradient))):
            # Lets the line search back off from a region where the likelihood underflows.
            return np.inf, np.zeros_like(log_params)
        # Chain rule for the log-parameterisation: d/d(log θ) = θ · d/dθ.
        return -value * scale, -gradient * params * scale

    bounds = [(-LOG_PARAM_BOUND, LOG_PARAM_BOUND)] * len(names)
    x0 = np.log(np.asarray(start, dtype=np.float64))
    options = {"maxiter": 2000, "ftol": 1e-15, "gtol": GRADIENT_TOLERANCE}
    if log_likelihood_with_gradient is not None:
        result = optimize.minimize(
            negative_mean_and_gradient, x0, jac=True, method="L-BFGS-B", bounds=bounds, options=options
        )
        gradient_at_optimum = negative_mean_and_gradient(result.x)[1]
    else:
        result = optimize.minimize(negative_mean, x0, jac="3-point", method="L-BFGS-B", bounds=bounds, options=options)
        gradient_at_optimum = optimize.approx_fprime(result.x, negative_mean, 1e-7)
    best_x = np.asarray(result.x, dtype=np.float64)
    best_value = float(result.fun)
    converged = bool(result.success) or (
        np.isfinite(best_value) and float(np.max(np.abs(gradient_at_optimum))) < ACCEPTABLE_GRADIENT
    )
    message = str(result.message)
    if not converged:
        # A derivative-free second opinion from where L-BFGS-B stopped.
        polish = optimize.minimize(
            negative_mean,
            best_x,
            method="Nelder-Mead",
            bounds=bounds,
            options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20000, "maxfev": 40000},
        )
        if np.isfinite(polish.fun) and polish.fun <= best_value:
            best_x, best_value = np.asarray(polish.x, dtype=np.float64), float(polish.fun)
        converged = bool(polish.success)
        message = str(polish.message)

    warnings: list[str] = []
    if not np.isfinite(best_value):
        raise InputError("the log-likelihood is not finite anywhere the optimiser looked; check the input summary")
    if not converged:
        warnings.append(f"optimiser did not converge ({message}); treat the parameters with caution")
    params = {name: float(value) for name, value in zip(names, np.exp(best_x), strict=True)}
    unidentified = [
        f"{name} = {value:.3g}"
        for name, value in params.items()
        if abs(np.log(value)) >= LOG_PARAM_BOUND - 1e-6
        or (name in shape_parameters and not EXTREME_SHAPE[0] <= value <= EXTREME_SHAPE[1])
    ]
    if unidentified:
        warnings.append(
            f"parameter(s) {', '.join(unidentified)} ran off to an extreme: the data barely identify them (e.g. no "
            "visible dropout, or hardly any spread in spend); predictions may still be usable, the parameters are not"
        )
    return MaximumLikelihood(
        params=params, log_likelihood=float(-best_value / scale), converged=converged, warnings=warnings
    )


class BudgetExhaustedError(Exception):
    """Raised from inside an objective once its deadline has passed; ends a time-budgeted bootstrap early."""


def _until(deadline: float, objective: Callable[[FloatArray], T] | None) -> Callable[[FloatArray], T] | None:
    if objective is None:
        return None

    def checked(params: FloatArray) -> T:
        if time.monotonic() > deadline:
            raise BudgetExhaustedError
        return objective(params)

    return checked


@dataclass(frozen=True)
class BootstrapIntervals:
    """Percentile bootstrap intervals, one ``(low, high)`` per parameter, from ``n_resamples`` resamples drawn
    (``n_failed`` of them not fitted) of the ``requested``; ``stopped_early`` when a time budget ran out."""

    intervals: dict[str, tuple[float, float]]
    level: float
    n_resamples: int
    n_failed: int
    requested: int
    stopped_early: bool
    seconds: float = field(compare=False)  # how long it took, not part of the result


def check_bootstrap_settings(n_resamples: int, level: float) -> None:
    """Refuse settings that cannot give an interval, before any fitting is done."""
    if n_resamples < 2:
        raise InputError(f"bootstrap needs at least 2 resamples, got {n_resamples}")
    if not 0.0 < level < 1.0:
        raise InputError(f"bootstrap level must be between 0 and 1, got {level}")


def bootstrap_parameter_intervals(
    rows: WeightedRows,
    refit: Callable[[WeightedRows], Mapping[str, float] | None],
    *,
    n_resamples: int,
    seed: int,
    level: float,
    started: float | None = None,
) -> BootstrapIntervals:
    """Percentile intervals from refits on customers resampled with replacement.

    ``refit`` returns the parameters or ``None`` when a resample cannot be fitted (e.g. it has no repeat buyer);
    such resamples are counted in ``n_failed`` and left out. A refit raising :class:`BudgetExhaustedError` ends
    the resampling there. ``started`` (``time.monotonic()``) is when the work began, for ``seconds``.
    """
    check_bootstrap_settings(n_resamples, level)
    started = time.monotonic() if started is None else started
    generator = np.random.default_rng(seed)
    n_customers = rows.n_customers
    shares = rows.counts / rows.counts.sum()
    draws: list[Mapping[str, float]] = []
    failed = 0
    stopped_early = False
    for _ in range(n_resamples):
        counts = generator.multinomial(n_customers, shares).astype(np.float64)
        kept = counts > 0
        resample = WeightedRows(columns=tuple(column[kept] for column in rows.columns), counts=counts[kept])
        try:
            params = refit(resample)
        except BudgetExhaustedError:
            stopped_early = True
            break
        if params is None:
            failed += 1
        else:
            draws.append(params)
    if len(draws) < 2:
        raise InputError(f"bootstrap: only {len(draws)} of {len(draws) + failed} resamples could be fitted")
    tail = (1.0 - level) / 2.0 * 100.0
    intervals = {
        name: (
            float(np.percentile([d[name] for d in draws], tail)),
            float(np.percentile([d[name] for d in draws], 100.0 - tail)),
        )
        for name in draws[0]
    }
    return BootstrapIntervals(
        intervals=intervals,
        level=level,
        n_resamples=len(draws) + failed,
        n_failed=failed,
        requested=n_resamples,
        stopped_early=stopped_early,
        seconds=time.monotonic() - started,
    )


def has_repeat_buyer(rows: WeightedRows) -> bool:
    """A resample BG/NBD or Pareto/NBD can be fitted on: someone in it bought again."""
    return bool((rows.columns[0] > 0).any())


FitRows = Callable[[WeightedRows, FloatArray | None, float | None], MaximumLikelihood]


def refitting_bootstrap(
    rows: WeightedRows,
    fit_rows: FitRows,
    *,
    usable: Callable[[WeightedRows], bool],
    n_resamples: int,
    seed: int,
    level: float,
    seconds: float | None = None,
) -> BootstrapIntervals:
    """The models' bootstrap: fit all of ``rows``, then refit each ``usable`` resample from that estimate.

    ``fit_rows(rows, start, deadline)`` fits one set of rows. With ``seconds``, the refits stop once that many
    seconds have passed since the call began (the full-data fit itself is not cut short).
    """
    started = time.monotonic()
    deadline = None if seconds is None else started + seconds
    start = np.array(list(fit_rows(rows, None, None).params.values()))

    def refit(resample: WeightedRows) -> Mapping[str, float] | None:
        if not usable(resample):
            return None
        found = fit_rows(resample, start, deadline)
        return found.params if found.converged else None

    return bootstrap_parameter_intervals(rows, refit, n_resamples=n_resamples, seed=seed, level=level, started=started)
