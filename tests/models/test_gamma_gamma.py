"""Gamma-Gamma against Fader & Hardie's CDNOW estimates and their conditional-spend formula."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pytest
from models_testdata import CDNOW_SAMPLE_TRANSACTIONS, agrees_to_significant_figures

from shoplens.models import FittedGammaGamma, gamma_gamma, rfm_summary

# SOURCES.md: p = 6.2488, q = 3.7446, γ = 15.4477 on the 946 repeat buyers (Fader & Hardie's note: 6.25/3.74/15.44).
PUBLISHED_PARAMS = {"p": 6.2488, "q": 3.7446, "gamma": 15.4477}


@pytest.fixture(scope="module")
def fitted(cdnow_summary: pd.DataFrame) -> FittedGammaGamma:
    return gamma_gamma.fit(cdnow_summary)


def test_cdnow_parameters_match_the_published_fit(fitted: FittedGammaGamma) -> None:
    for name, published in PUBLISHED_PARAMS.items():
        assert agrees_to_significant_figures(fitted.params[name], published), (name, fitted.params[name])
    assert fitted.n_customers == 946
    assert fitted.converged
    assert fitted.warnings == []


def test_conditional_spend_of_the_first_ten_cdnow_customers(fitted: FittedGammaGamma) -> None:
    # The published values use the unrounded mean repeat spend (e.g. 22.345 for customer 1, printed 22.35 in the
    # summary file), so the monetary values come from the transactions.
    transactions = ibis.duckdb.connect().read_csv(CDNOW_SAMPLE_TRANSACTIONS)
    summary = (
        rfm_summary(
            transactions,
            calibration_end=dt.date(1997, 9, 30),
            time_unit="W",
            customer_col="sample_customer_id",
            time_col="date",
        )
        .order_by("sample_customer_id")
        .limit(10)
        .execute()
    )
    spend = fitted.conditional_expected_average_spend(summary["frequency"], summary["monetary_value"])
    assert np.round(spend, 2).tolist() == [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]


def test_customers_without_repeat_purchase_get_the_population_mean(fitted: FittedGammaGamma) -> None:
    p, q, gamma = fitted.params["p"], fitted.params["q"], fitted.params["gamma"]
    assert float(fitted.conditional_expected_average_spend(0, 0.0)) == pytest.approx(p * gamma / (q - 1), rel=1e-12)
    assert fitted.expected_average_spend() == pytest.approx(p * gamma / (q - 1), rel=1e-12)


def test_frequency_spend_correlation_is_reported(fitted: FittedGammaGamma, cdnow_summary: pd.DataFrame) -> None:
    repeat = cdnow_summary[cdnow_summary["frequency"] > 0]
    # 0.113884 in the lifetimes documentation for the same data; Fader & Hardie's note quotes 0.11.
    assert fitted.frequency_monetary_correlation == pytest.approx(0.1139, abs=5e-5)
    assert fitted.frequency_monetary_correlation == pytest.approx(
        np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1], rel=1e-12
    )


def test_correlated_frequency_and_spend_is_warned_about() -> None:
    generator = np.random.default_rng(3)
    frequency = generator.integers(1, 20, 500).astype(float)
    data = pd.DataFrame({"frequency": frequency, "monetary_value": 5 * frequency + generator.gamma(2.0, 3.0, 500)})
    fitted = gamma_gamma.fit(data)
    assert fitted.frequency_monetary_correlation > 0.3
    assert any("correlated" in warning for warning in fitted.warnings)


def test_repeat_buyers_with_zero_spend_are_left_out_with_a_warning(cdnow_summary: pd.DataFrame) -> None:
    with_zero = cdnow_summary.copy()
    with_zero.loc[0, "monetary_value"] = 0.0  # customer 1 has x = 2
    fitted = gamma_gamma.fit(with_zero)
    assert fitted.n_customers == 945
    assert any("monetary_value 0 left out" in warning for warning in fitted.warnings)
