"""Hostile CSV files: every record ends loaded, quarantined (with its row number and reason) or counted as an
empty line; nothing vanishes and nothing takes unbounded memory. The files are generated here, small: a
smaller record limit stands in for the 100 MB and 1 GB fields (benchmarks/hostile_files.py measures those)."""

from __future__ import annotations

import csv
import fcntl
import gzip
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shoplens.errors import UnreadableFileError, WarehouseError
from shoplens.warehouse import WAITING_MESSAGE, ReadLimits, Warehouse, import_files, import_lock

HEADER = b"customer_id,date,quantity,amount\n"


def _line(number: int) -> bytes:
    return f"{number},1997-03-{1 + number % 28:02d},1,{number}.50\n".encode()


def _import(tmp_path: Path, path: Path, limits: ReadLimits | None = None) -> tuple[dict[str, object], dict[int, str]]:
    with Warehouse(tmp_path / "warehouse.duckdb") as warehouse:
        before = int(warehouse.scalar("SELECT count(*) FROM order_lines"))
        summary = import_files(
            warehouse,
            [path],
            profile_name="cdnow",
            secret=b"k" * 40,
            quarantine_dir=tmp_path / "q",
            limits=limits,
        ).as_dict()
        loaded = int(warehouse.scalar("SELECT count(*) FROM order_lines"))
    assert loaded - before == summary["rows_loaded"]
    assert summary["rows_read"] == summary["rows_loaded"] + summary["rows_quarantined"] + summary["rows_duplicate"]
    reasons: dict[int, str] = {}
    if summary["quarantine_path"]:
        with open(str(summary["quarantine_path"]), newline="", encoding="utf-8") as handle:
            reasons = {int(row["row"]): row["reason"] for row in csv.DictReader(handle)}
    return summary, reasons


def test_a_too_long_record_is_quarantined_and_the_rest_loads(tmp_path: Path) -> None:
    records = [_line(n) for n in range(1, 22)]
    records[9] = b"10,1997-03-10,1," + b"9" * 50_000 + b"\n"  # record 10: one field of 50 kB
    path = tmp_path / "long.csv"
    path.write_bytes(HEADER + b"".join(records))
    summary, reasons = _import(tmp_path, path, ReadLimits(max_record_bytes=10_000))
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (21, 20, 1)
    assert reasons == {10: "record longer than 10,000 bytes"}


def test_a_too_long_quoted_field_at_the_end_is_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "long_end.csv"
    path.write_bytes(HEADER + _line(1) + b'2,1997-03-02,1,"' + b"x" * 30_000 + b'"')
    summary, reasons = _import(tmp_path, path, ReadLimits(max_record_bytes=10_000))
    assert (summary["rows_read"], summary["rows_loaded"]) == (2, 1)
    assert reasons == {2: "record longer than 10,000 bytes"}


def test_an_unterminated_quote_costs_one_record(tmp_path: Path) -> None:
    records = [_line(n) for n in range(1, 11)]
    records[2] = b'3,1997-03-03,1,"3.50\n'  # the quote never closes
    path = tmp_path / "quote.csv"
    path.write_bytes(HEADER + b"".join(records))
    summary, reasons = _import(tmp_path, path)
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (10, 9, 1)
    assert reasons == {3: "unterminated quote"}


def test_a_quote_that_closes_lines_later_in_the_wrong_place_costs_only_its_line(tmp_path: Path) -> None:
    records = [_line(n) for n in range(1, 11)]
    records[2] = b'3,1997-03-03,1,"3.50\n'
    records[6] = b'7,1997-03-07,1,7."50\n'  # closes the quote of record 3, but not as a field ends
    path = tmp_path / "quotes.csv"
    path.write_bytes(HEADER + b"".join(records))
    summary, reasons = _import(tmp_path, path)
    assert (summary["rows_read"], summary["rows_loaded"]) == (10, 8)
    assert reasons == {3: "unterminated quote", 7: "unterminated quote"}


def test_a_quoted_field_over_several_lines_is_still_one_record(tmp_path: Path) -> None:
    path = tmp_path / "multiline.csv"
    path.write_bytes(HEADER + _line(1) + b'2,1997-03-02,1,"2.50\n"\n' + _line(3))
    summary, reasons = _import(tmp_path, path)
    # The amount "2.50\n" is trimmed to 2.50: three records, all loaded.
    assert (summary["rows_read"], summary["rows_loaded"], reasons) == (3, 3, {})


