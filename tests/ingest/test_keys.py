"""Pseudonymous keys: the HMAC computed in DuckDB equals Python's hmac module, for any id and any secret."""

from __future__ import annotations

import hashlib
import hmac

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from shoplens.ingest import customer_key, hmac_pads
from shoplens.warehouse import customer_key_sql


@settings(max_examples=50, deadline=None)
@given(
    source_id=st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s),
    secret=st.binary(min_size=16, max_size=100),
)
def test_sql_key_equals_python_hmac(source_id: str, secret: bytes) -> None:
    inner, outer = hmac_pads(secret)
    with duckdb.connect() as con:
        got = con.execute(
            f"SELECT {customer_key_sql('$value')}", {"value": source_id, "inner_pad": inner, "outer_pad": outer}
        ).fetchone()
    expected = "c_" + hmac.new(secret, source_id.encode(), hashlib.sha256).hexdigest()[:20]
    assert got == (expected,)
    assert customer_key(secret, source_id) == expected


def test_null_id_has_no_key() -> None:
    inner, outer = hmac_pads(b"s" * 32)
    with duckdb.connect() as con:
        got = con.execute(f"SELECT {customer_key_sql('NULL')}", {"inner_pad": inner, "outer_pad": outer}).fetchone()
    assert got == (None,)
