"""rfm_summary: the per-customer summary, checked against the published CDNOW summary and hand computations."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime

import ibis
import numpy as np
import pandas as pd
import pytest
from models_testdata import CDNOW_SAMPLE_TRANSACTIONS, CDNOW_SUMMARY

from shoplens.errors import InputError
from shoplens.models import rfm_summary

CALIBRATION_END = date(1997, 9, 30)
OBSERVATION_END = date(1998, 6, 30)
# The published summary has two decimals; a value agrees when it is within half a unit of the last decimal.
TWO_DECIMALS = 0.005 + 1e-9


@pytest.fixture(
    scope="module",
    params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def con(request: pytest.FixtureRequest) -> Iterator[ibis.BaseBackend]:
    """The same expression runs on every backend (STYLE.md); PostgreSQL is the server at 127.0.0.1:5432."""
    if request.param == "duckdb":
        yield ibis.duckdb.connect()
    else:
        connection = ibis.postgres.connect(host="127.0.0.1", port=5432, user="postgres", database="test")
        yield connection
        connection.disconnect()


@pytest.fixture(scope="module")
def cdnow_transactions(con: ibis.BaseBackend) -> ibis.Table:
    reader = ibis.duckdb.connect()
    arrow = reader.read_csv(CDNOW_SAMPLE_TRANSACTIONS).to_pyarrow()
    # A temporary table lives only in this connection's session, so parallel test runs do not collide.
    return con.create_table(f"cdnow_sample_{uuid.uuid4().hex[:8]}", arrow, temp=True)


def _cdnow_summary(transactions: ibis.Table, **kwargs: object) -> pd.DataFrame:
    expression = rfm_summary(transactions, time_unit="W", customer_col="sample_customer_id", time_col="date", **kwargs)
    return expression.execute().sort_values("sample_customer_id").reset_index(drop=True)


def test_reproduces_published_cdnow_summary(cdnow_transactions: ibis.Table) -> None:
    summary = _cdnow_summary(cdnow_transactions, calibration_end=CALIBRATION_END)
    published = pd.read_csv(CDNOW_SUMMARY)

    assert len(summary) == 2357
    assert summary["sample_customer_id"].tolist() == published["ID"].tolist()
    for ours, theirs in [("frequency", "x"), ("recency", "t_x"), ("T", "T"), ("monetary_value", "zbar")]:
        difference = np.abs(summary[ours].to_numpy() - published[theirs].to_numpy())
        assert difference.max() <= TWO_DECIMALS, f"{ours} differs from the published {theirs}"


def test_holdout_columns_match_a_direct_count_of_purchase_days(cdnow_transactions: ibis.Table) -> None:
    summary = _cdnow_summary(cdnow_transactions, calibration_end=CALIBRATION_END, observation_end=OBSERVATION_END)

    # Independent computation with pandas on the raw file: distinct purchase days and their mean daily amount in
    # (1997-09-30, 1998-06-30], for customers who had bought by 1997-09-30.
    raw = pd.read_csv(CDNOW_SAMPLE_TRANSACTIONS, parse_dates=["date"])
    daily = raw.groupby(["sample_customer_id", "date"], as_index=False)["amount"].sum()
    holdout = daily[(daily["date"] > "1997-09-30") & (daily["date"] <= "1998-06-30")]
    expected = (
        holdout.groupby("sample_customer_id")["amount"]
        .agg(["count", "mean"])
        .reindex(summary["sample_customer_id"], fill_value=0.0)
    )
    assert summary["frequency_holdout"].to_numpy() == pytest.approx(expected["count"].to_numpy())
    assert summary["monetary_value_holdout"].to_numpy() == pytest.approx(expected["mean"].to_numpy())
    assert (summary["duration_holdout"] == 273 / 7).all()  # 1997-09-30 → 1998-06-30 is 273 days


def _transactions(rows: list[tuple[str | None, object, float]]) -> ibis.Table:
    frame = pd.DataFrame(rows, columns=["customer_key", "ordered_at", "amount"])
    return ibis.memtable(frame)


def _run(table: ibis.Table, **kwargs: object) -> pd.DataFrame:
    return ibis.duckdb.connect().execute(rfm_summary(table, **kwargs)).set_index("customer_key").sort_index()


def test_same_day_transactions_are_one_purchase_and_timestamps_count_by_day() -> None:
    transactions = _transactions(
        [
            ("a", datetime(2024, 1, 1, 9, 0), 10.0),
            ("a", datetime(2024, 1, 1, 18, 30), 5.0),  # same day: one purchase of 15
            ("a", datetime(2024, 1, 8, 12, 0), 20.0),
            ("a", datetime(2024, 1, 15, 7, 0), 30.0),
            ("b", datetime(2024, 1, 10, 23, 59), 7.0),
            (None, datetime(2024, 1, 2, 10, 0), 99.0),  # guest order: no customer to follow
            ("c", datetime(2024, 2, 1, 10, 0), 8.0),  # first purchase after the calibration end
        ]
    )
    summary = _run(transactions, calibration_end=date(2024, 1, 29), time_unit="W")

    assert summary.index.tolist() == ["a", "b"]
    # a: purchase days 1, 8, 15 Jan → 2 repeats, last repeat 2 weeks after the first, age 4 weeks on 29 Jan,
    # mean repeat amount (20 + 30) / 2.
    assert summary.loc["a"].to_dict() == pytest.approx(
        {"frequency": 2.0, "recency": 2.0, "T": 4.0, "monetary_value": 25.0}
    )
    assert summary.loc["b"].to_dict() == pytest.approx(
        {"frequency": 0.0, "recency": 0.0, "T": 19 / 7, "monetary_value": 0.0}
    )


def test_without_calibration_end_the_last_purchase_day_ends_calibration() -> None:
    transactions = _transactions(
        [("a", date(2024, 1, 1), 10.0), ("a", date(2024, 1, 4), 12.0), ("b", date(2024, 1, 11), 3.0)]
    )
    summary = _run(transactions, calibration_end=None, time_unit="D")

    assert summary.loc["a"].to_dict() == pytest.approx(
        {"frequency": 1.0, "recency": 3.0, "T": 10.0, "monetary_value": 12.0}
    )
    assert summary.loc["b", "T"] == 0.0


def test_customer_without_holdout_purchases_gets_zero_holdout_columns() -> None:
    transactions = _transactions(
        [
            ("a", date(2024, 1, 1), 10.0),
            ("a", date(2024, 1, 20), 4.0),
            ("a", date(2024, 1, 20), 6.0),
            ("b", date(2024, 1, 2), 5.0),
        ]
    )
    summary = _run(transactions, calibration_end=date(2024, 1, 10), observation_end=date(2024, 1, 31))

    assert summary.loc["a", ["frequency_holdout", "monetary_value_holdout"]].tolist() == [1.0, 10.0]
    assert summary.loc["b", ["frequency_holdout", "monetary_value_holdout"]].tolist() == [0.0, 0.0]
    assert summary["duration_holdout"].tolist() == [21.0, 21.0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"amount_col": "net"}, "net"),
        ({"time_unit": "M"}, "time_unit"),
        ({"calibration_end": None, "observation_end": date(2024, 2, 1)}, "needs a calibration_end"),
        ({"calibration_end": date(2024, 2, 1), "observation_end": date(2024, 2, 1)}, "must be after"),
        ({"customer_col": "amount", "time_col": "customer_key"}, "must be a date or a timestamp"),
    ],
)
def test_bad_arguments_raise_input_error_naming_the_problem(kwargs: dict[str, object], message: str) -> None:
    transactions = _transactions([("a", date(2024, 1, 1), 1.0)])
    with pytest.raises(InputError, match=message):
        rfm_summary(transactions, **kwargs)  # type: ignore[arg-type]


def test_runs_on_the_canonical_orders_columns_with_decimal_money() -> None:
    # The warehouse keeps money as DECIMAL(18,2) and order times as UTC TIMESTAMP (DESIGN.md).
    warehouse = ibis.duckdb.connect()
    warehouse.raw_sql(
        "CREATE TABLE orders (order_id VARCHAR, customer_key VARCHAR, ordered_at TIMESTAMP, net DECIMAL(18,2));"
        "INSERT INTO orders VALUES ('1', 'k1', '2024-03-01 08:00', 19.99), ('2', 'k1', '2024-03-01 21:00', 0.01),"
        " ('3', 'k1', '2024-03-04 10:00', 12.50), ('4', 'k2', '2024-03-02 10:00', 5.00)"
    )
    summary = (
        warehouse.execute(rfm_summary(warehouse.table("orders"), calibration_end=date(2024, 3, 8), amount_col="net"))
        .set_index("customer_key")
        .sort_index()
    )
    assert summary.loc["k1"].to_dict() == pytest.approx(
        {"frequency": 1.0, "recency": 3.0, "T": 7.0, "monetary_value": 12.5}
    )
    assert summary.loc["k2"].to_dict() == pytest.approx(
        {"frequency": 0.0, "recency": 0.0, "T": 6.0, "monetary_value": 0.0}
    )
    assert all(str(dtype) == "float64" for dtype in summary.dtypes)
