"""Pareto/NBD model of repeat buying and dropout (Schmittlein, Morrison & Colombo 1987).

Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting Your Customers: Who Are They and What Will They
Do Next? *Management Science* 33(1), 1–24. The likelihood and predictions follow Fader, P. S. & Hardie, B. G. S.
(2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions" (http://brucehardie.com/notes/009/),
whose sections are cited below.

While active, a customer buys as a Poisson process with rate λ ~ Gamma(r, α); her lifetime is exponential with
rate μ ~ Gamma(s, β). Fitted on ``frequency`` (x), ``recency`` (t_x) and ``T`` as the BG/NBD model is. On the CDNOW
sample (weeks) Fader, Hardie & Lee (2005) compare the BG/NBD fit with the Pareto/NBD one: r = 0.55, α = 10.58,
s = 0.61, β = 11.67, log-likelihood −9595.0.

Numerical care. The likelihood contains A₀ (note, section 3), a difference of two Gauss hypergeometric terms
₂F₁(r+s+x, b'; r+s+x+1; z) / (max(α,β)+t)^(r+s+x), with b' = s+1 and z = (α−β)/(α+t) when α ≥ β, and b' = r+x and
z = (β−α)/(β+t) when α < β: the branches keep 0 ≤ z < 1, where the series converges. Even so, scipy's ₂F₁
overflows or returns NaN for heavy buyers (large x) when z is near 1, so each term is evaluated in logs after a
transformation that keeps scipy in its accurate range (see ``_log_hypergeometric_term``; checked against 80-digit
mpmath for α/β from 1e-8 to 1e8 and x up to 5000), the difference as log(e^u − e^v) = u + log1p(−e^(v−u)), and
any value that still is not finite is computed from A₀'s integral form by adaptive quadrature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from warnings import catch_warnings, simplefilter

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import integrate, special

from shoplens.models._fitting import (
    BootstrapIntervals,
    FloatArray,
    MaximumLikelihood,
    WeightedRows,
    check_bootstrap_settings,
    collapse_identical_rows,
    has_repeat_buyer,
    maximise_log_likelihood,
    refitting_bootstrap,
    small_data_warnings,
)
from shoplens.models._validation import validate_repeat_purchase_summary

MODEL_NAME = "Pareto/NBD"
SHAPE_PARAMETERS = ("r", "s")
PARAM_NAMES = ("r", "alpha", "s", "beta")

# Below this |s − 1| the conditional expectation uses its s → 1 limit, a logarithm, instead of 0/0.
S_NEAR_ONE = 1e-8


def _log_hypergeometric_term(
    r: float, s: float, x: FloatArray, larger: float, smaller: float, elapsed: FloatArray, *, alpha_is_larger: bool
) -> FloatArray:
    """log[₂F₁(r+s+x, b'; r+s+x+1; z) / (larger + t)^(r+s+x)] with z = (larger − smaller)/(larger + t).

    With a = r+s+x, ₂F₁(a, b'; a+1; z) is rewritten so that scipy's ₂F₁ is only asked for arguments where it is
    accurate (checked against 80-digit mpmath over a wide grid):

    * α < β, b' = r+x: Euler's transformation gives (1−z)^(1−r−x) ₂F₁(1, s+1; a+1; z), whose ₂F₁ lies in
      [1, (1−z)^(−s−1)] and never overflows however large x is (for r+x < 1, where that series diverges at
      z = 1, the untransformed ₂F₁ is bounded and used instead);
    * α ≥ β, b' = s+1: Pfaff's transformation gives (1−z)^(−s−1) ₂F₁(1, s+1; a+1; z/(z−1)), a series with
      terms of falling size while z/(z−1) ≥ −1; beyond that the untransformed ₂F₁ is used.
    """
    r_s_x = r + s + x
    log_one_minus_z = np.log(smaller + elapsed) - np.log(larger + elapsed)
    z = (larger - smaller) / (larger + elapsed)
    log_hypergeometric = np.empty_like(z)
    if alpha_is_larger:
        pfaff_argument = -(larger - smaller) / (smaller + elapsed)
        transformed = pfaff_argument >= -1.0
        transformed_value = special.hyp2f1(1.0, s + 1.0, r_s_x[transformed] + 1.0, pfaff_argument[transformed])
        log_prefactor = -(s + 1.0) * log_one_minus_z[transformed]
    else:
        transformed = r + x >= 1.0
        transformed_value = special.hyp2f1(1.0, s + 1.0, r_s_x[transformed] + 1.0, z[transformed])
        log_prefactor = (1.0 - r - x[transformed]) * log_one_minus_z[transformed]
    untransformed = ~transformed
    b_prime = s + 1.0 if alpha_is_larger else r + x[untransformed]
    untransformed_value = special.hyp2f1(r_s_x[untransformed], b_prime, r_s_x[untransformed] + 1.0, z[untransformed])
    # At extreme arguments scipy's ₂F₁ can still return 0, inf or nan; _log_a0 catches the non-finite logs.
    with np.errstate(divide="ignore", invalid="ignore"):
        log_hypergeometric[transformed] = log_prefactor + np.log(transformed_value)
        log_hypergeometric[untransformed] = np.log(untransformed_value)
    return np.asarray(log_hypergeometric - r_s_x * np.log(larger + elapsed))


def _log_a0_by_quadrature(r: float, alpha: float, s: float, beta: float, x: float, t_x: float, age: float) -> float:
    """log A₀ from its integral form, for the rare rows where scipy's ₂F₁ gives no finite value.

    A₀ = (r+s+x) ∫_{t_x}^{T} (α+τ)^(−r−x) (β+τ)^(−s−1) dτ, which is where the note's A₀ comes from (the chance
    of dying at τ between the last purchase and T, with no purchase after t_x). Integrated over
    v = log((α+τ)/(α+t_x)), which spreads the mass of heavy buyers (a spike at τ = t_x) over the interval.
    """
    if age <= t_x:
        return -np.inf
    log_alpha_t_x = np.log(alpha + t_x)
    upper = float(np.log(alpha + age) - log_alpha_t_x)

    def log_integrand(v: float | FloatArray) -> FloatArray:
        elapsed = np.exp(log_alpha_t_x + v) - alpha
        return np.asarray(-(r + x - 1.0) * (log_alpha_t_x + v) - (s + 1.0) * np.log(beta + elapsed))

    # When min(α, β) + t_x is tiny the integrand falls off within τ − t_x of that size: break the interval at
    # geometrically spaced τ so that the adaptive rule sees every scale.
    smallest_scale = min(alpha, beta) + t_x
    gaps = smallest_scale * np.logspace(-2.0, 12.0, 15)
    breaks = np.log1p(gaps[gaps < age - t_x] / (alpha + t_x))
    probes = np.concatenate([[0.0], breaks, np.linspace(0.0, upper, 33)])
    scale = float(np.max(log_integrand(probes)))
    with catch_warnings():
        # quad warns when it cannot reach 1e-12; checked against mpmath it stays within ~1e-8, ample here.
        simplefilter("ignore", integrate.IntegrationWarning)
        value, _ = integrate.quad(
            lambda v: float(np.exp(log_integrand(v) - scale)),
            0.0,
            upper,
            points=breaks if len(breaks) else None,
            epsabs=0.0,
            epsrel=1e-12,
            limit=500,
        )
    return float(np.log(r + s + x) + scale + np.log(value)) if value > 0 else -np.inf


def _log_a0(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, t_x: FloatArray, age: FloatArray
) -> FloatArray:
    """log A₀ of the note (its α ≥ β and α < β branches); −inf when t_x = T (A₀ = 0)."""
    shape = np.broadcast_shapes(np.shape(x), np.shape(t_x), np.shape(age))
    x, t_x, age = (np.broadcast_to(np.asarray(v, dtype=np.float64), shape).ravel() for v in (x, t_x, age))
    alpha_is_larger = alpha >= beta
    larger, smaller = (alpha, beta) if alpha_is_larger else (beta, alpha)
    at_last_purchase = _log_hypergeometric_term(r, s, x, larger, smaller, t_x, alpha_is_larger=alpha_is_larger)
    at_calibration_end = _log_hypergeometric_term(r, s, x, larger, smaller, age, alpha_is_larger=alpha_is_larger)
    # t_x ≤ T makes the first term the larger one; equality gives log(0) = −inf, which is what A₀ = 0 means.
    with np.errstate(divide="ignore", invalid="ignore"):
        difference = np.minimum(at_calibration_end - at_last_purchase, 0.0)
        log_a0 = np.asarray(at_last_purchase + np.log(-np.expm1(difference)))
    failed = ~np.isfinite(log_a0) & (age > t_x)
    for i in np.flatnonzero(failed):
        log_a0[i] = _log_a0_by_quadrature(r, alpha, s, beta, float(x[i]), float(t_x[i]), float(age[i]))
    return log_a0.reshape(shape)


def _log_likelihood_parts(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, t_x: FloatArray, age: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per-row log-likelihood (note, section 3) and log of the "dropped out before T" to "alive at T" odds."""
    shared = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive_at_calibration_end = -(r + x) * np.log(alpha + age) - s * np.log(beta + age)
    dropped_out = np.log(s) - np.log(r + s + x) + _log_a0(r, alpha, s, beta, x, t_x, age)
    return shared + np.logaddexp(alive_at_calibration_end, dropped_out), dropped_out - alive_at_calibration_end


def log_likelihood_per_customer(
    params: npt.ArrayLike,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,  # noqa: N803 (T is the literature's name)
) -> FloatArray:
    """Individual log-likelihood L(r, α, s, β | x, t_x, T), section 3 of the note."""
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

    def probability_alive(
        self,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        T: npt.ArrayLike,  # noqa: N803 (T is the literature's name)
    ) -> FloatArray:
        """P(customer is still active at T | x, t_x, T), section 5 of the note."""
        r, alpha, s, beta = self._param_tuple()
        x, t_x, age = np.broadcast_arrays(
            np.asarray(frequency, dtype=np.float64),
            np.asarray(recency, dtype=np.float64),
            np.asarray(T, dtype=np.float64),
        )
        log_odds_dead = _log_likelihood_parts(r, alpha, s, beta, x, t_x, age)[1]
        return np.asarray(special.expit(-log_odds_dead), dtype=np.float64)

    def expected_purchases(
        self,
        t: npt.ArrayLike,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        T: npt.ArrayLike,  # noqa: N803 (T is the literature's name)
    ) -> FloatArray:
        """E[purchases in (T, T+t] | x, t_x, T], section 6 of the note.

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

    def probability_no_purchase(
        self,
        t: npt.ArrayLike,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        T: npt.ArrayLike,  # noqa: N803 (T is the literature's name)
    ) -> FloatArray:
        """P(no purchase in (T, T+t] | x, t_x, T): she has left by T, or she is alive and buys nothing before she
        leaves or t has passed.

        Given the data and "alive at T", λ ~ Gamma(r+x, α+T) and μ ~ Gamma(s, β+T) independently (the likelihood
        of a customer alive at T is λ^x e^(−(λ+μ)T)). For given λ, μ the chance of no purchase in t is
        e^(−(λ+μ)t) + ∫₀ᵗ μ e^(−(λ+μ)u) du; averaged over the posterior that is
        G(t)·H(t) + ∫₀ᵗ s/(β+T+u) · G(u)·H(u) du with G(u) = ((α+T)/(α+T+u))^(r+x), H(u) = ((β+T)/(β+T+u))^s.
        With τ = T + u that integral is s (α+T)^(r+x) (β+T)^s / (r+s+x) times the likelihood's A₀ taken from T to
        T + t instead of from t_x to T, so it is computed by the same careful code as the likelihood.
        """
        r, alpha, s, beta = self._param_tuple()
        horizon, x, t_x, age = np.broadcast_arrays(
            np.asarray(t, dtype=np.float64),
            np.asarray(frequency, dtype=np.float64),
            np.asarray(recency, dtype=np.float64),
            np.asarray(T, dtype=np.float64),
        )
        log_alive_factors = (r + x) * np.log(alpha + age) + s * np.log(beta + age)
        silent_to_the_end = np.exp(
            log_alive_factors - (r + x) * np.log(alpha + age + horizon) - s * np.log(beta + age + horizon)
        )
        log_a0 = _log_a0(r, alpha, s, beta, x, age, age + horizon)
        left_before_buying = np.exp(np.log(s) - np.log(r + s + x) + log_alive_factors + log_a0)
        silent = np.clip(silent_to_the_end + left_before_buying, 0.0, 1.0)
        p_alive = self.probability_alive(x, t_x, age)
        return np.asarray(1.0 - p_alive + p_alive * silent, dtype=np.float64)

    def expected_purchases_new(self, t: npt.ArrayLike) -> FloatArray:
        """E[X(t)]: expected purchases of a new customer in her first t periods, section 4 of the note."""
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


def _fit_rows(rows: WeightedRows, start: FloatArray | None = None, deadline: float | None = None) -> MaximumLikelihood:
    return maximise_log_likelihood(
        PARAM_NAMES,
        _starting_values(rows) if start is None else start,
        rows.counts.sum(),
        log_likelihood=lambda params: _total_log_likelihood(params, rows),
        shape_parameters=SHAPE_PARAMETERS,
        deadline=deadline,
    )


def fit(data: pd.DataFrame) -> FittedParetoNBD:
    """Fit the Pareto/NBD model by maximum likelihood on columns ``frequency``, ``recency`` and ``T``."""
    frequency, recency, age = validate_repeat_purchase_summary(data, model=MODEL_NAME)
    rows = collapse_identical_rows(frequency, recency, age)
    n_repeat_buyers = int((frequency > 0).sum())
    found = _fit_rows(rows)
    return FittedParetoNBD(
        params=found.params,
        log_likelihood=found.log_likelihood,
        n_customers=len(frequency),
        n_repeat_buyers=n_repeat_buyers,
        converged=found.converged,
        warnings=small_data_warnings(len(frequency), n_repeat_buyers) + found.warnings,
    )


def bootstrap(
    data: pd.DataFrame, *, n: int = 200, seed: int = 0, level: float = 0.95, seconds: float | None = None
) -> BootstrapIntervals:
    """Percentile bootstrap intervals for r, α, s, β from ``n`` refits on customers resampled with replacement; with
    ``seconds``, the refits stop once that time budget is spent (see :func:`refitting_bootstrap`)."""
    check_bootstrap_settings(n, level)
    frequency, recency, age = validate_repeat_purchase_summary(data, model=MODEL_NAME)
    rows = collapse_identical_rows(frequency, recency, age)
    return refitting_bootstrap(
        rows, _fit_rows, usable=has_repeat_buyer, n_resamples=n, seed=seed, level=level, seconds=seconds
    )
