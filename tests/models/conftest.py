"""Fixtures for the model tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from models_testdata import CDNOW_SAMPLE_TRANSACTIONS, read_cdnow_summary
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
