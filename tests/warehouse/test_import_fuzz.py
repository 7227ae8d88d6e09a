"""Broken files never crash the importer and never lose a row: read = loaded + quarantined + duplicate."""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shoplens.errors import InputError
from shoplens.warehouse import Warehouse, import_files

GOOD_DATES = ("1997-03-{d:02d}", "199703{d:02d}")
BAD_DATE = "{d:02d}/03/1997"  # a third format the cdnow profile does not read: quarantined, not guessed


@st.composite
def damaged_line(draw: st.DrawFn) -> bytes:
    day = draw(st.integers(1, 28))
    date = draw(st.sampled_from([*GOOD_DATES, BAD_DATE])).format(d=day)
    quantity = draw(st.sampled_from(["1", "3", "-2", "0", "x", "2.5"]))
    amount = draw(st.sampled_from(["12.50", "0", "-1", "1e400", "abc", "9,99"]))
    line = f"{draw(st.integers(1, 9))},{date},{quantity},{amount}".encode()
    damage = draw(st.sampled_from(["none", "none", "truncate", "quote", "utf8", "huge", "extra", "blank_field"]))
    if damage == "truncate":
        line = line[: draw(st.integers(1, max(1, len(line) - 1)))]
    elif damage == "quote":
        position = draw(st.integers(0, len(line)))
        line = line[:position] + b'"' + line[position:]
    elif damage == "utf8":
        line = line.replace(b",", b",\xff\xfe", 1)
    elif damage == "huge":
        line = line + b"," + b"y" * draw(st.sampled_from([10, 70_000]))
    elif damage == "extra":
        line = line + b",surplus"
    elif damage == "blank_field":
        line = b"," + line.split(b",", 1)[1]
    return line


def _import(path: Path, profile: str, mapping: dict[str, object] | None = None) -> tuple[dict[str, int], Path, int]:
    home = Path(tempfile.mkdtemp(prefix="fuzz-"))
    with Warehouse(home / "warehouse.duckdb") as warehouse:
        summary = import_files(
            warehouse, [path], profile_name=profile, secret=b"k" * 40, quarantine_dir=home / "q", mapping=mapping
        )
        in_tables = warehouse.scalar("SELECT (SELECT count(*) FROM order_lines) + (SELECT count(*) FROM refunds)")
    return summary.as_dict(), home, int(in_tables)


def _check_accounting(summary: dict[str, int], rows_in_tables: int) -> None:
    assert summary["rows_read"] == summary["rows_loaded"] + summary["rows_quarantined"] + summary["rows_duplicate"]
    assert rows_in_tables == summary["rows_loaded"]
    if summary["rows_quarantined"]:
        with open(str(summary["quarantine_path"]), newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == summary["rows_quarantined"]
        assert all(row["reason"] and int(row["row"]) >= 1 for row in rows)
        assert len({row["row"] for row in rows}) == len(rows)
        assert all(int(row["row"]) <= summary["rows_read"] for row in rows)
    else:
        assert summary["quarantine_path"] is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(damaged_line(), min_size=1, max_size=25), crlf=st.booleans())
def test_damaged_csv_is_fully_accounted_for(lines: list[bytes], crlf: bool) -> None:
    newline = b"\r\n" if crlf else b"\n"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        path.write_bytes(b"customer_id,date,quantity,amount" + newline + newline.join(lines) + newline)
        summary, _, in_tables = _import(path, "cdnow")
    _check_accounting(summary, in_tables)
    # A record read as a unit: no input line can produce more than one record.
    assert summary["rows_read"] <= len(lines)


