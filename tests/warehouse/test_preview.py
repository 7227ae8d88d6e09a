"""The import preview: the first records of a file with the faults the import itself would quarantine them for."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from tests.conftest import FIXTURES, run_cli

from shoplens.errors import MissingColumnsError
from shoplens.warehouse import preview_file

WOOCOMMERCE = FIXTURES / "woocommerce_orders.csv"
REDACTED = "[redacted]"  # what the quarantine file shows for a personal column


def quarantined_by_the_cli(home: Path, path: Path, *args: str) -> list[tuple[int, str, str]]:
    result = run_cli(home, "import", str(path), *args, "--json")
    assert result.exit_code == 0, result.stderr
    with Path(result.json()["quarantine_path"]).open(encoding="utf-8") as rows:
        return [(int(r["row"]), r["column"], r["reason"]) for r in csv.DictReader(rows)]


def faults(path: Path, profile: str, records: int = 10) -> list[tuple[int, str, str]]:
    return [
        (r.record, r.column or "", r.reason or "") for r in preview_file(path, profile, records=records).quarantined
    ]


def as_parquet(source: Path, target: Path) -> Path:
    table = pacsv.read_csv(source, convert_options=pacsv.ConvertOptions(column_types={}, strings_can_be_null=False))
    pq.write_table(table.cast(pa.schema([(name, pa.string()) for name in table.column_names])), target)
    return target


def as_jsonl(source: Path, target: Path) -> Path:
    with source.open(encoding="utf-8") as rows:
        target.write_text("".join(json.dumps(row) + "\n" for row in csv.DictReader(rows)), encoding="utf-8")
    return target


def as_gzip(source: Path, target: Path) -> Path:
    target.write_bytes(gzip.compress(source.read_bytes()))
    return target


@pytest.mark.parametrize("shape", ["csv", "gz", "parquet", "jsonl"])
def test_the_preview_finds_what_the_import_quarantines_in_every_format(tmp_path: Path, shape: str) -> None:
    path = {
        "csv": lambda: WOOCOMMERCE,
        "gz": lambda: as_gzip(WOOCOMMERCE, tmp_path / "orders.csv.gz"),
        "parquet": lambda: as_parquet(WOOCOMMERCE, tmp_path / "orders.parquet"),
        "jsonl": lambda: as_jsonl(WOOCOMMERCE, tmp_path / "orders.jsonl"),
    }[shape]()
    expected = quarantined_by_the_cli(tmp_path / "home", path, "--profile", "woocommerce")
    assert expected  # the fixture has a record with a date no format reads
    assert faults(path, "woocommerce") == expected


def test_only_the_first_records_are_read_and_a_quoted_line_break_is_one_record(tmp_path: Path) -> None:
    lines = WOOCOMMERCE.read_text(encoding="utf-8").splitlines()
    header, good = lines[0], lines[1]
    names = next(csv.reader([header]))
    broken = next(csv.reader([good]))
    broken[names.index("Item Cost")] = "lots"
    note = next(csv.reader([good]))
    note[names.index("Customer Note")] = "leave it\nat the door"
    rows = [next(csv.reader([good])) for _ in range(30)]
    rows[2], rows[4], rows[24] = broken, note, broken
    path = tmp_path / "orders.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(rows)
    preview = preview_file(path, "woocommerce", records=10)
    assert [row.record for row in preview.rows] == list(range(1, 11))
    assert [(row.record, row.column, row.reason) for row in preview.quarantined] == [(3, "Item Cost", "not a number")]
    whole = quarantined_by_the_cli(tmp_path / "home", path, "--profile", "woocommerce")
    assert [record for record, _, _ in whole] == [3, 25], "the import finds the one the preview did not read"
    assert preview.rows[4].values["Customer Note"] in ("leave it\nat the door", REDACTED)
    assert preview.rows[0].values["Email (Billing)"] == REDACTED


def test_a_file_that_is_not_the_profiles_export_is_refused_as_the_import_refuses_it() -> None:
    with pytest.raises(MissingColumnsError):
        preview_file(FIXTURES / "shopify_orders.csv", "woocommerce")
