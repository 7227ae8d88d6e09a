"""connect(settings): the DuckDB file by default, the URL when one is set; the data version and change token."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError
from tests.conftest import CDNOW_SAMPLE

from shoplens.config import Settings
from shoplens.errors import WarehouseError
from shoplens.models.events_calendar import add_event, list_events, remove_event
from shoplens.warehouse import Warehouse, change_token, connect, import_files, warehouse_exists


def test_default_is_the_duckdb_file_in_the_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert not warehouse_exists(settings)
    with connect(settings) as warehouse:
        assert warehouse.engine == "duckdb"
        assert warehouse.location == str(tmp_path / "warehouse.duckdb")
        assert warehouse.data_version == 0
        for table in ("orders", "order_lines", "customer_pii", "events_calendar"):
            assert warehouse.backend.table(table).count().execute() == 0
    assert warehouse_exists(settings)
    assert (tmp_path / "warehouse.duckdb").is_file()


def test_read_only_without_a_warehouse_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match=r"^no warehouse at .*import data first"):
        connect(Settings(home=tmp_path), read_only=True)


def test_an_import_bumps_the_version_and_changes_the_token(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    with connect(settings) as warehouse:
        version = warehouse.data_version
    token = change_token(settings)  # the file's fingerprint, read without opening it
    assert change_token(settings) == token
    with connect(settings, read_only=True) as warehouse:
        assert warehouse.change_token() == token  # reading changes nothing
    assert change_token(settings) == token
    with connect(settings) as warehouse:
        summary = import_files(
            warehouse, [CDNOW_SAMPLE], profile_name="cdnow", secret=b"k" * 40, quarantine_dir=tmp_path / "q"
        )
        assert warehouse.data_version == version + 1
        assert warehouse.row_counts()["order_lines"] == summary.rows_loaded == 6_919
    assert change_token(settings) != token
    with connect(settings) as warehouse:  # a re-import loads nothing and leaves the version alone
        import_files(warehouse, [CDNOW_SAMPLE], profile_name="cdnow", secret=b"k" * 40, quarantine_dir=tmp_path / "q")
        assert warehouse.data_version == version + 1


def test_calendar_edits_go_through_the_warehouse(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "warehouse.duckdb") as warehouse:
        version = warehouse.data_version
        add_event(warehouse, name="Summer sale", first_day=date(2024, 7, 1), last_day=date(2024, 7, 3), kind="sale")
        add_event(warehouse, name="Summer sale", first_day=date(2024, 7, 3), kind="store_sale")  # replaces one day
        kinds = [(e.date.day, e.kind) for e in list_events(warehouse)]
        assert kinds == [(1, "sale"), (2, "sale"), (3, "store_sale")]
        assert remove_event(warehouse, name="Summer sale", first_day=date(2024, 7, 2)) == 1
        assert [e.date.day for e in list_events(warehouse)] == [1, 3]
        assert remove_event(warehouse, name="No such event") == 0
        assert warehouse.data_version == version + 3  # two adds and one removal; removing nothing changes nothing


@pytest.mark.parametrize(
    ("url", "engine"),
    [
        ("postgresql://shop@db.internal:5432/shoplens", "postgres"),
        ("postgresql+psycopg://shop@db.internal/shoplens", "postgres"),
        ("spark://local", "spark"),
        ("sc://spark.internal:15002", "spark"),
    ],
)
def test_warehouse_urls_are_read_from_the_environment(
    url: str, engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPLENS_WAREHOUSE_URL", url)
    assert Settings(home=tmp_path).warehouse_url == url


def test_an_unknown_warehouse_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        ValidationError,
        match=re.escape("warehouse_url must start with postgresql://, postgresql+psycopg://, spark:// or sc://"),
    ):
        Settings(home=tmp_path, warehouse_url="mysql://shop@db/shoplens")


def test_an_unreachable_postgres_names_the_url_without_its_password(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, warehouse_url="postgresql://shop:s3cret@127.0.0.1:1/shoplens")
    with pytest.raises(WarehouseError) as raised:
        connect(settings)
    assert str(raised.value).startswith("cannot open warehouse postgresql://shop:***@127.0.0.1:1/shoplens: ")
    assert "s3cret" not in str(raised.value)
