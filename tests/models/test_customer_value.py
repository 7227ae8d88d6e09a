"""CLV, churn-risk bands, next-purchase timing and the holdout check, against computations written out by hand."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import special

import shoplens.models
from shoplens.errors import InputError
from shoplens.models import (
    ChurnBands,
    FittedBGNBD,
    FittedGammaGamma,
    bgnbd,
    churn_risk_band,
    customer_lifetime_value,
    expected_time_to_next_purchase,
    gamma_gamma,
    holdout_comparison,
    pareto_nbd,
    predict_customers,
)

WEEKS_PER_MONTH = 52 / 12


@pytest.fixture(scope="module")
def transaction_model(cdnow_summary: pd.DataFrame) -> FittedBGNBD:
    return bgnbd.fit(cdnow_summary)


@pytest.fixture(scope="module")
def spend_model(cdnow_summary: pd.DataFrame) -> FittedGammaGamma:
    return gamma_gamma.fit(cdnow_summary)


def _bgnbd_expectation_by_hand(params: dict[str, float], t: float, x: float, t_x: float, age: float) -> float:
    """Fader, Hardie & Lee (2005) eq. (10), as printed."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    bracket = 1 - ((alpha + age) / (alpha + age + t)) ** (r + x) * special.hyp2f1(
        r + x, b + x, a + b + x - 1, t / (alpha + age + t)
    )
    dead_odds = a / (b + x - 1) * ((alpha + age) / (alpha + t_x)) ** (r + x) if x > 0 else 0.0
    return float((a + b + x - 1) / (a - 1) * bracket / (1 + dead_odds))


def test_clv_of_one_customer_matches_a_hand_computation(
    transaction_model: FittedBGNBD, spend_model: FittedGammaGamma, cdnow_summary: pd.DataFrame
) -> None:
    customer = cdnow_summary.iloc[[0]]  # x = 2, t_x = 30.43, T = 38.86, mean repeat spend 22.35
    x, t_x, age, spend = 2.0, 30.43, 38.86, 22.35
    p, q, gamma = (spend_model.params[k] for k in ("p", "q", "gamma"))
    expected_spend = (p * gamma + p * x * spend) / (p * x + q - 1)  # Fader & Hardie's Gamma-Gamma note
    margin, monthly_discount = 0.3, 0.01
    by_hand, previous = 0.0, 0.0
    for month in range(1, 13):
        cumulative = _bgnbd_expectation_by_hand(transaction_model.params, month * WEEKS_PER_MONTH, x, t_x, age)
        by_hand += margin * expected_spend * (cumulative - previous) / (1 + monthly_discount) ** month
        previous = cumulative

    clv = customer_lifetime_value(
        transaction_model, spend_model, customer, 12, monthly_discount, margin, period_length=WEEKS_PER_MONTH
    )
    assert clv.name == "clv"
    assert clv.index.tolist() == [0]
    assert clv.iloc[0] == pytest.approx(by_hand, rel=1e-10)


def test_undiscounted_clv_is_margin_times_spend_times_expected_purchases(
    transaction_model: FittedBGNBD, spend_model: FittedGammaGamma, cdnow_summary: pd.DataFrame
) -> None:
    customers = cdnow_summary.head(50)
    clv = customer_lifetime_value(transaction_model, spend_model, customers, 52, 0.0, 0.25)
    purchases = transaction_model.expected_purchases(52, customers["frequency"], customers["recency"], customers["T"])
    spend = spend_model.conditional_expected_average_spend(customers["frequency"], customers["monetary_value"])
    assert clv.to_numpy() == pytest.approx(0.25 * spend * purchases, rel=1e-10)


def test_clv_works_with_pareto_nbd_too(spend_model: FittedGammaGamma, cdnow_summary: pd.DataFrame) -> None:
    pareto = pareto_nbd.fit(cdnow_summary)
    customers = cdnow_summary.head(5)
    clv = customer_lifetime_value(pareto, spend_model, customers, 1, 0.0, 1.0, period_length=39)
    purchases = pareto.expected_purchases(39, customers["frequency"], customers["recency"], customers["T"])
    spend = spend_model.conditional_expected_average_spend(customers["frequency"], customers["monetary_value"])
    assert clv.to_numpy() == pytest.approx(spend * purchases, rel=1e-10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon_periods": 0}, "horizon_periods"),
        ({"discount_rate_per_period": -1.0}, "discount_rate_per_period"),
        ({"margin": 1.5}, "margin"),
    ],
)
def test_clv_rejects_nonsense_settings(
    transaction_model: FittedBGNBD,
    spend_model: FittedGammaGamma,
    cdnow_summary: pd.DataFrame,
    kwargs: dict[str, float],
    message: str,
) -> None:
    settings = {"horizon_periods": 12, "discount_rate_per_period": 0.01, "margin": 0.3} | kwargs
    with pytest.raises(InputError, match=message):
        customer_lifetime_value(transaction_model, spend_model, cdnow_summary, **settings)  # type: ignore[arg-type]


# Cut-offs on P(no purchase) as a saved fit carries them (chosen on a holdout by shoplens.models.churn).
EXAMPLE_BANDS = ChurnBands(window_days=91.0, medium_from=0.3, high_from=0.7)


