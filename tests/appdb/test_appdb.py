"""The app database migrates itself on SQLite and, for real, on the PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from shoplens.appdb import AppDatabase, ImportRun


def _run(import_id: str) -> ImportRun:
    return ImportRun(
        import_id=import_id,
        profile="cdnow",
        files=["a.csv"],
        started_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        seconds=1.5,
        rows_read=10,
        rows_loaded=7,
        rows_quarantined=2,
        rows_duplicate=1,
        quarantine_path=None,
    )


def _exercise(url: str) -> None:
    db = AppDatabase(url)
    db.record_import(_run("imp-1"))
    db.record_import(_run("imp-1"))  # recording the same import again replaces it
    db.close()
    again = AppDatabase(url)  # a second open finds the schema current and migrates nothing
    runs = again.recent_imports()
    again.close()
    assert [(r.import_id, r.rows_read, r.rows_loaded, r.files) for r in runs] == [("imp-1", 10, 7, ["a.csv"])]
    engine = create_engine(url)
    with engine.connect() as con:
        assert con.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0009_partner_plans"
    tables = set(inspect(engine).get_table_names())
    assert {
        "import_runs",
        "targets",
        "budgets",
        "campaigns",
        "campaign_members",
        "loyalty_ledger",
        "consent_records",
        "market_competitors",
        "market_sizes",
        "market_own_figures",
        "partner_plans",
        "partner_plan_kpis",
    } <= tables
    engine.dispose()


def test_sqlite_app_database(tmp_path: Path) -> None:
    _exercise(f"sqlite:///{tmp_path / 'app.db'}")


@pytest.mark.postgres
def test_postgres_app_database(postgres_url: str) -> None:
    _exercise(postgres_url)


def test_unreachable_database_is_a_clear_error() -> None:
    from shoplens.errors import WarehouseError

    with pytest.raises(WarehouseError, match="cannot open the app database"):
        AppDatabase("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_models_match_the_migrations(tmp_path: Path) -> None:
    """Every table the ORM declares is what the migrations create: no column, index or constraint differs."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from shoplens.appdb import Base

    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    with db.engine.connect() as con:
        diff = compare_metadata(MigrationContext.configure(con), Base.metadata)
    db.close()
    assert diff == []
