"""The churn score P(no purchase in a window), its cut-offs and their validation.

The score is checked against the models' likelihoods integrated numerically (not the closed forms the code uses),
the AUC against scikit-learn, the cut-offs against a brute-force search, and the validation that ``clv fit`` reports
on the CDNOW holdout against a pandas computation from the raw transactions.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from models_testdata import fit_on_cdnow_calibration
from scipy import integrate, special, stats
from sklearn.metrics import roc_auc_score

from shoplens.errors import InputError
from shoplens.models import ChurnBands, bgnbd, pareto_nbd
from shoplens.models.churn import area_under_curve, choose_cut_offs, validate_churn_score

HOLDOUT_WEEKS = 39.0
# (x, t_x, T) in weeks: a one-time buyer, a light and a regular repeat buyer of the CDNOW sample's kind.
CUSTOMERS = [(0, 0.0, 38.86), (0, 0.0, 5.0), (2, 30.43, 38.86), (5, 10.0, 36.0), (7, 35.0, 36.0)]


@pytest.fixture(scope="module")
def bgnbd_fit(cdnow_summary: pd.DataFrame) -> bgnbd.FittedBGNBD:
    return bgnbd.fit(cdnow_summary)


@pytest.fixture(scope="module")
def pareto_fit(cdnow_summary: pd.DataFrame) -> pareto_nbd.FittedParetoNBD:
    return pareto_nbd.fit(cdnow_summary)


def _bgnbd_no_purchase_by_integration(params: dict[str, float], t: float, x: int, t_x: float, age: float) -> float:
    """P(no purchase in (T, T+t] | data) = P(data, no purchase) / P(data), integrated over λ ~ Gamma(r, α) with
    the dropout probability p ~ Beta(a, b) integrated out in closed form (Beta functions).

    Given λ and p: active at T with likelihood λ^x (1−p)^x e^(−λT), then silent with e^(−λt); or dropped out after
    the last purchase, λ^x p (1−p)^(x−1) e^(−λ t_x) (only when x > 0), then certainly silent.
    """
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    active = np.exp(special.betaln(a, b + x) - special.betaln(a, b))
    dropped = np.exp(special.betaln(a + 1, b + x - 1) - special.betaln(a, b)) if x > 0 else 0.0
    prior = stats.gamma(r, scale=1 / alpha)

    def expect(function: Callable[[float], float]) -> float:
        value, _ = integrate.quad(lambda u: function(prior.ppf(u)), 0, 1, limit=400, epsabs=1e-13, epsrel=1e-10)
        return value

    data = expect(lambda lam: lam**x * (active * np.exp(-lam * age) + dropped * np.exp(-lam * t_x)))
    silent = expect(lambda lam: lam**x * (active * np.exp(-lam * (age + t)) + dropped * np.exp(-lam * t_x)))
    return silent / data


def _pareto_no_purchase_by_integration(params: dict[str, float], t: float, x: int, t_x: float, age: float) -> float:
    """The same ratio for Pareto/NBD, integrated over λ ~ Gamma(r, α) and μ ~ Gamma(s, β).

    Given λ and μ: alive at T with λ^x e^(−(λ+μ)T), then silent with e^(−(λ+μ)t) + μ/(λ+μ)(1 − e^(−(λ+μ)t));
    or died between t_x and T, λ^x μ/(λ+μ) (e^(−(λ+μ)t_x) − e^(−(λ+μ)T)), then certainly silent. The expectations
    are taken over the two prior quantiles u, v ∈ (0, 1) on a 300 × 300 Gauss-Legendre grid (within 1e-7 of a
    2000 × 2000 grid for these customers).
    """
    r, alpha, s, beta = params["r"], params["alpha"], params["s"], params["beta"]
    nodes, weights = np.polynomial.legendre.leggauss(300)
    quantiles, weights = (nodes + 1) / 2, weights / 2
    lam = stats.gamma(r, scale=1 / alpha).ppf(quantiles)[:, None]
    mu = stats.gamma(s, scale=1 / beta).ppf(quantiles)[None, :]
    grid_weights = weights[:, None] * weights[None, :] * lam**x
    total = lam + mu
    died_before_end = mu / total * (np.exp(-total * t_x) - np.exp(-total * age))
    alive = np.exp(-total * age)
    silent_when_alive = alive * (np.exp(-total * t) + mu / total * -np.expm1(-total * t))
    data = float((grid_weights * (alive + died_before_end)).sum())
    return float((grid_weights * (silent_when_alive + died_before_end)).sum()) / data


@pytest.mark.parametrize(("x", "t_x", "age"), CUSTOMERS)
def test_bgnbd_no_purchase_matches_the_likelihood_integrated(
    bgnbd_fit: bgnbd.FittedBGNBD, x: int, t_x: float, age: float
) -> None:
    expected = _bgnbd_no_purchase_by_integration(bgnbd_fit.params, HOLDOUT_WEEKS, x, t_x, age)
    assert float(bgnbd_fit.probability_no_purchase(HOLDOUT_WEEKS, x, t_x, age)) == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize(("x", "t_x", "age"), CUSTOMERS)
def test_pareto_nbd_no_purchase_matches_the_likelihood_integrated(
    pareto_fit: pareto_nbd.FittedParetoNBD, x: int, t_x: float, age: float
) -> None:
    expected = _pareto_no_purchase_by_integration(pareto_fit.params, HOLDOUT_WEEKS, x, t_x, age)
    assert float(pareto_fit.probability_no_purchase(HOLDOUT_WEEKS, x, t_x, age)) == pytest.approx(expected, rel=1e-6)


def test_one_time_buyers_are_not_certain_and_older_ones_score_higher(bgnbd_fit: bgnbd.FittedBGNBD) -> None:
    ages = np.array([1.0, 10.0, 20.0, 38.0])
    zeros = np.zeros_like(ages)
    assert bgnbd_fit.probability_alive(zeros, zeros, ages).tolist() == [1.0] * 4  # the defect of P(alive)
    score = bgnbd_fit.probability_no_purchase(HOLDOUT_WEEKS, zeros, zeros, ages)
    assert np.all((score > 0.5) & (score < 1.0))
    assert np.all(np.diff(score) > 0)


def test_auc_matches_scikit_learn_with_ties(bgnbd_fit: bgnbd.FittedBGNBD, cdnow_summary: pd.DataFrame) -> None:
    score = bgnbd_fit.probability_no_purchase(HOLDOUT_WEEKS, cdnow_summary["frequency"], 0.0, cdnow_summary["T"])
    rounded = np.round(score, 2)  # many ties
    event = np.random.default_rng(3).random(len(score)) < rounded
    for values in (score, rounded):
        assert area_under_curve(values, event) == pytest.approx(roc_auc_score(event, values), abs=1e-12)
    assert np.isnan(area_under_curve(score, np.zeros(len(score), dtype=bool)))


def _best_split_by_brute_force(score: np.ndarray, outcome: np.ndarray) -> tuple[float, float]:
    """Every pair of distinct score values as the first scores of the medium and high groups; the smallest
    within-group sum of squares of the outcome wins."""
    frame = pd.DataFrame({"score": score, "outcome": outcome})
    values = np.unique(score)
    best, best_pair = np.inf, (np.nan, np.nan)
    for medium_from, high_from in combinations(values[1:], 2):
        group = np.where(score >= high_from, 2, np.where(score >= medium_from, 1, 0))
        within = frame.groupby(group)["outcome"].apply(lambda y: float(((y - y.mean()) ** 2).sum())).sum()
        if within < best - 1e-12:
            best, best_pair = within, (float(medium_from), float(high_from))
    return best_pair


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cut_offs_are_the_best_three_way_split(seed: int) -> None:
    generator = np.random.default_rng(seed)
    score = np.round(generator.random(60), 1)  # ties: equal scores must stay in one band
    outcome = (generator.random(60) > score).astype(float)
    assert choose_cut_offs(score, outcome) == pytest.approx(_best_split_by_brute_force(score, outcome))


def test_cut_offs_need_three_distinct_scores() -> None:
    with pytest.raises(InputError, match="at least 3 distinct scores among the 4 customers, got 2"):
        choose_cut_offs([0.1, 0.1, 0.5, 0.5], [1, 0, 1, 0])


def test_validation_counts_each_band(bgnbd_fit: bgnbd.FittedBGNBD) -> None:
    score = np.array([0.1, 0.2, 0.5, 0.6, 0.6, 0.9, 0.95, 0.99])
    bought = np.array([1, 1, 1, 0, 1, 0, 0, 1])
    document = validate_churn_score(score, bought, ChurnBands(90.0, 0.5, 0.9))
    assert [(b["band"], b["customers"], b["holdout_purchase_rate"]) for b in document["bands"]] == [
        ("low", 2, 1.0),
        ("medium", 3, 2 / 3),
        ("high", 3, 1 / 3),
    ]
    assert document["auc"] == pytest.approx(roc_auc_score(1 - bought, score))
    assert document["brier"] == pytest.approx(np.mean((1 - score - bought) ** 2))
    assert document["brier_base_rate"] == pytest.approx(5 / 8 * 3 / 8)
    assert document["bands_separated"] is False  # 8 customers cannot tell the bands apart


# --- clv fit on CDNOW, checked against the raw transactions ---------------------------------------------------------


@pytest.mark.parametrize("model", ["bgnbd", "pareto-nbd"])
def test_cdnow_churn_validation_matches_pandas(
    cli: Callable[..., Any], cdnow_home: Path, cdnow_calibration: pd.DataFrame, model: str
) -> None:
    document = fit_on_cdnow_calibration(cli, cdnow_home, model)
    bands, validation = document["churn_bands"], document["churn_validation"]
    assert bands["window_days"] == 273
    assert bands["chosen_on"] == "holdout"
    fitted = (bgnbd.FittedBGNBD if model == "bgnbd" else pareto_nbd.FittedParetoNBD)(document["params"], 0, 0, 0, True)
    frame = cdnow_calibration.assign(bought=cdnow_calibration["holdout_purchases"] > 0)
    frame["score"] = fitted.probability_no_purchase(HOLDOUT_WEEKS, frame["frequency"], frame["recency"], frame["T"])
    frame["band"] = np.where(
        frame["score"] >= bands["high_from"], "high", np.where(frame["score"] >= bands["medium_from"], "medium", "low")
    )
    by_band = frame.groupby("band")["bought"].agg(["size", "mean"])
    assert validation["customers"] == len(frame) == 2357
    assert validation["holdout_purchase_rate"] == pytest.approx(frame["bought"].mean())
    for row in validation["bands"]:
        assert row["customers"] == by_band.loc[row["band"], "size"]
        assert row["holdout_purchase_rate"] == pytest.approx(by_band.loc[row["band"], "mean"])
    assert validation["auc"] == pytest.approx(roc_auc_score(~frame["bought"], np.round(frame["score"], 12)), abs=1e-9)
    assert validation["brier"] == pytest.approx(np.mean((1 - frame["score"] - frame["bought"]) ** 2))
    # What makes the bands useful: high-risk customers bought far less, and the score beats P(alive).
    rates = [row["holdout_purchase_rate"] for row in validation["bands"]]
    assert rates[0] > rates[1] > rates[2]
    assert validation["bands_separated"] is True
    assert rates[2] < 0.2
    assert rates[0] > 0.75
    assert validation["auc"] > 0.75 > validation["auc_p_alive"]
    assert validation["brier"] < validation["brier_base_rate"]
    deciles = validation["calibration"]
    assert [d["customers"] for d in deciles] == [236] * 7 + [235] * 3
    assert deciles[-1]["observed_purchase_rate"] > 3 * deciles[0]["observed_purchase_rate"]
