"""Open the app database, migrating it to the newest schema first."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from shoplens.appdb import _audit
from shoplens.appdb._models import ImportRun
from shoplens.errors import WarehouseError
from shoplens.privacy import AuditRow

MIGRATIONS = Path(__file__).parent / "migrations"


class AppDatabase:
    """The app database; also the store of the audit chain (:class:`shoplens.privacy.AuditStore`)."""

    def __init__(self, url: str) -> None:
        try:
            self.engine: Engine = create_engine(url)
            self._migrate()
        except SQLAlchemyError as exc:
            raise WarehouseError(f"cannot open the app database: {str(exc).splitlines()[0][:200]}") from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def _migrate(self) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def record_import(self, run: ImportRun) -> None:
        with self.session() as session:
            session.merge(run)

    def recent_imports(self, limit: int = 10) -> list[ImportRun]:
        with self.session() as session:
            return list(session.scalars(select(ImportRun).order_by(ImportRun.started_at.desc()).limit(limit)))

    def append_audit(self, seal: Callable[[AuditRow | None], AuditRow]) -> AuditRow:
        return _audit.append_audit(self, seal)

    def audit_rows(self) -> Iterator[AuditRow]:
        return _audit.audit_rows(self)

    def newest_audit_rows(self, limit: int) -> list[AuditRow]:
        return _audit.newest_audit_rows(self, limit)

    def close(self) -> None:
        self.engine.dispose()
