"""BG/NBD model of repeat buying and dropout (Fader, Hardie & Lee 2005).

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy Way: An Alternative to the
Pareto/NBD Model. *Marketing Science* 24(2), 275–284. P(alive) follows Fader, Hardie & Lee (2008), "Computing
P(alive) Using the BG/NBD Model" (http://brucehardie.com/notes/021/).

While active, a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each purchase she drops out
with probability p ~ Beta(a, b). Fitted on one row per customer: ``frequency`` (x, repeat purchases), ``recency``
(t_x, time of the last purchase after the first) and ``T`` (time since the first purchase), all in one time unit
(see :func:`shoplens.models.rfm_summary`). On the CDNOW sample (weeks) the paper reports r = 0.243, α = 4.414,
a = 0.793, b = 2.426, log-likelihood −9582.4.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from shoplens.models._fitting import (
    BootstrapIntervals,
    DistinctValues,
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

MODEL_NAME = "BG/NBD"
SHAPE_PARAMETERS = ("r", "a", "b")
PARAM_NAMES = ("r", "alpha", "a", "b")


def log_likelihood_per_customer(
    params: npt.ArrayLike,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,  # noqa: N803 (T is the literature's name)
) -> FloatArray:
    """Individual log-likelihood L(r, α, a, b | x, t_x, T) of the paper, as a log-sum-exp of its two terms."""
    r, alpha, a, b = (float(v) for v in np.asarray(params, dtype=np.float64))
    x = DistinctValues.of(np.asarray(frequency, dtype=np.float64))
    t_x = np.asarray(recency, dtype=np.float64)
    age = np.asarray(T, dtype=np.float64)
    return _log_likelihood_terms(r, alpha, a, b, x, t_x, age)[0]


def _log_likelihood_terms(
    r: float, alpha: float, a: float, b: float, frequency: DistinctValues, t_x: FloatArray, age: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-row log-likelihood and the softmax weights of its "still active" and "dropped out" terms."""
    x = frequency.column
    levels = frequency.values
    repeat_levels = levels > 0
    # ln Γ(r+x)α^r/Γ(r) + ln B(a, b+x)/B(a, b), once per distinct x.
    shared = frequency.expand(
        special.gammaln(r + levels) - special.gammaln(r) + r * np.log(alpha) + special.betaln(a, b + levels)
    )
    shared -= special.betaln(a, b)
    # B(a+1, b+x−1)/B(a, b+x) = a/(b+x−1): the customer dropped out right after the last purchase (x > 0 only).
    log_dropout_odds = np.full_like(levels, -np.inf)
    log_dropout_odds[repeat_levels] = np.log(a) - np.log(b + levels[repeat_levels] - 1.0)
    still_active = -(r + x) * np.log(alpha + age)
    dropped_out = frequency.expand(log_dropout_odds) - (r + x) * np.log(alpha + t_x)
    combined = np.logaddexp(still_active, dropped_out)
    return shared + combined, np.exp(still_active - combined), np.exp(dropped_out - combined)


def _total_log_likelihood_and_gradient(
    params: FloatArray, rows: WeightedRows, frequency: DistinctValues
) -> tuple[float, FloatArray]:
    r, alpha, a, b = (float(v) for v in params)
    _, t_x, age = rows.columns
    x = frequency.column
    levels = frequency.values
    weights = rows.counts
    per_row, weight_active, weight_dropped = _log_likelihood_terms(r, alpha, a, b, frequency, t_x, age)
    digamma_ab = special.digamma(a + b)
    digamma_abx = special.digamma(a + b + levels)
    inverse_b_x_1 = np.zeros_like(levels)
    inverse_b_x_1[levels > 0] = 1.0 / (b + levels[levels > 0] - 1.0)
    d_r = frequency.expand(special.digamma(r + levels) - special.digamma(r) + np.log(alpha))
    d_r -= weight_active * np.log(alpha + age) + weight_dropped * np.log(alpha + t_x)
    d_alpha = r / alpha - (r + x) * (weight_active / (alpha + age) + weight_dropped / (alpha + t_x))
    d_a = frequency.expand(digamma_ab - digamma_abx) + weight_dropped / a
    d_b = frequency.expand(digamma_ab + special.digamma(b + levels) - special.digamma(b) - digamma_abx)
    d_b -= weight_dropped * frequency.expand(inverse_b_x_1)
    gradient = np.array([weights @ d_r, weights @ d_alpha, weights @ d_a, weights @ d_b])
    return float(weights @ per_row), gradient


