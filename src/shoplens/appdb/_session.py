"""Open the app database, migrating it to the newest schema first."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from shoplens.appdb import _audit, _consent
from shoplens.appdb._models import ImportRun
from shoplens.config import Settings
from shoplens.errors import WarehouseError
from shoplens.privacy import AuditRow, ConsentRecord, Purpose, write_audit_head

MIGRATIONS = Path(__file__).parent / "migrations"
WRITER = "shoplens_writer"
AUDIT_HEAD_FILE = "audit.head"  # the audit chain's newest id and hash, kept apart from the rows


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLite transactions begin where SQLAlchemy begins them, and writers take the lock at once.

    Python's sqlite3 module opens a transaction only at the first INSERT/UPDATE/DELETE, so a read before a write
    would run outside it; ``BEGIN IMMEDIATE`` makes a writer wait for another instead of failing after its read.
    """

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.isolation_level = None  # type: ignore[attr-defined]

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(WRITER, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class AppDatabase:
    """The app database; also the store of the audit chain (:class:`shoplens.privacy.AuditStore`) and of consent
    records (:class:`shoplens.privacy.ConsentStore`)."""

    def __init__(self, url: str, *, audit_head: Path | None = None) -> None:
        """``audit_head``: the file where each append also writes the chain's head (see :func:`verify_audit`)."""
        self.audit_head = audit_head
        try:
            self.engine: Engine = create_engine(url)
            if self.engine.dialect.name == "sqlite":
                _sqlite_transactions(self.engine)
            self._migrate()
        except SQLAlchemyError as exc:
            raise WarehouseError(f"cannot open the app database: {str(exc).splitlines()[0][:200]}") from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def for_store(cls, config: Settings) -> AppDatabase:
        """The store's app database, keeping the audit chain's head in the store's home."""
        return cls(config.app_database_url, audit_head=config.home / AUDIT_HEAD_FILE)

    def _migrate(self) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def session(self, *, writer: bool = False) -> Iterator[Session]:
        """One transaction; ``writer`` takes the write lock at its start, so what it reads cannot change under it."""
        with self._sessions.begin() as session:
            if writer:
                session.connection(execution_options={WRITER: True})
            yield session

    def record_import(self, run: ImportRun) -> None:
        with self.session() as session:
            session.merge(run)

    def recent_imports(self, limit: int = 10) -> list[ImportRun]:
        with self.session() as session:
            return list(session.scalars(select(ImportRun).order_by(ImportRun.started_at.desc()).limit(limit)))

    def append_audit(self, seal: Callable[[AuditRow | None], AuditRow]) -> AuditRow:
        sealed = _audit.append_audit(self, seal)
        if self.audit_head is not None:
            write_audit_head(self.audit_head, sealed)
        return sealed

    def audit_rows(self) -> Iterator[AuditRow]:
        return _audit.audit_rows(self)

    def newest_audit_rows(self, limit: int) -> list[AuditRow]:
        return _audit.newest_audit_rows(self, limit)

    def add_consent(self, records: Sequence[ConsentRecord]) -> int:
        return _consent.add_consent(self, records)

    def latest_consent(self, purpose: Purpose, customer_keys: Sequence[str] | None = None) -> dict[str, ConsentRecord]:
        return _consent.latest_consent(self, purpose, customer_keys)

    def latest_platform_consent(self, purpose: Purpose, customer_keys: Sequence[str]) -> dict[str, bool]:
        return _consent.latest_platform_consent(self, purpose, customer_keys)

    def consent_history(self, customer_key: str) -> list[ConsentRecord]:
        return _consent.consent_history(self, customer_key)

    def close(self) -> None:
        self.engine.dispose()
