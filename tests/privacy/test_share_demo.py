"""The share package on a generated demo store: funnel and response times against direct DuckDB SQL, what never
leaves the store, and the command with its audit entry."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.conftest import CliResult, show_vault_in_clear

from shoplens.reports import SharePackage

SESSIONS_SQL = """
WITH firsts AS (
  SELECT session_id, min("at") AS started_at, max(customer_key) AS customer_key,
         min("at") FILTER (WHERE type = 'view') AS at_view, min("at") FILTER (WHERE type = 'cart') AS at_cart,
         min("at") FILTER (WHERE type = 'checkout') AS at_checkout, min("at") FILTER (WHERE type = 'order') AS at_order
  FROM events GROUP BY session_id),
opening AS (
  SELECT e.session_id, min(e.page) AS landing_page, min(e.device) AS device
  FROM events e JOIN firsts f ON e.session_id = f.session_id AND e."at" = f.started_at GROUP BY e.session_id)
SELECT f.*, o.landing_page, o.device,
       at_view IS NOT NULL AS r0,
       at_view IS NOT NULL AND at_cart >= at_view AS r1,
       at_view IS NOT NULL AND at_cart >= at_view AND at_checkout >= at_cart AS r2,
       at_view IS NOT NULL AND at_cart >= at_view AND at_checkout >= at_cart AND at_order >= at_checkout AS r3
FROM firsts f JOIN opening o USING (session_id)
"""


def sql(home: Path, query: str) -> list[tuple[object, ...]]:
    """Rows of ``query`` on the store's warehouse, with the vault decrypted (what must never leave the store)."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        show_vault_in_clear(con, home)
        return con.sql(query).fetchall()


def test_every_released_group_has_at_least_k_people(demo_packages: dict[int, SharePackage]) -> None:
    for k, package in demo_packages.items():
        for name, dataset in package.datasets.items():
            if dataset.table.num_rows:
                assert min(dataset.table.column("people").to_pylist()) >= k, (k, name)
        assert package.table("funnel_dropoffs").num_rows > 100
        assert package.table("response_times").num_rows > 0


def test_one_landing_page_and_device_equal_direct_sql(demo_home: Path, demo_packages: dict[int, SharePackage]) -> None:
    funnel = demo_packages[10].table("funnel_dropoffs").to_pylist()
    page, device = max(
        ((r["landing_page"], r["device"]) for r in funnel),
        key=lambda key: sum(
            r["sessions"] for r in funnel if (r["landing_page"], r["device"]) == key and r["step"] == "view"
        ),
    )
    expected = sql(
        demo_home,
        f"""WITH s AS ({SESSIONS_SQL}) SELECT
              {
            ", ".join(
                f"count(*) FILTER (WHERE r{i}), count(DISTINCT customer_key) FILTER (WHERE r{i})"
                f" + count(*) FILTER (WHERE r{i} AND customer_key IS NULL)"
                for i in range(4)
            )
        }
            FROM s WHERE landing_page = '{page}' AND device = '{device}'""",
    )[0]
    rows = {r["step"]: r for r in funnel if (r["landing_page"], r["device"]) == (page, device)}
    for index, step in enumerate(("view", "cart", "checkout", "order")):
        sessions, people = expected[2 * index], expected[2 * index + 1]
        if people >= 10:
            assert (rows[step]["sessions"], rows[step]["people"]) == (sessions, people), step
        else:
            assert step not in rows
    assert rows["view"]["continued_sessions"] == expected[2]
    assert rows["view"]["drop_off_rate"] == pytest.approx(1 - expected[2] / expected[0], abs=1e-6)