def _starting_values(rows: WeightedRows) -> FloatArray:
    x, _, age = rows.columns
    # r/α is the mean purchase rate; start from the observed rate of repeat purchases with r = 1.
    observed_rate = float(rows.counts @ x) / max(float(rows.counts @ age), 1e-9)
    return np.array([1.0, 1.0 / max(observed_rate, 1e-6), 1.0, 3.0])


@dataclass(frozen=True)
class FittedBGNBD:
    """A fitted BG/NBD model; predictions are in the time unit of the data it was fitted on."""

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
        """P(customer is still active | x, t_x, T), from the P(alive) note cited in the module docstring."""
        r, alpha, a, b = self._param_tuple()
        x = np.asarray(frequency, dtype=np.float64)
        t_x = np.asarray(recency, dtype=np.float64)
        age = np.asarray(T, dtype=np.float64)
        repeat = x > 0
        # Odds of "dropped out after the last purchase" against "still active", in logs to avoid overflow.
        log_odds_dead = np.where(
            repeat,
            np.log(a) - np.log(b + np.where(repeat, x, 1.0) - 1.0) + (r + x) * np.log((alpha + age) / (alpha + t_x)),
            -np.inf,
        )
        return np.asarray(special.expit(-log_odds_dead), dtype=np.float64)

    def probability_no_purchase(
        self,
        t: npt.ArrayLike,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        T: npt.ArrayLike,  # noqa: N803 (T is the literature's name)
    ) -> FloatArray:
        """P(no purchase in (T, T+t] | x, t_x, T): she has dropped out, or is active and the Poisson clock is silent.

        A BG/NBD customer drops out only at a purchase, so an active one makes no purchase in the next t with
        probability e^(−λt); given the data and "active", λ ~ Gamma(r+x, α+T) (the likelihood of an active
        customer is λ^x e^(−λT)(1−p)^x), whose Laplace transform gives
        1 − P(alive) + P(alive) · ((α+T)/(α+T+t))^(r+x). Unlike P(alive), this is below 1 for a one-time buyer.
        """
        r, alpha, _, _ = self._param_tuple()
        horizon = np.asarray(t, dtype=np.float64)
        x = np.asarray(frequency, dtype=np.float64)
        age = np.asarray(T, dtype=np.float64)
        silent_if_active = np.exp((r + x) * (np.log(alpha + age) - np.log(alpha + age + horizon)))
        p_alive = self.probability_alive(x, recency, age)
        return np.asarray(1.0 - p_alive + p_alive * silent_if_active, dtype=np.float64)

    def expected_purchases(
        self,
        t: npt.ArrayLike,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        T: npt.ArrayLike,  # noqa: N803 (T is the literature's name)
    ) -> FloatArray:
        """E[purchases in (T, T+t] | x, t_x, T], the conditional expectation of the paper (its eq. 10).

        The factor ((α+T)/(α+T+t))^(r+x) · ₂F₁(r+x, b+x; a+b+x−1; z) overflows for heavy buyers, so it is
        rewritten with Euler's transformation ₂F₁(A, B; C; z) = (1−z)^(C−A−B) ₂F₁(C−A, C−B; C; z) as
        ((α+T)/(α+T+t))^(a−1) · ₂F₁(a+b−1−r, a−1; a+b+x−1; z), which stays bounded.

        When a and b run off to the extreme together (tens of thousands and more: every customer has nearly the
        same dropout probability p = a/(a+b)), ₂F₁ itself is no longer finite; there the limit of the same
        expectation as the spread of p vanishes is used, (1/p)·(1 − ((α+T)/(α+T+p·t))^(r+x)).
        """
        r, alpha, a, b = self._param_tuple()
        horizon = np.asarray(t, dtype=np.float64)
        x = np.asarray(frequency, dtype=np.float64)
        age = np.asarray(T, dtype=np.float64)
        z = horizon / (alpha + age + horizon)
        with np.errstate(invalid="ignore", over="ignore"):
            hypergeometric_term = ((alpha + age) / (alpha + age + horizon)) ** (a - 1.0) * special.hyp2f1(
                a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z
            )
            expected_if_active = (a + b + x - 1.0) / (a - 1.0) * (1.0 - hypergeometric_term)
        expected_if_active = np.where(
            np.isfinite(expected_if_active),
            expected_if_active,
            _fixed_dropout_expectation(r + x, alpha + age, a / (a + b), horizon),
        )
        return np.asarray(expected_if_active * self.probability_alive(x, recency, age), dtype=np.float64)

    def expected_purchases_new(self, t: npt.ArrayLike) -> FloatArray:
        """E[X(t)]: expected purchases of a new customer in her first t periods (the paper's E[X(t)])."""
        r, alpha, a, b = self._param_tuple()
        horizon = np.asarray(t, dtype=np.float64)
        z = horizon / (alpha + horizon)
        with np.errstate(invalid="ignore", over="ignore"):
            hypergeometric_term = (alpha / (alpha + horizon)) ** r * special.hyp2f1(r, b, a + b - 1.0, z)
            expected = (a + b - 1.0) / (a - 1.0) * (1.0 - hypergeometric_term)
        expected = np.where(np.isfinite(expected), expected, _fixed_dropout_expectation(r, alpha, a / (a + b), horizon))
        return np.asarray(expected, dtype=np.float64)

    def _param_tuple(self) -> tuple[float, float, float, float]:
        p = self.params
        return p["r"], p["alpha"], p["a"], p["b"]


