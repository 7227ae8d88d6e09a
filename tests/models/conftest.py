"""Fixtures for the model tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from models_testdata import CALIBRATION_END, CDNOW_SAMPLE_TRANSACTIONS, OBSERVATION_END, read_cdnow_summary
from tests.conftest import ONLINE_RETAIL

from shoplens.config import Settings
from shoplens.warehouse import Warehouse, import_files


@pytest.fixture(scope="session")
def cdnow_summary() -> pd.DataFrame:
    """The published CDNOW calibration summary (columns frequency, recency, T, monetary_value, ID)."""
    return read_cdnow_summary()


def _imported_home(home: Path, path: Path, profile: str) -> Path:
    """A shoplens home (as the CLI's ``--home``) with ``path`` imported into its warehouse under ``profile``."""
    config = Settings(home=home)
    config.ensure_home()
    with Warehouse(config.warehouse_path) as warehouse:
        import_files(
            warehouse,
            [path],
            profile_name=profile,
            secret=config.store_secret(),
            quarantine_dir=config.quarantine_dir,
        )
    return home


@pytest.fixture(scope="module")
def cdnow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CDNOW sample's transactions in a fresh home, one per test module (``clv fit`` saves its fits there)."""
    return _imported_home(tmp_path_factory.mktemp("cdnow") / "home", CDNOW_SAMPLE_TRANSACTIONS, "cdnow")


@pytest.fixture(scope="module")
def online_retail_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """UCI Online Retail in a fresh home, one per test module."""
    return _imported_home(tmp_path_factory.mktemp("online-retail") / "home", ONLINE_RETAIL, "online-retail")


@pytest.fixture(scope="session")
def cdnow_purchase_days() -> pd.DataFrame:
    """Independent of shoplens: one row per customer and purchase day of the raw CDNOW sample, amounts summed."""
    raw = pd.read_csv(CDNOW_SAMPLE_TRANSACTIONS, parse_dates=["date"])
    return raw.groupby(["sample_customer_id", "date"], as_index=False)["amount"].sum()


@pytest.fixture(scope="session")
def cdnow_calibration(cdnow_purchase_days: pd.DataFrame) -> pd.DataFrame:
    """The calibration summary in weeks and the holdout purchase days, per customer, with pandas."""
    days = cdnow_purchase_days
    calibration = days[days["date"] <= CALIBRATION_END]
    holdout = days[(days["date"] > CALIBRATION_END) & (days["date"] <= OBSERVATION_END)]
    per_customer = calibration.groupby("sample_customer_id").agg(
        first=("date", "min"), last=("date", "max"), purchase_days=("date", "size")
    )
    first_amounts = calibration.sort_values("date").groupby("sample_customer_id")["amount"].first()
    repeat_amounts = calibration.groupby("sample_customer_id")["amount"].sum() - first_amounts
    frequency = per_customer["purchase_days"] - 1
    return pd.DataFrame(
        {
            "frequency": frequency.astype(float),
            "recency": (per_customer["last"] - per_customer["first"]).dt.days / 7,
            "T": (pd.Timestamp(CALIBRATION_END) - per_customer["first"]).dt.days / 7,
            "monetary_value": np.where(frequency > 0, repeat_amounts / frequency.clip(lower=1), 0.0),
            "holdout_purchases": holdout.groupby("sample_customer_id").size().reindex(per_customer.index, fill_value=0),
        }
    )