def test_churn_risk_bands_cut_at_the_given_cut_offs() -> None:
    bands = churn_risk_band([0.0, 0.2999, 0.3, 0.6999, 0.7, 1.0], EXAMPLE_BANDS)
    assert bands.tolist() == ["low", "low", "medium", "medium", "high", "high"]


def test_time_to_next_purchase_is_the_inverse_expected_rate(
    transaction_model: FittedBGNBD, cdnow_summary: pd.DataFrame
) -> None:
    customers = cdnow_summary.head(10)
    horizon = 52.0
    waiting = expected_time_to_next_purchase(transaction_model, customers, horizon=horizon)
    for row, result in zip(customers.itertuples(), waiting, strict=True):
        purchases = _bgnbd_expectation_by_hand(transaction_model.params, horizon, row.frequency, row.recency, row.T)
        by_hand = horizon / purchases
        if by_hand <= horizon:
            assert result == pytest.approx(by_hand, rel=1e-9)
        else:
            assert np.isnan(result)
    assert np.isfinite(waiting).any()
    assert np.isnan(waiting).any()  # one-off buyers are not expected back within a year


def test_predict_customers_combines_everything(
    transaction_model: FittedBGNBD, spend_model: FittedGammaGamma, cdnow_summary: pd.DataFrame
) -> None:
    customers = cdnow_summary.head(20)
    calibration_end = date(1997, 9, 30)
    table = predict_customers(
        transaction_model,
        customers,
        horizon_periods=12,
        churn_bands=EXAMPLE_BANDS,
        period_length=WEEKS_PER_MONTH,
        spend_model=spend_model,
        discount_rate_per_period=0.01,
        margin=0.3,
        calibration_end=calibration_end,
        time_unit="W",
    )
    assert table.columns.tolist() == [
        "expected_purchases",
        "probability_alive",
        "p_no_purchase",
        "churn_risk",
        "time_to_next_purchase",
        "next_purchase_date",
        "expected_average_spend",
        "clv",
    ]
    assert table.index.equals(customers.index)
    horizon = 12 * WEEKS_PER_MONTH
    first = table.iloc[0]
    assert first["expected_purchases"] == pytest.approx(
        _bgnbd_expectation_by_hand(transaction_model.params, horizon, 2, 30.43, 38.86), rel=1e-10
    )
    # 91 days are 13 weeks, the unit of the CDNOW fit.
    assert first["p_no_purchase"] == pytest.approx(
        float(transaction_model.probability_no_purchase(13.0, 2, 30.43, 38.86)), rel=1e-12
    )
    assert first["churn_risk"] == churn_risk_band(first["p_no_purchase"], EXAMPLE_BANDS).item()
    assert first["next_purchase_date"] == calibration_end + timedelta(days=round(first["time_to_next_purchase"] * 7))
    for _, row in table.iterrows():
        assert (row["next_purchase_date"] is None) == bool(np.isnan(row["time_to_next_purchase"]))


def test_holdout_comparison_counts_actual_purchases() -> None:
    summary = pd.DataFrame(
        {
            "frequency": [2.0, 0.0, 1.0],
            "recency": [5.0, 0.0, 3.0],
            "T": [10.0, 8.0, 6.0],
            "frequency_holdout": [1.0, 0.0, 3.0],
            "duration_holdout": [4.0, 4.0, 4.0],
        }
    )
    model = FittedBGNBD(
        params={"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4},
        log_likelihood=0.0,
        n_customers=3,
        n_repeat_buyers=2,
        converged=True,
    )
    predicted = [
        _bgnbd_expectation_by_hand(model.params, 4.0, x, t_x, age) for x, t_x, age in [(2, 5, 10), (0, 0, 8), (1, 3, 6)]
    ]
    comparison = holdout_comparison(model, summary)
    assert comparison["customers"] == 3
    assert comparison["actual_purchases"] == 4.0
    assert comparison["predicted_purchases"] == pytest.approx(sum(predicted), rel=1e-10)
    assert comparison["mean_absolute_error"] == pytest.approx(
        np.mean(np.abs(np.array(predicted) - [1.0, 0.0, 3.0])), rel=1e-10
    )


def test_public_api_is_pinned() -> None:
    assert shoplens.models.__all__ == [
        "DAYS_PER_TIME_UNIT",
        "DEFAULT_INTERVAL_LEVEL",
        "FLAT_MARGIN",
        "FORECAST_GRAINS",
        "FORECAST_METRICS",
        "MODEL_NAMES",
        "TRANSACTION_MODEL_NAMES",
        "TREND_METHOD",
        "BootstrapIntervals",
        "ChurnBands",
        "ClvFitParameters",
        "ClvPredictParameters",
        "FittedBGNBD",
        "FittedGammaGamma",
        "FittedParetoNBD",
        "ForecastGrain",
        "ForecastMetric",
        "ForecastParameters",
        "ModelName",
        "SavedFit",
        "TimeUnit",
        "TransactionModelName",
        "Trend",
        "TrendMonth",
        "bgnbd",
        "check_chart_path",
        "churn",
        "churn_risk_band",
        "clv",
        "customer_lifetime_value",
        "events_calendar",
        "expected_time_to_next_purchase",
        "forecast",
        "gamma_gamma",
        "holdout_comparison",
        "linear_trend",
        "load_fit",
        "pareto_nbd",
        "predict_customers",
        "rfm_summary",
        "run_clv_fit",
        "run_clv_predict",
        "run_forecast",
    ]
