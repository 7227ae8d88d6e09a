"""What the import's faster SQL must keep exactly: a fingerprint's decimal text (it is part of refund ids and of
the fingerprints of repeated lines) written through HUGEINT arithmetic is the text DuckDB's own cast writes and
Python's ``str(int)`` writes; the short way for plain amounts reads what the general rules read; the import's
memory limit holds while it runs; the vault written in batches holds every customer once."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shoplens.config import Settings
from shoplens.warehouse import ReadLimits, Warehouse, import_files
from shoplens.warehouse import _personal_data as personal_data
from shoplens.warehouse._parsing import fingerprint_text_sql, general_number_sql, number_sql

# The edges: zero, the largest value below 2**127 and 2**127 itself (where the hand carry starts), the values
# where a 19-digit part carries (10**19 - 1, 10**19) and the largest UHUGEINT.
EDGES = [0, 1, 2**127 - 1, 2**127, 2**127 + 1, 10**19 - 1, 10**19, 10**38, 2**128 - 1, 2**127 + 10**19 - 1]


def _texts(values: list[int]) -> list[tuple[str, str]]:
    with duckdb.connect() as con:
        con.execute("CREATE TABLE k (v UHUGEINT)")
        con.executemany("INSERT INTO k VALUES (CAST(? AS UHUGEINT))", [[str(v)] for v in values])
        rows = con.execute(f"SELECT CAST(v AS VARCHAR), {fingerprint_text_sql('v')} FROM k ORDER BY v").fetchall()
    return [(str(a), str(b)) for a, b in rows]


def test_fingerprint_text_at_the_edges_is_the_number_in_decimal() -> None:
    expected = [str(v) for v in sorted(EDGES)]
    assert [fast for _, fast in _texts(EDGES)] == expected
    assert [cast for cast, _ in _texts(EDGES)] == expected


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**128 - 1), min_size=1, max_size=50))
def test_fingerprint_text_is_what_the_cast_writes(values: list[int]) -> None:
    texts = _texts(values)
    assert [fast for _, fast in texts] == [str(v) for v in sorted(values)]
    assert all(cast == fast for cast, fast in texts)


# Text as amounts are written, right and wrong: digits, both separators, signs, spaces, currency symbols, exponents.
_AMOUNT_TEXT = st.text(alphabet="0123456789.,-+ e$€\u00a0_", min_size=1, max_size=12)


@settings(max_examples=20, deadline=None)
@given(st.lists(_AMOUNT_TEXT, min_size=1, max_size=40), st.sampled_from([".", ","]))
def test_the_short_way_for_plain_amounts_reads_what_the_general_rules_read(texts: list[str], separator: str) -> None:
    with duckdb.connect() as con:
        con.execute("CREATE TABLE t (raw VARCHAR)")
        con.executemany("INSERT INTO t VALUES (?)", [[text] for text in texts])
        rows = con.execute(
            f"SELECT raw, {number_sql('raw', separator)}, {general_number_sql('raw', separator)} FROM t"
        ).fetchall()
    assert [(raw, short) for raw, short, _ in rows] == [(raw, general) for raw, _, general in rows]


def test_plain_amounts_take_the_short_way_to_their_exact_value() -> None:
    # "1234.5" with a decimal point is 1234.5; "1234,5" with a decimal comma is too; "-3" is -3 in both.
    with duckdb.connect() as con:
        point = con.execute(f"SELECT {number_sql(chr(39) + '1234.5' + chr(39), '.')}").fetchall()[0][0]
        comma = con.execute(f"SELECT {number_sql(chr(39) + '1234,5' + chr(39), ',')}").fetchall()[0][0]
        minus = con.execute(f"SELECT {number_sql(chr(39) + '-3' + chr(39), ',')}").fetchall()[0][0]
    assert (point, comma, minus) == (Decimal("1234.5"), Decimal("1234.5"), Decimal(-3))


_UCI_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


def _uci_file(path: Path, customers: int) -> Path:
    # One order line per customer: invoice 500000+i, two of product 85123A at 2.55, customer 12000+i.
    lines = [
        f"{500000 + i},85123A,WHITE HANGING HEART,2,12/1/2010 08:26,2.55,{12000 + i},United Kingdom\n"
        for i in range(customers)
    ]
    path.write_text(_UCI_HEADER + "".join(lines))
    return path


def test_the_memory_limit_holds_while_importing_and_is_put_back(tmp_path: Path) -> None:
    seen: list[str] = []
    with Warehouse(tmp_path / "warehouse.duckdb") as warehouse:
        before = warehouse.scalar("SELECT current_setting('memory_limit')")

        def progress(step: str, done: int, total: int) -> None:
            seen.append(str(warehouse.scalar("SELECT current_setting('memory_limit')")))

        summary = import_files(
            warehouse,
            [_uci_file(tmp_path / "retail.csv", 3)],
            profile_name="online-retail",
            secret=b"s" * 40,
            quarantine_dir=tmp_path / "q",
            progress=progress,
            limits=ReadLimits(memory_limit_bytes=256 * 1024**2),
        )
        after = warehouse.scalar("SELECT current_setting('memory_limit')")
    assert (summary.rows_read, summary.rows_loaded) == (3, 3)
    assert set(seen) == {"256.0 MiB"}  # at every step of the import
    assert after == before


def test_an_import_is_held_to_768_mib_unless_told_otherwise(tmp_path: Path) -> None:
    # Unbounded, a 10-million-line import took 4.5 GB; held to 768 MiB (spilling past it) it peaked at 1.42 GB.
    seen: list[str] = []
    with Warehouse(tmp_path / "warehouse.duckdb") as warehouse:
        import_files(
            warehouse,
            [_uci_file(tmp_path / "retail.csv", 3)],
            profile_name="online-retail",
            secret=b"s" * 40,
            quarantine_dir=tmp_path / "q",
            progress=lambda *_: seen.append(str(warehouse.scalar("SELECT current_setting('memory_limit')"))),
        )
    assert set(seen) == {"768.0 MiB"}
    assert Settings(home=tmp_path).import_memory_limit_bytes == 768 * 1024**2


def test_a_vault_written_in_batches_holds_every_customer_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 7 customers written 3 at a time: batches of 3, 3 and 1; each customer's id is in the vault once.
    monkeypatch.setattr(personal_data, "SEAL_BATCH_ROWS", 3)
    with Warehouse(tmp_path / "warehouse.duckdb") as warehouse:
        summary = import_files(
            warehouse,
            [_uci_file(tmp_path / "retail.csv", 7)],
            profile_name="online-retail",
            secret=b"s" * 40,
            quarantine_dir=tmp_path / "q",
        )
        keys = warehouse.scalar("SELECT count(DISTINCT customer_key) FROM customer_pii")
        rows = warehouse.scalar("SELECT count(*) FROM customer_pii")
        customers = warehouse.scalar("SELECT count(*) FROM customers")
    assert (summary.customers_new, keys, rows, customers) == (7, 7, 7, 7)
