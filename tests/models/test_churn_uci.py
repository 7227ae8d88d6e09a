"""Churn risk on UCI Online Retail: ``clv predict --horizon 90`` bands the customers at cut-offs chosen on the last
90 days, and the validation it reports is recomputed here with pandas from the raw file.

Before, BG/NBD's P(alive) put all 4,338 customers in "low" risk while 858 had not bought for half a year.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from tests.conftest import ONLINE_RETAIL, run_cli

from shoplens.models import bgnbd

pytestmark = pytest.mark.slow

LAST_DAY = pd.Timestamp("2011-12-09")
SPLIT_END = LAST_DAY - pd.Timedelta(days=90)


@pytest.fixture(scope="module")
def purchase_days() -> pd.DataFrame:
    """Independent of shoplens: each known customer's purchase days (invoices starting with C are cancellations;
    lines at a zero price are no sale)."""
    raw = pd.read_parquet(ONLINE_RETAIL, columns=["InvoiceNo", "InvoiceDate", "CustomerID", "UnitPrice"])
    raw = raw[raw["CustomerID"].notna() & ~raw["InvoiceNo"].str.startswith("C") & (raw["UnitPrice"] > 0)]
    days = pd.DataFrame({"customer": raw["CustomerID"], "day": raw["InvoiceDate"].dt.normalize()})
    return days.drop_duplicates()


@pytest.fixture(scope="module")
def prediction(online_retail_home: Path) -> dict[str, Any]:
    result = run_cli(online_retail_home, "clv", "predict", "--horizon", "90", "--json")
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = result.json()
    return document


def test_the_validation_matches_pandas_on_the_raw_file(prediction: dict[str, Any], purchase_days: pd.DataFrame) -> None:
    churn = prediction["churn"]
    validation = churn["validation"]
    assert (churn["window_days"], churn["chosen_on"]) == (90, "holdout")
    assert (validation["calibration_end"], validation["observation_end"]) == ("2011-09-10", "2011-12-09")

    calibration = purchase_days[purchase_days["day"] <= SPLIT_END]
    holdout = purchase_days[(purchase_days["day"] > SPLIT_END) & (purchase_days["day"] <= LAST_DAY)]
    per_customer = calibration.groupby("customer")["day"].agg(["min", "max", "size"])
    x = (per_customer["size"] - 1).to_numpy(float)
    t_x = (per_customer["max"] - per_customer["min"]).dt.days.to_numpy(float)
    age = (SPLIT_END - per_customer["min"]).dt.days.to_numpy(float)
    bought = per_customer.index.isin(holdout["customer"])
    model = bgnbd.FittedBGNBD(validation["params"], 0.0, 0, 0, True)
    score = model.probability_no_purchase(90.0, x, t_x, age)
    band = np.where(score >= churn["high_from"], "high", np.where(score >= churn["medium_from"], "medium", "low"))
    by_band = pd.DataFrame({"band": band, "bought": bought}).groupby("band")["bought"].agg(["size", "mean"])

    assert validation["customers"] == len(per_customer) == 3370
    assert validation["holdout_purchase_rate"] == pytest.approx(bought.mean()) == pytest.approx(1921 / 3370)
    for row in validation["bands"]:
        assert row["customers"] == by_band.loc[row["band"], "size"]
        assert row["holdout_purchase_rate"] == pytest.approx(by_band.loc[row["band"], "mean"])
    assert validation["auc"] == pytest.approx(roc_auc_score(~bought, np.round(score, 12)), abs=1e-9)
    assert validation["auc_p_alive"] == pytest.approx(
        roc_auc_score(~bought, np.round(1 - model.probability_alive(x, t_x, age), 12)), abs=1e-9
    )
    # High-risk customers bought clearly less in the holdout than medium, and medium than low.
    rates = [row["holdout_purchase_rate"] for row in validation["bands"]]
    assert rates[0] > rates[1] + 0.15
    assert rates[1] > rates[2] + 0.15
    assert validation["bands_separated"] is True
    assert validation["auc"] > 0.7
    assert validation["auc_p_alive"] < 0.5  # 1 − P(alive) ranks worse than chance
    assert validation["brier"] < validation["brier_base_rate"]


def test_lapsed_customers_are_high_risk(prediction: dict[str, Any], purchase_days: pd.DataFrame) -> None:
    bands = {row["churn_risk"]: row["customers"] for row in prediction["by_churn_risk"]}
    assert sum(bands.values()) == prediction["n_customers"] == 4338
    last_purchase = purchase_days.groupby("customer")["day"].max()
    lapsed = int(((LAST_DAY - last_purchase).dt.days > 180).sum())  # the lifecycle's "lapsed"
    assert lapsed == 858
    rows = pd.DataFrame(prediction["rows"])
    days_since_last = rows["T"] - rows["recency"]
    assert int((days_since_last > 180).sum()) == lapsed
    lapsed_bands = rows.loc[days_since_last > 180, "churn_risk"].value_counts()
    assert lapsed_bands.get("high", 0) > 0.9 * lapsed
    assert lapsed_bands.get("low", 0) == 0
    assert lapsed < bands["high"] < 0.6 * prediction["n_customers"]
    assert bands["low"] > 0.1 * prediction["n_customers"]
