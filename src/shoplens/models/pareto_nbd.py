"""Pareto/NBD model of repeat buying and dropout (Schmittlein, Morrison & Colombo 1987).

Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting Your Customers: Who Are They and What Will They
Do Next? *Management Science* 33(1), 1–24. The likelihood and predictions follow Fader, P. S. & Hardie, B. G. S.
(2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions" (http://brucehardie.com/notes/009/),
whose equation numbers are cited below.

While active, a customer buys as a Poisson process with rate λ ~ Gamma(r, α); her lifetime is exponential with
rate μ ~ Gamma(s, β). Fitted on ``frequency`` (x), ``recency`` (t_x) and ``T`` as the BG/NBD model is. On the CDNOW
sample (weeks) Fader & Hardie report r = 0.55, α = 10.58, s = 0.61, β = 11.67, log-likelihood −9595.0.

Numerical care. The likelihood contains A₀ (note, eq. 19–20), a difference of two Gauss hypergeometric terms
₂F₁(r+s+x, b'; r+s+x+1; z) / (max(α,β)+t)^(r+s+x), with b' = s+1 and z = (α−β)/(α+t) when α ≥ β, and b' = r+x and
z = (β−α)/(β+t) when α < β: the branches keep 0 ≤ z < 1, where the series converges. For heavy buyers with
α ≪ β the factor ₂F₁ grows like (1−z)^(−(r+x)) and overflows, so each term is evaluated in logs after Pfaff's
transformation ₂F₁(a, b; a+1; z) = (1−z)^(−b) ₂F₁(1, b; a+1; z/(z−1)), whose ₂F₁ lies in (0, 1]. The difference
is then log(e^u − e^v) = u + log1p(−e^(v−u)).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from shoplens.models._fitting import (
    BootstrapIntervals,
    FloatArray,
    WeightedRows,
    bootstrap_parameter_intervals,
    collapse_identical_rows,
    maximise_log_likelihood,
    small_data_warnings,
    validate_repeat_purchase_summary,
)

MODEL_NAME = "Pareto/NBD"
PARAM_NAMES = ("r", "alpha", "s", "beta")

# Below this |s − 1| the expectation (eq. 22) uses its s → 1 limit, a logarithm, instead of 0/0.
S_NEAR_ONE = 1e-8


def _log_hypergeometric_term(
    r_s_x: FloatArray, b_prime: FloatArray, larger: float, smaller: float, elapsed: FloatArray
) -> FloatArray:
    """log[₂F₁(r+s+x, b'; r+s+x+1; z) / (larger + t)^(r+s+x)] with z = (larger − smaller)/(larger + t)."""
    with np.errstate(divide="ignore"):
        log_one_minus_z = np.log(smaller + elapsed) - np.log(larger + elapsed)
    pfaff_argument = -(larger - smaller) / (smaller + elapsed)
    hypergeometric = special.hyp2f1(1.0, b_prime, r_s_x + 1.0, pfaff_argument)
    with np.errstate(divide="ignore"):
        log_hypergeometric = np.log(hypergeometric)
    return np.asarray(-b_prime * log_one_minus_z + log_hypergeometric - r_s_x * np.log(larger + elapsed))


def _log_a0(r: float, alpha: float, s: float, beta: float, x: FloatArray, t_x: FloatArray, age: FloatArray) -> FloatArray:
    """log A₀ of the note (eq. 19 for α ≥ β, eq. 20 for α < β); −inf when t_x = T (A₀ = 0)."""
    r_s_x = r + s + x
    if alpha >= beta:
        b_prime, larger, smaller = np.full_like(x, s + 1.0), alpha, beta
    else:
        b_prime, larger, smaller = r + x, beta, alpha
    at_last_purchase = _log_hypergeometric_term(r_s_x, b_prime, larger, smaller, t_x)
    at_calibration_end = _log_hypergeometric_term(r_s_x, b_prime, larger, smaller, age)
    # t_x ≤ T makes the first term the larger one; equality gives log(0) = −inf, which is what A₀ = 0 means.
    with np.errstate(divide="ignore", invalid="ignore"):
        difference = np.minimum(at_calibration_end - at_last_purchase, 0.0)
        return np.asarray(at_last_purchase + np.log(-np.expm1(difference)))


def _log_likelihood_parts(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, t_x: FloatArray, age: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per-row log-likelihood (note, eq. 18) and log of the "dropped out before T" to "alive at T" odds."""
    shared = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive_at_calibration_end = -(r + x) * np.log(alpha + age) - s * np.log(beta + age)
    dropped_out = np.log(s) - np.log(r + s + x) + _log_a0(r, alpha, s, beta, x, t_x, age)
    return shared + np.logaddexp(alive_at_calibration_end, dropped_out), dropped_out - alive_at_calibration_end


def log_likelihood_per_customer(
    params: npt.ArrayLike, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
) -> FloatArray:
    """Individual log-likelihood, eq. (18) of the note."""
    r, alpha, s, beta = (float(v) for v in np.asarray(params, dtype=np.float64))
    x = np.asarray(frequency, dtype=np.float64)
    return _log_likelihood_parts(
        r, alpha, s, beta, x, np.asarray(recency, dtype=np.float64), np.asarray(T, dtype=np.float64)
    )[0]


def _total_log_likelihood(params: FloatArray, rows: WeightedRows) -> float:
    r, alpha, s, beta = (float(v) for v in params)
    x, t_x, age = rows.columns
    per_row = _log_likelihood_parts(r, alpha, s, beta, x, t_x, age)[0]
    return float(rows.counts @ per_row)


def _starting_values(rows: WeightedRows) -> FloatArray:
    x, _, age = rows.columns
    # r/α is the mean purchase rate and s/β the mean dropout rate; start with r = s = 1, the observed repeat rate
    # and a mean lifetime as long as the mean customer age.
    observed_rate = float(rows.counts @ x) / max(float(rows.counts @ age), 1e-9)
    mean_age = max(float(rows.counts @ age) / float(rows.counts.sum()), 1e-6)
    return np.array([1.0, 1.0 / max(observed_rate, 1e-6), 1.0, mean_age])


@dataclass(frozen=True)
class FittedParetoNBD:
    """A fitted Pareto/NBD model; predictions are in the time unit of the data it was fitted on."""

    params: dict[str, float]
    log_likelihood: float
    n_customers: int
    n_repeat_buyers: int
    converged: bool
    warnings: list[str] = field(default_factory=list)

    def probability_alive(self, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike) -> FloatArray:
        """P(customer is still active at T | x, t_x, T), eq. (21) of the note."""
        r, alpha, s, beta = self._param_tuple()
        x, t_x, age = np.broadcast_arrays(
            np.asarray(frequency, dtype=np.float64),
            np.asarray(recency, dtype=np.float64),
            np.asarray(T, dtype=np.float64),
        )
        log_odds_dead = _log_likelihood_parts(r, alpha, s, beta, x, t_x, age)[1]
        return np.asarray(special.expit(-log_odds_dead), dtype=np.float64)

    def expected_purchases(
        self, t: npt.ArrayLike, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
    ) -> FloatArray:
        """E[purchases in (T, T+t] | x, t_x, T], eq. (22) of the note.

        (r+x)(β+T)/((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)] · P(alive), with the bracket divided by (s−1)
        written as −expm1((s−1)·log((β+T)/(β+T+t)))/(s−1), which tends to log((β+T+t)/(β+T)) as s → 1.
        """
        r, alpha, s, beta = self._param_tuple()
        horizon = np.asarray(t, dtype=np.float64)
        x = np.asarray(frequency, dtype=np.float64)
        age = np.asarray(T, dtype=np.float64)
        log_remaining_share = np.log(beta + age) - np.log(beta + age + horizon)
        if abs(s - 1.0) < S_NEAR_ONE:
            lifetime_factor = -log_remaining_share
        else:
            lifetime_factor = -np.expm1((s - 1.0) * log_remaining_share) / (s - 1.0)
        expected_if_alive = (r + x) * (beta + age) / (alpha + age) * lifetime_factor
        return np.asarray(expected_if_alive * self.probability_alive(x, recency, age), dtype=np.float64)

    def expected_purchases_new(self, t: npt.ArrayLike) -> FloatArray:
        """E[X(t)]: expected purchases of a new customer in her first t periods, eq. (17) of the note."""
        r, alpha, s, beta = self._param_tuple()
        horizon = np.asarray(t, dtype=np.float64)
        log_remaining_share = np.log(beta) - np.log(beta + horizon)
        if abs(s - 1.0) < S_NEAR_ONE:
            lifetime_factor = -log_remaining_share
        else:
            lifetime_factor = -np.expm1((s - 1.0) * log_remaining_share) / (s - 1.0)
        return np.asarray(r * beta / alpha * lifetime_factor, dtype=np.float64)

    def _param_tuple(self) -> tuple[float, float, float, float]:
        p = self.params
        return p["r"], p["alpha"], p["s"], p["beta"]


def _fit_rows(rows: WeightedRows, start: FloatArray | None = None) -> tuple[FloatArray, float, bool, list[str]]:
    result = maximise_log_likelihood(
        PARAM_NAMES,
        _starting_values(rows) if start is None else start,
        rows.counts.sum(),
        log_likelihood=lambda params: _total_log_likelihood(params, rows),
    )
    values = np.array([result.params[name] for name in PARAM_NAMES])
    return values, result.log_likelihood, result.converged, result.warnings


def fit(data: pd.DataFrame) -> FittedParetoNBD:
    """Fit the Pareto/NBD model by maximum likelihood on columns ``frequency``, ``recency`` and ``T``."""
    frequency, recency, age = validate_repeat_purchase_summary(data, model=MODEL_NAME)
    rows = collapse_identical_rows(frequency, recency, age)
    n_repeat_buyers = int((frequency > 0).sum())
    values, log_likelihood, converged, fit_warnings = _fit_rows(rows)
    return FittedParetoNBD(
        params=dict(zip(PARAM_NAMES, map(float, values), strict=True)),
        log_likelihood=log_likelihood,
        n_customers=len(frequency),
        n_repeat_buyers=n_repeat_buyers,
        converged=converged,
        warnings=small_data_warnings(len(frequency), n_repeat_buyers) + fit_warnings,
    )


def bootstrap(data: pd.DataFrame, *, n: int = 200, seed: int = 0, level: float = 0.95) -> BootstrapIntervals:
    """Percentile bootstrap intervals for r, α, s, β from ``n`` refits on customers resampled with replacement."""
    frequency, recency, age = validate_repeat_purchase_summary(data, model=MODEL_NAME)
    rows = collapse_identical_rows(frequency, recency, age)
    start = _fit_rows(rows)[0]

    def refit(resample: WeightedRows) -> dict[str, float] | None:
        if not (resample.columns[0] > 0).any():
            return None
        values, _, converged, _ = _fit_rows(resample, start)
        return dict(zip(PARAM_NAMES, map(float, values), strict=True)) if converged else None

    return bootstrap_parameter_intervals(rows, refit, n_resamples=n, seed=seed, level=level)
