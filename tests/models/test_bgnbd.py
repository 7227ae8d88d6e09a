"""BG/NBD against Fader, Hardie & Lee (2005) on CDNOW and against the paper's formulas computed independently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from models_testdata import agrees_to_significant_figures
from scipy import integrate, special, stats

from shoplens.models import FittedBGNBD, bgnbd

# SOURCES.md: the published estimates (0.243 / 4.414 / 0.793 / 2.426, LL −9582.4, Fader, Hardie & Lee 2005) re-run
# to 4 significant figures on cdnow_customers_summary_with_transactions.csv.
PUBLISHED_PARAMS = {"r": 0.2426, "alpha": 4.414, "a": 0.7929, "b": 2.426}
PUBLISHED_LOG_LIKELIHOOD = -9582.4


@pytest.fixture(scope="module")
def fitted(cdnow_summary: pd.DataFrame) -> FittedBGNBD:
    return bgnbd.fit(cdnow_summary)


def test_cdnow_parameters_match_the_published_fit(fitted: FittedBGNBD) -> None:
    for name, published in PUBLISHED_PARAMS.items():
        assert agrees_to_significant_figures(fitted.params[name], published), (name, fitted.params[name])
    assert fitted.log_likelihood == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.05)
    assert (fitted.n_customers, fitted.n_repeat_buyers) == (2357, 946)
    assert fitted.converged
    assert fitted.warnings == []


def test_log_likelihood_equals_the_papers_likelihood_written_out(
    fitted: FittedBGNBD, cdnow_summary: pd.DataFrame
) -> None:
    r, alpha, a, b = (fitted.params[k] for k in ("r", "alpha", "a", "b"))
    x, t_x, age = (cdnow_summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    # L = B(a, b+x)/B(a, b) Γ(r+x)α^r/(Γ(r)(α+T)^(r+x)) + δ(x>0) B(a+1, b+x−1)/B(a, b) Γ(r+x)α^r/(Γ(r)(α+t_x)^(r+x))
    gamma_part = special.gamma(r + x) * alpha**r / special.gamma(r)
    active = special.beta(a, b + x) / special.beta(a, b) * gamma_part / (alpha + age) ** (r + x)
    dropped = np.where(
        x > 0,
        special.beta(a + 1, np.maximum(b + x - 1, 1e-9)) / special.beta(a, b) * gamma_part / (alpha + t_x) ** (r + x),
        0,
    )
    assert fitted.log_likelihood == pytest.approx(np.log(active + dropped).sum(), rel=1e-12)


def test_conditional_expectation_matches_the_papers_example(fitted: FittedBGNBD) -> None:
    # Fader, Hardie & Lee (2005): a customer with x = 2, t_x = 30.43, T = 38.86 makes 1.226 purchases in the next
    # 39 weeks.
    expected = float(fitted.expected_purchases(39, 2, 30.43, 38.86))
    assert agrees_to_significant_figures(expected, 1.226)


@pytest.mark.parametrize(("x", "t_x"), [(0, 0.0), (1, 1.71), (2, 30.43), (7, 29.43), (25, 38.0), (100, 36.0)])
@pytest.mark.parametrize("t", [1.0, 39.0, 104.0])
def test_conditional_expectation_matches_equation_10_as_printed(
    fitted: FittedBGNBD, x: int, t_x: float, t: float
) -> None:
    r, alpha, a, b = (fitted.params[k] for k in ("r", "alpha", "a", "b"))
    age = 38.86
    numerator = 1 - ((alpha + age) / (alpha + age + t)) ** (r + x) * special.hyp2f1(
        r + x, b + x, a + b + x - 1, t / (alpha + age + t)
    )
    denominator = 1 + (x > 0) * a / (b + x - 1) * ((alpha + age) / (alpha + t_x)) ** (r + x)
    by_hand = (a + b + x - 1) / (a - 1) * numerator / denominator
    assert float(fitted.expected_purchases(t, x, t_x, age)) == pytest.approx(by_hand, rel=1e-9)


def test_probability_alive_matches_the_closed_form(fitted: FittedBGNBD) -> None:
    r, alpha, a, b = (fitted.params[k] for k in ("r", "alpha", "a", "b"))
    x = np.array([0, 1, 2, 7, 30])
    t_x = np.array([0.0, 1.71, 30.43, 29.43, 20.0])
    age = np.full(5, 38.86)
    by_hand = 1 / (1 + (x > 0) * a / (b + x - 1) * ((alpha + age) / (alpha + t_x)) ** (r + x))
    assert fitted.probability_alive(x, t_x, age) == pytest.approx(by_hand, rel=1e-12)
    assert fitted.probability_alive(0, 0.0, 38.86) == 1.0  # no repeat purchase, no evidence of dropout


@pytest.mark.parametrize("t", [1.0, 39.0, 78.0])
def test_unconditional_expectation_matches_numerical_integration(fitted: FittedBGNBD, t: float) -> None:
    r, alpha, a, b = (fitted.params[k] for k in ("r", "alpha", "a", "b"))

    # E[X(t) | λ, p] = (1 − e^(−λpt))/p; averaging over λ ~ Gamma(r, α) gives (1 − (α/(α+pt))^r)/p, then over
    # p ~ Beta(a, b) numerically, with no hypergeometric function involved.
    def integrand(p: float) -> float:
        return float((1 - (alpha / (alpha + p * t)) ** r) / p * stats.beta.pdf(p, a, b))

    by_integration, _ = integrate.quad(integrand, 0, 1, epsabs=1e-12, epsrel=1e-12, limit=200)
    assert float(fitted.expected_purchases_new(t)) == pytest.approx(by_integration, rel=1e-8)


def test_heavy_buyers_get_finite_predictions(fitted: FittedBGNBD) -> None:
    # ((α+T)/(α+T+t))^(r+x) ₂F₁(...) overflows in the printed form for thousands of purchases.
    expected = fitted.expected_purchases(39, [500, 2000, 5000], [38.0, 38.8, 38.86], [38.86] * 3)
    assert np.all(np.isfinite(expected))
    assert np.all(expected >= 0)


# A 300-customer demo store's fit: a and b ran off together (dropout probability a/(a+b) = 0.2138 for everyone),
# where ₂F₁ of the conditional expectation is no longer finite.
RUN_OFF = {"r": 0.4254, "alpha": 92.99, "a": 1.428e6, "b": 5.249e6}


def test_parameters_run_off_to_the_extreme_still_predict_what_a_simulation_gives() -> None:
    model = FittedBGNBD(RUN_OFF, 0.0, 0, 0, True)
    r, alpha, a, b = (RUN_OFF[k] for k in ("r", "alpha", "a", "b"))
    frequency, recency, age, horizon = 2.0, 300.0, 516.0, 365.0
    expected = float(model.expected_purchases(horizon, frequency, recency, age))
    p_alive = float(model.probability_alive(frequency, recency, age))
    # Simulated directly from the model's story, independently of any formula: an active customer's rate is
    # Gamma(r + x, α + T); she buys at that rate and leaves after each purchase with probability p (its Beta(a, b)
    # spread is nil at these a, b); count what she buys in the horizon.
    generator = np.random.default_rng(7)
    customers = 400_000
    rate = generator.gamma(r + frequency, 1.0 / (alpha + age), customers)
    bought = generator.poisson(rate * horizon)
    purchases_before_leaving = generator.geometric(a / (a + b), customers)
    simulated = np.minimum(bought, purchases_before_leaving)
    standard_error = simulated.std() / np.sqrt(customers)
    assert np.isfinite(expected)
    assert expected / p_alive == pytest.approx(simulated.mean(), abs=4 * standard_error)
    # The new customer's E[X(t)] likewise: rate Gamma(r, α).
    new_rate = generator.gamma(r, 1.0 / alpha, customers)
    new_simulated = np.minimum(generator.poisson(new_rate * horizon), generator.geometric(a / (a + b), customers))
    new_error = new_simulated.std() / np.sqrt(customers)
    assert float(model.expected_purchases_new(horizon)) == pytest.approx(new_simulated.mean(), abs=4 * new_error)


def test_small_data_is_fitted_with_a_warning_and_bootstrap_intervals(cdnow_summary: pd.DataFrame) -> None:
    first_customers = cdnow_summary.head(150)
    fitted = bgnbd.fit(first_customers)
    assert any("small data" in warning for warning in fitted.warnings)

    intervals = bgnbd.bootstrap(first_customers, n=40, seed=7)
    assert set(intervals.intervals) == {"r", "alpha", "a", "b"}
    assert intervals.level == 0.95
    for name, (low, high) in intervals.intervals.items():
        assert low < high, name
    # Same seed, same resamples.
    assert bgnbd.bootstrap(first_customers, n=40, seed=7) == intervals
