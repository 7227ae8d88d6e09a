"""Shared data for the model tests: the CDNOW sample (Fader & Hardie) and BG/NBD-simulated customer bases.

A plain module with a name no other test folder uses, imported by the test files (pytest puts this folder on
sys.path); fixtures live in conftest.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

CDNOW_DIR = Path(__file__).resolve().parents[2] / "datasets" / "cdnow"
CDNOW_SAMPLE_TRANSACTIONS = CDNOW_DIR / "CDNOW_sample.csv.gz"
CDNOW_SUMMARY = CDNOW_DIR / "cdnow_customers_summary_with_transactions.csv"
# The published 39-week calibration period of the CDNOW sample and the end of its 39-week holdout.
CALIBRATION_END = "1997-09-30"
OBSERVATION_END = "1998-06-30"


def read_cdnow_summary() -> pd.DataFrame:
    """The published 39-week calibration summary of the CDNOW sample, renamed to shoplens' column names."""
    published = pd.read_csv(CDNOW_SUMMARY)
    return published.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


def fit_on_cdnow_calibration(cli: Callable[..., Any], home: Path, model: str, *extra: str) -> dict[str, Any]:
    """``shoplens clv fit --model MODEL`` in weeks on the CDNOW calibration period, its JSON document; fails the
    test when the command does not exit 0."""
    result = cli(
        "clv",
        "fit",
        "--model",
        model,
        "--calibration-end",
        CALIBRATION_END,
        "--time-unit",
        "W",
        *extra,
        "--json",
        home_dir=home,
    )
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = result.json()
    return document


def agrees_to_significant_figures(value: float, published: float, figures: int = 4) -> bool:
    """True when ``value`` rounds to ``published`` at ``figures`` significant figures (within half a unit)."""
    last_digit = 10.0 ** (math.floor(math.log10(abs(published))) - figures + 1)
    return abs(value - published) <= 0.5 * last_digit + 1e-12


def simulate_bgnbd_customers(
    n_customers: int, *, r: float, alpha: float, a: float, b: float, max_age_days: int, seed: int
) -> pd.DataFrame:
    """Customers drawn from the BG/NBD process itself (Fader, Hardie & Lee 2005, section 2), observed in days.

    λ ~ Gamma(r, rate α), p ~ Beta(a, b); exponential gaps between purchases while active, dropout with
    probability p after each repeat purchase; ages T uniform over 1..max_age_days. Purchase times are rounded to
    whole days, as an ``rfm_summary`` in days would be. Mean repeat spend follows the Gamma-Gamma model with
    p = 6, q = 4, γ = 15 (:data:`SIMULATED_SPEND_PARAMS`).
    """
    generator = np.random.default_rng(seed)
    purchase_rate = generator.gamma(r, 1.0 / alpha, n_customers)
    dropout_probability = generator.beta(a, b, n_customers)
    age = generator.integers(1, max_age_days + 1, n_customers).astype(np.float64)
    frequency = np.zeros(n_customers)
    last_purchase = np.zeros(n_customers)
    clock = np.zeros(n_customers)
    active = np.ones(n_customers, dtype=bool)
    while active.any():
        index = np.flatnonzero(active)
        clock[index] += generator.exponential(1.0 / purchase_rate[index])
        bought = clock[index] <= age[index]
        buyers = index[bought]
        frequency[buyers] += 1
        last_purchase[buyers] = clock[buyers]
        active[index[~bought]] = False
        active[buyers] = generator.random(len(buyers)) >= dropout_probability[buyers]
    recency = np.minimum(np.round(last_purchase), age)
    p, q, gamma = SIMULATED_SPEND_PARAMS["p"], SIMULATED_SPEND_PARAMS["q"], SIMULATED_SPEND_PARAMS["gamma"]
    spend_rate = generator.gamma(q, 1.0 / gamma, n_customers)
    repeat = frequency > 0
    monetary_value = np.zeros(n_customers)
    # The mean of x amounts drawn from Gamma(p, rate ν) is Gamma(p·x, rate ν·x).
    monetary_value[repeat] = generator.gamma(p * frequency[repeat], 1.0 / (spend_rate[repeat] * frequency[repeat]))
    return pd.DataFrame({"frequency": frequency, "recency": recency, "T": age, "monetary_value": monetary_value})


SIMULATED_SPEND_PARAMS = {"p": 6.0, "q": 4.0, "gamma": 15.0}