def test_empty_lines_are_skipped_counted_and_keep_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv.gz"
    body = _line(1) + b"\n" * 100_000 + b"\r\n" * 5 + b"2,1997-03-02,x,2.50\n" + _line(3)
    path.write_bytes(gzip.compress(HEADER + body))
    summary, reasons = _import(tmp_path, path)
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_empty"]) == (3, 2, 100_005)
    assert reasons == {100_007: "not a whole number"}  # its place in the file: 1 + 100,005 empty + 1
    assert "100,005 empty lines skipped" in " ".join(summary["warnings"])  # type: ignore[arg-type]


@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-16", ","), ("utf-16-le", "\t"), ("utf-16-be", ",")])
def test_utf16_exports_are_read(tmp_path: Path, encoding: str, delimiter: str) -> None:
    text = "customer_id,date,quantity,amount\r\n1,1997-03-01,1,1.50\r\nzoë,1997-03-02,2,2.50\r\n"
    data = text.replace(",", delimiter).encode(encoding)
    if encoding != "utf-16":  # Python's "utf-16" writes its BOM; the others need one written
        data = ("\ufeff".encode(encoding)) + data
    path = tmp_path / "unicode.txt"
    path.write_bytes(data)
    summary, _ = _import(tmp_path, path)
    assert (summary["rows_read"], summary["rows_loaded"], summary["customers"]) == (2, 2, 2)


def test_a_gzip_bomb_stops_with_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "bomb.csv.gz"
    path.write_bytes(gzip.compress(HEADER + b"\n" * 3_000_000))  # about 3 MB from a few kB
    compressed = path.stat().st_size
    assert 3_000_000 / compressed > 200
    with pytest.raises(UnreadableFileError) as caught:
        _import(tmp_path, path, ReadLimits(max_decompressed_bytes=1_000_000))
    assert str(caught.value) == f"{path}: decompresses to more than 1,000,000 bytes (import_max_decompressed_bytes)"


def test_reimporting_a_damaged_file_adds_nothing(tmp_path: Path) -> None:
    records = [_line(n) for n in range(1, 8)]
    records[1] = b'2,1997-03-02,1,"2.50\n'
    path = tmp_path / "again.csv"
    path.write_bytes(HEADER + b"\n\n".join(records))
    first, _ = _import(tmp_path, path)
    second, _ = _import(tmp_path, path)
    assert (first["rows_loaded"], second["rows_loaded"], second["rows_duplicate"]) == (6, 0, 6)


def test_a_second_import_waits_for_the_first(tmp_path: Path) -> None:
    told: list[str] = []
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            f"h = os.open({str(tmp_path / '.import.lock')!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(h, fcntl.LOCK_EX); print('held', flush=True); time.sleep(1.0)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with import_lock(tmp_path, wait_seconds=30, notify=told.append):
            waited = time.monotonic() - started
    finally:
        holder.wait()
    assert told == [WAITING_MESSAGE]
    assert waited > 0.3


def test_waiting_too_long_says_so_without_a_process_or_program(tmp_path: Path) -> None:
    handle = os.open(tmp_path / ".import.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        # flock locks are per open file: a second open in this process waits as another process would.
        with pytest.raises(WarehouseError) as caught, import_lock(tmp_path, wait_seconds=0.3, notify=lambda _: None):
            pass
    finally:
        os.close(handle)
    message = str(caught.value)
    assert message == (
        "another import is still running after 0.3 s; try again when it has finished (or raise import_wait_seconds)"
    )
    assert str(os.getpid()) not in message
    assert sys.executable not in message


def test_identical_rows_keep_their_fingerprints_numbered_by_occurrence(tmp_path: Path) -> None:
    path = tmp_path / "same.csv"
    path.write_bytes(HEADER + _line(5) * 3 + _line(6))
    summary, _ = _import(tmp_path, path)
    assert summary["rows_loaded"] == 4
    with Warehouse(tmp_path / "warehouse.duckdb") as warehouse:
        copies = warehouse.con.execute(
            "SELECT row_key FROM order_lines WHERE order_id IN "
            "(SELECT order_id FROM order_lines GROUP BY order_id HAVING count(*) = 3) ORDER BY line_no"
        ).fetchall()
        keys = [int(row[0]) for row in copies]
        # The second and third copies: the first's fingerprint, as text, with ":2" and ":3", hashed again.
        expected = [
            int(warehouse.scalar(f"SELECT md5_number('{keys[0]}' || ':{occurrence}')")) for occurrence in (2, 3)
        ]
    assert keys[1:] == expected
    again, _ = _import(tmp_path, path)
    assert (again["rows_loaded"], again["rows_duplicate"]) == (0, 4)
