"""Conversion from the sessions table, against sums by hand."""

from __future__ import annotations

import ibis
import pytest

from shoplens.errors import FieldError
from shoplens.metrics import session_conversion

SESSIONS = ibis.memtable(
    {
        "visitor_type": ["new", "new", "returning", "returning", "returning"],
        "converted": [True, False, False, False, True],
        "product_pages": [4, 2, 10, 0, 6],
        "bounce_rate": [0.0, 0.2, 0.1, 0.2, 0.0],
    }
)


def test_conversion_by_visitor_type_largest_group_first() -> None:
    rows = session_conversion(SESSIONS, by="visitor_type").to_pyarrow().to_pylist()
    assert [(r["group"], r["sessions"], r["converted"]) for r in rows] == [("returning", 3, 1), ("new", 2, 1)]
    assert [r["conversion"] for r in rows] == pytest.approx([1 / 3, 1 / 2])
    assert [r["product_pages"] for r in rows] == pytest.approx([16 / 3, 3.0])
    total = session_conversion(SESSIONS).to_pyarrow().to_pylist()
    assert [(r["group"], r["sessions"], r["converted"]) for r in total] == [(None, 5, 2)]


def test_an_unknown_split_is_refused_naming_the_choices() -> None:
    with pytest.raises(FieldError) as raised:
        session_conversion(SESSIONS, by="device")
    assert str(raised.value) == (
        "sessions by must be one of visitor_type, month, weekend, traffic_type, region, browser, not 'device'"
    )
