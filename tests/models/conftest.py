"""Fixtures for the model tests."""

from __future__ import annotations

import pandas as pd
import pytest
from models_testdata import read_cdnow_summary


@pytest.fixture(scope="session")
def cdnow_summary() -> pd.DataFrame:
    """The published CDNOW calibration summary (columns frequency, recency, T, monetary_value, ID)."""
    return read_cdnow_summary()
