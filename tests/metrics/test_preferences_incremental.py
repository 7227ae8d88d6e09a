"""The preference statistics kept current from only the new orders equal a full computation over every order.

Random order streams (customers, guests, channels, devices, discounts, times either side of the UK clock changes)
are cut at random points; after each chunk the kept state is updated from the new orders alone, and must equal
the statistics computed from scratch over everything so far. The medians read from the statistics must equal
Python's :func:`statistics.median` over the raw orders.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import ibis
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shoplens.metrics import StoreZone
from shoplens.metrics._preferences import STATISTICS, canonical, customer_traits, store_levels
from shoplens.queries._preference_state import PreferenceState, full_statistics

ZONE = StoreZone("Europe/London", 2023, 2025)
START = datetime(2024, 3, 28)  # the clocks go forward on 31 March 2024 and back on 27 October 2024

ORDER_SCHEMA = pa.schema(
    [
        ("order_id", pa.string()),
        ("customer_key", pa.string()),
        ("ordered_at", pa.timestamp("us")),
        ("channel", pa.string()),
        ("device", pa.string()),
        ("discount", pa.decimal128(18, 2)),
        ("discount_code", pa.string()),
        ("net", pa.decimal128(18, 2)),
        ("status", pa.string()),
    ]
)
LINE_SCHEMA = pa.schema(
    [
        ("order_id", pa.string()),
        ("line_no", pa.int32()),
        ("product_id", pa.string()),
        ("quantity", pa.int32()),
        ("unit_price", pa.decimal128(18, 4)),
        ("amount", pa.decimal128(18, 2)),
    ]
)

lines_strategy = st.lists(
    st.tuples(
        st.sampled_from(["p1", "p2", "p3", "p4", None]),
        st.integers(1, 30),
        st.sampled_from([Decimal("0.85"), Decimal("1.25"), Decimal("2.10"), Decimal("4.95"), Decimal("12.50")]),
    ),
    min_size=1,
    max_size=4,
)
order_strategy = st.tuples(
    st.sampled_from(["c_a", "c_b", "c_c", "c_d", None]),
    st.integers(0, 300 * 24 * 60),  # minutes after START
    st.sampled_from(["web", "app", None]),
    st.sampled_from(["mobile", "desktop", None]),
    st.sampled_from([Decimal("0.00"), Decimal("0.00"), Decimal("1.50")]),
    st.sampled_from([None, None, "SPRING"]),
    lines_strategy,
)


def tables(stream: list[Any]) -> tuple[pa.Table, pa.Table]:
    orders, lines = [], []
    for number, (customer, minutes, channel, device, discount, code, bought) in enumerate(stream):
        order_id = f"o{number}"
        gross = Decimal(0)
        for line_no, (product, quantity, price) in enumerate(bought):
            amount = (quantity * price).quantize(Decimal("0.01"))
            gross += amount
            lines.append(
                {
                    "order_id": order_id,
                    "line_no": line_no,
                    "product_id": product,
                    "quantity": quantity,
                    "unit_price": price,
                    "amount": amount,
                }
            )
        orders.append(
            {
                "order_id": order_id,
                "customer_key": customer,
                "ordered_at": START + timedelta(minutes=minutes),
                "channel": channel,
                "device": device,
                "discount": discount,
                "discount_code": code,
                "net": gross - discount,
                "status": "paid",
            }
        )
    return pa.Table.from_pylist(orders, schema=ORDER_SCHEMA), pa.Table.from_pylist(lines, schema=LINE_SCHEMA)


def warehouse_with(backend: Any, stream: list[Any]) -> tuple[Any, Any]:
    orders, lines = tables(stream)
    backend.create_table("orders", orders, overwrite=True)
    backend.create_table("order_lines", lines, overwrite=True)
    return backend.table("orders"), backend.table("order_lines")


@pytest.fixture(scope="module")
def backend() -> Any:
    return ibis.duckdb.connect()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stream=st.lists(order_strategy, min_size=1, max_size=25), cuts=st.lists(st.integers(0, 25), max_size=3))
def test_statistics_kept_current_equal_a_full_computation(backend: Any, stream: list[Any], cuts: list[int]) -> None:
    ends = sorted({min(cut, len(stream)) for cut in cuts} | {len(stream)})
    with TemporaryDirectory() as folder:
        state = PreferenceState(Path(folder))
        for version, end in enumerate(ends, start=1):
            orders, lines = warehouse_with(backend, stream[:end])
            kept, update = state.update(orders, lines, ZONE, data_version=version)
            full, ledger = full_statistics(orders, lines, ZONE)
            assert update.mode == ("full" if version == 1 else "incremental")
            assert update.orders_held == end == ledger.num_rows
            for name in STATISTICS:
                assert canonical(name, kept[name]).equals(canonical(name, full[name])), name
    orders_table, _ = tables(stream)
    medians = customer_medians(kept)
    for customer, found in medians.items():
        mine = [row for row in orders_table.to_pylist() if row["customer_key"] == customer]
        units = [sum(q for _, q, _ in bought) for c, *_, bought in stream if c == customer]
        assert found["median_units"] == pytest.approx(statistics.median(units))
        assert found["median_net"] == statistics.median([row["net"] for row in mine])
        discounted = [row for row in mine if row["discount"] > 0 or row["discount_code"] is not None]
        assert found["discount_share"] == pytest.approx(len(discounted) / len(mine))


def customer_medians(kept: dict[str, pa.Table]) -> dict[str, dict[str, Any]]:
    memtables = {name: ibis.memtable(table) for name, table in kept.items()}
    levels = store_levels(memtables["prices"], memtables["quantities"], memtables["sizes"])
    nobody = {"customer_key": pa.array([], pa.string()), "country": pa.array([], pa.string())}
    customers = ibis.memtable(pa.table(nobody))
    traits = customer_traits(memtables, customers, levels, home_country=None).to_pyarrow().to_pylist()
    return {row["customer_key"]: row for row in traits}


def test_an_order_that_went_away_rebuilds_the_state(backend: Any, tmp_path: Path) -> None:
    stream = [
        ("c_a", 10, "web", "mobile", Decimal("0.00"), None, [("p1", 2, Decimal("1.25"))]),
        ("c_b", 20, "app", None, Decimal("1.50"), None, [("p2", 1, Decimal("4.95"))]),
        ("c_a", 30, "web", "desktop", Decimal("0.00"), "SPRING", [("p3", 5, Decimal("2.10"))]),
    ]
    state = PreferenceState(tmp_path)
    orders, lines = warehouse_with(backend, stream)
    state.update(orders, lines, ZONE, data_version=1)
    orders, lines = warehouse_with(backend, stream[1:])  # the first order is gone (cancelled or erased)
    kept, update = state.update(orders, lines, ZONE, data_version=2)
    full, _ = full_statistics(orders, lines, ZONE)
    assert update.mode == "full"
    assert all(canonical(name, kept[name]).equals(canonical(name, full[name])) for name in STATISTICS)
    _, again = state.update(orders, lines, ZONE, data_version=2)
    assert again.mode == "unchanged"