def _fixed_dropout_expectation(shape: npt.ArrayLike, rate: npt.ArrayLike, dropout: float, t: FloatArray) -> FloatArray:
    """Expected purchases in the next t of an active customer whose purchase rate is Gamma(shape, rate) and who
    leaves after each purchase with the one probability ``dropout``: Σₖ (1−p)^(k−1) P(N(t) ≥ k) = (1/p)·(1 −
    E[e^(−pλt)]) = (1/p)·(1 − (rate/(rate + p·t))^shape) — BG/NBD's expectation when a, b → ∞ with a/(a+b) = p."""
    return np.asarray(
        (1.0 - (np.asarray(rate) / (np.asarray(rate) + dropout * t)) ** np.asarray(shape)) / dropout, dtype=np.float64
    )


def _fit_rows(rows: WeightedRows, start: FloatArray | None = None, deadline: float | None = None) -> MaximumLikelihood:
    frequency = DistinctValues.of(rows.columns[0])
    return maximise_log_likelihood(
        PARAM_NAMES,
        _starting_values(rows) if start is None else start,
        rows.counts.sum(),
        log_likelihood_with_gradient=lambda params: _total_log_likelihood_and_gradient(params, rows, frequency),
        shape_parameters=SHAPE_PARAMETERS,
        deadline=deadline,
    )


def fit(data: pd.DataFrame) -> FittedBGNBD:
    """Fit the BG/NBD model by maximum likelihood on columns ``frequency``, ``recency`` and ``T``."""
    frequency, recency, age = validate_repeat_purchase_summary(data, model=MODEL_NAME)
    rows = collapse_identical_rows(frequency, recency, age)
    n_repeat_buyers = int((frequency > 0).sum())
    found = _fit_rows(rows)
    warnings = small_data_warnings(len(frequency), n_repeat_buyers) + found.warnings
    if abs(found.params["a"] - 1.0) < 1e-6:
        warnings.append("a ≈ 1: expected-purchase predictions lose precision near this singular value")
    return FittedBGNBD(
        params=found.params,
        log_likelihood=found.log_likelihood,
        n_customers=len(frequency),
        n_repeat_buyers=n_repeat_buyers,
        converged=found.converged,
        warnings=warnings,
    )


def bootstrap(
    data: pd.DataFrame, *, n: int = 200, seed: int = 0, level: float = 0.95, seconds: float | None = None
) -> BootstrapIntervals:
    """Percentile bootstrap intervals for r, α, a, b from ``n`` refits on customers resampled with replacement; with
    ``seconds``, the refits stop once that time budget is spent (see :func:`refitting_bootstrap`)."""
    check_bootstrap_settings(n, level)
    frequency, recency, age = validate_repeat_purchase_summary(data, model=MODEL_NAME)
    rows = collapse_identical_rows(frequency, recency, age)
    return refitting_bootstrap(
        rows, _fit_rows, usable=has_repeat_buyer, n_resamples=n, seed=seed, level=level, seconds=seconds
    )