def test_response_times_equal_direct_sql_over_released_funnel_rows(
    demo_home: Path, demo_packages: dict[int, SharePackage]
) -> None:
    package = demo_packages[10]
    released = package.table("funnel_dropoffs").select(["landing_page", "device", "step"])
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as con:
        con.register("released", released)
        expected = con.sql(
            f"""WITH s AS ({SESSIONS_SQL}),
                  t AS (SELECT *, 'cart' AS step, epoch(at_cart) - epoch(started_at) AS seconds FROM s WHERE r1)
                SELECT device, count(*), count(DISTINCT customer_key) + count(*) FILTER (WHERE customer_key IS NULL),
                       quantile_cont(seconds / 60.0, 0.25), quantile_cont(seconds / 60.0, 0.5),
                       quantile_cont(seconds / 60.0, 0.75)
                FROM t SEMI JOIN released USING (landing_page, device, step) GROUP BY device ORDER BY device"""
        ).fetchall()
    shared = [r for r in package.table("response_times").to_pylist() if r["step"] == "cart"]
    assert [r["device"] for r in shared] == [row[0] for row in expected]
    for row, found in zip(expected, shared, strict=True):
        assert (found["sessions"], found["people"]) == row[1:3]
        for column, value in zip(("q1_minutes", "median_minutes", "q3_minutes"), row[3:], strict=True):
            assert found[column] == pytest.approx(value, abs=1e-6)


def test_k2_releases_exactly_the_cells_between_2_and_10_people(
    demo_home: Path, demo_packages: dict[int, SharePackage]
) -> None:
    people_per_cell = [
        row[0]
        for row in sql(
            demo_home,
            f"""WITH s AS ({SESSIONS_SQL}), cells AS (
                  {
                " UNION ALL ".join(
                    f"SELECT count(DISTINCT customer_key) + count(*) FILTER (WHERE customer_key IS NULL) AS people"
                    f" FROM s WHERE r{i} GROUP BY landing_page, device"
                    for i in range(4)
                )
            })
                SELECT people FROM cells""",
        )
    ]
    for k, package in demo_packages.items():
        dataset = package.datasets["funnel_dropoffs"]
        small = [p for p in people_per_cell if p < k]
        assert (dataset.suppressed_cells, dataset.suppressed_people) == (len(small), sum(small))
        assert dataset.table.num_rows == len(people_per_cell) - len(small)
    loose, strict = demo_packages[2].datasets["funnel_dropoffs"], demo_packages[10].datasets["funnel_dropoffs"]
    assert loose.table.num_rows - strict.table.num_rows == sum(1 for p in people_per_cell if 2 <= p < 10) > 0
    assert loose.suppressed_cells < strict.suppressed_cells


def test_segment_people_add_up_to_every_customer_with_a_purchase(
    demo_home: Path, demo_packages: dict[int, SharePackage]
) -> None:
    # Cancelled orders (the demo's only status that is not a sale) are no purchases: their customers have no segment.
    (customers,) = sql(demo_home, "SELECT count(DISTINCT customer_key) FROM orders WHERE status <> 'cancelled'")[0]
    for package in demo_packages.values():
        dataset = package.datasets["segment_preferences"]
        assert sum(dataset.table.column("people").to_pylist()) + dataset.suppressed_people == customers


def shared_files(package: SharePackage, format: str) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package.to_zip(format))) as archive:  # type: ignore[arg-type]
        return {name: archive.read(name) for name in archive.namelist()}


def test_nothing_personal_leaves_the_store(demo_home: Path, demo_packages: dict[int, SharePackage]) -> None:
    secrets: set[str] = set()
    for query in (
        "SELECT customer_key FROM customers",
        "SELECT order_id FROM orders",
        "SELECT session_id FROM events",
        "SELECT email FROM customer_pii",
        "SELECT name FROM customer_pii",
        "SELECT phone FROM customer_pii",
        "SELECT source_customer_id FROM customer_pii",
    ):
        secrets |= {str(row[0]) for row in sql(demo_home, query) if row[0] is not None}
    assert len(secrets) > 10_000
    forbidden_columns = {"customer_key", "order_id", "session_id", "event_id", "email", "name", "phone", "address"}
    for package in demo_packages.values():
        files = shared_files(package, "csv")
        assert sorted(files) == [
            "data_dictionary.md",
            "funnel_dropoffs.csv",
            "manifest.json",
            "product_affinity.csv",
            "response_times.csv",
            "segment_preferences.csv",
        ]
        for dataset in package.datasets.values():
            assert not forbidden_columns & set(dataset.table.column_names)
            for column in dataset.table.columns:
                assert not secrets & {str(value) for value in column.to_pylist()}
        text = b"".join(files.values()).decode()
        # Anywhere in the files (the dictionary, the manifest): every key, id, e-mail and name with a letter in it;
        # purely numeric order ids are checked as whole values above (as substrings they hit ordinary numbers).
        assert not [secret for secret in secrets if not secret.isdigit() and secret in text]