def test_each_damage_gets_its_reason(tmp_path: Path) -> None:
    rows = [
        b"1,1997-03-01,1,10.00",  # good
        b"2,19970302,2,20.00",  # good, second date format
        b"3,02/03/1997,1,10.00",  # unparseable date
        b"4,1997-03-04,-2,10.00",  # negative quantity on a sale
        b"5,1997-03-05,x,10.00",  # not a whole number
        b"6,1997-03-06,1,abc",  # not a number
        b"7,1997-03-07,1",  # too few fields
        b"8,1997-03-08,1,10.00,surplus",  # too many fields
        b"9,1997-\xff03-09,1,10.00",  # bad UTF-8
        b",1997-03-10,1,10.00",  # guest purchase: kept with no customer
        b"11,1997-03-11,0,0",  # zero quantity
        b"12,2199-03-12,1,10.00",  # date out of range
    ]
    path = tmp_path / "export.csv"
    path.write_bytes(b"customer_id,date,quantity,amount\n" + b"\n".join(rows) + b"\n")
    summary, _, in_tables = _import(path, "cdnow")
    _check_accounting(summary, in_tables)
    with open(str(summary["quarantine_path"]), newline="", encoding="utf-8") as handle:
        reasons = {int(r["row"]): r["reason"] for r in csv.DictReader(handle)}
    assert reasons == {
        3: "unparseable date",
        4: "negative quantity on a sale",
        5: "not a whole number",
        6: "not a number",
        7: "too few fields",
        8: "too many fields",
        9: "text is not valid in the file's encoding",
        11: "zero quantity",
        12: "date out of range",
    }
    assert (summary["rows_read"], summary["rows_loaded"], summary["guest_rows"]) == (12, 3, 1)


def test_jsonl_bad_lines_are_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    good = {"id": "o1", "at": "2024-01-02 10:00:00", "qty": 2, "price": "5.50", "who": "u1"}
    path.write_text(
        "\n".join([json.dumps(good), "{not json", json.dumps([1, 2]), json.dumps({**good, "id": "o2", "qty": "many"})])
        + "\n"
    )
    mapping = {
        "columns": {
            "order_id": "id",
            "ordered_at": "at",
            "quantity": "qty",
            "unit_price": "price",
            "customer_id": "who",
        }
    }
    summary, _, in_tables = _import(path, "generic", mapping)
    _check_accounting(summary, in_tables)
    with open(str(summary["quarantine_path"]), newline="", encoding="utf-8") as handle:
        reasons = {int(r["row"]): (r["column"], r["reason"]) for r in csv.DictReader(handle)}
    assert reasons == {2: ("", "not valid JSON"), 3: ("", "not a JSON object"), 4: ("qty", "not a whole number")}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty or has no header line"),
        # Not \xff\xfe: that is UTF-16's byte-order mark, and such a file is read as UTF-16.
        (b"\xff\xfd\x00garbage\n1,2\n", "the header is not valid utf-8 text"),
    ],
)
def test_unreadable_file_is_an_input_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        _import(path, "cdnow")


def test_a_failing_later_file_keeps_what_was_loaded_before(tmp_path: Path) -> None:
    good = tmp_path / "a.csv"
    good.write_text("id,at,qty,price\no1,2024-01-02 10:00:00,2,5.50\no2,2024-01-02 11:00:00,x,5.50\n")
    broken = tmp_path / "b.jsonl"
    broken.write_text("{not json}\n")
    mapping = {"columns": {"order_id": "id", "ordered_at": "at", "quantity": "qty", "unit_price": "price"}}
    home = tmp_path / "home"
    with Warehouse(home / "warehouse.duckdb") as warehouse:
        with pytest.raises(InputError, match=r"b\.jsonl: no line is a JSON object"):
            import_files(
                warehouse,
                [good, broken],
                profile_name="generic",
                secret=b"k" * 40,
                quarantine_dir=home / "q",
                mapping=mapping,
                import_id="imp-test",
            )
        assert warehouse.scalar("SELECT count(*) FROM order_lines") == 1
    with open(home / "q" / "imp-test.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["row"], r["column"], r["reason"]) for r in rows] == [("2", "qty", "not a whole number")]