def test_money_stays_exact_in_both_formats(demo_packages: dict[int, SharePackage]) -> None:
    package = demo_packages[10]
    spend = package.table("segment_preferences").column("spend")
    assert pa.types.is_decimal(spend.type)
    parquet = pq.read_table(io.BytesIO(shared_files(package, "parquet")["segment_preferences.parquet"]))
    assert parquet.column("spend").type == spend.type
    csv = shared_files(package, "csv")["segment_preferences.csv"].decode().splitlines()
    spend_index = csv[0].split(",").index('"spend"')
    first = spend.to_pylist()[0]
    assert isinstance(first, Decimal)
    assert csv[1].split(",")[spend_index] == f"{first:.2f}"
    dictionary = shared_files(package, "csv")["data_dictionary.md"].decode()
    for dataset in package.datasets.values():
        for column in dataset.table.column_names:
            assert f"| {column} |" in dictionary, column
    assert "each counts as one person" in dictionary


def test_cli_export_writes_the_zip_and_exactly_one_audit_entry(
    cli: Callable[..., CliResult], demo_copy: Path, demo_packages: dict[int, SharePackage], tmp_path: Path
) -> None:
    out = tmp_path / "share.zip"
    result = cli("share", "export", "--out", str(out), "--format", "parquet", "--json", home_dir=demo_copy)
    assert result.exit_code == 0, result.stderr
    document = result.json()
    assert sorted(document) == ["audit_entry", "customers_withdrawn", "datasets", "format", "k", "path", "sha256"]
    assert document["customers_withdrawn"] == 0
    assert (document["path"], document["format"], document["k"]) == (str(out), "parquet", 10)
    assert document["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert document["datasets"] == {
        name: {key: value for key, value in dataset.summary().items() if key != "note"}
        for name, dataset in demo_packages[10].datasets.items()
    }
    assert document["audit_entry"] == 1
    listed = cli("audit", "list", "--json", home_dir=demo_copy).json()["entries"]
    assert len(listed) == 1
    assert (listed[0]["action"], listed[0]["actor"]) == ("share.export", "cli")
    assert listed[0]["details"]["file"] == "share.zip"  # the name, never the full path
    assert listed[0]["details"]["sha256"] == document["sha256"]
    verified = cli("audit", "verify", "--json", home_dir=demo_copy)
    assert (verified.exit_code, verified.json()) == (0, {"ok": True, "entries": 1, "first_bad_entry": None})
    manifest = json.loads(zipfile.ZipFile(out).read("manifest.json"))
    assert (manifest["k"], set(manifest["datasets"])) == (10, set(document["datasets"]))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--k", "1"), "error: k must be at least 2 (with k=1 a released row may describe a single person)"),
        (("--format", "xlsx"), "error: --format is csv or parquet, not 'xlsx'"),
    ],
)
def test_cli_export_refuses_bad_input_with_one_line(
    cli: Callable[..., CliResult], demo_copy: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = cli("share", "export", "--out", str(tmp_path / "x.zip"), *args, "--json", home_dir=demo_copy)
    assert result.exit_code == 2
    assert result.stderr.strip() == message
    assert result.stdout == ""
    assert not (tmp_path / "x.zip").exists()


def test_help_says_what_is_shared_and_what_k_means(cli: Callable[..., CliResult]) -> None:
    text = " ".join(cli("share", "export", "--help").stdout.split())
    for phrase in ("What is shared", "What is never shared", "customer keys", "at least k different people"):
        assert phrase in text
