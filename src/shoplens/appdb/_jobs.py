"""Long jobs (imports, the demo build, model fits) and how far they have got, for the dashboard to show.

The command line writes one :class:`Job` row when a job starts and updates it as it goes (at most twice a second,
and at every new step); the web app reads the rows, so a job started in a terminal shows its progress in the
browser. A row never holds personal data: job descriptions name files and models, and a failure keeps only the
error's one-line reason.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, Index, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from shoplens.appdb._models import Base
from shoplens.appdb._session import AppDatabase

UPDATE_EVERY_SECONDS = 0.5
MESSAGE_LENGTH = 300


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_started_at", "started_at"),)

    job_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))  # running | done | failed
    step: Mapped[str] = mapped_column(String(200))
    done: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    message: Mapped[str | None] = mapped_column(String(MESSAGE_LENGTH))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)

    @property
    def state(self) -> str:
        """``running``, ``done``, ``failed``, or ``interrupted``: marked running, but its process on this machine
        is gone (killed, or the machine restarted)."""
        if self.status == "running" and self.host == socket.gethostname() and not process_alive(self.pid):
            return "interrupted"
        return self.status

    @property
    def seconds(self) -> float:
        end = self.finished_at or datetime.now(UTC)
        return round((_aware(end) - _aware(self.started_at)).total_seconds(), 1)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)  # SQLite drops the zone


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (one of another user counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobLog:
    """The row of one running job: :meth:`update` as it goes, :meth:`finish` at the end."""

    def __init__(self, database: AppDatabase, kind: str, description: str) -> None:
        self.database = database
        self.job_id = uuid.uuid4().hex
        self._step = ""
        self._written = 0.0
        now = datetime.now(UTC)
        with database.session() as session:
            session.add(
                Job(
                    job_id=self.job_id,
                    kind=kind,
                    description=description[:300],
                    status="running",
                    step="starting",
                    done=0,
                    total=0,
                    started_at=now,
                    updated_at=now,
                    finished_at=None,
                    message=None,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                )
            )

    def update(self, step: str, done: int, total: int) -> None:
        """Record progress; skipped when the step is unchanged and the last write was under half a second ago."""
        moment = time.monotonic()
        if step == self._step and moment - self._written < UPDATE_EVERY_SECONDS:
            return
        self._step, self._written = step, moment
        with self.database.session() as session:
            job = session.get(Job, self.job_id)
            if job is not None:
                job.step, job.done, job.total, job.updated_at = step[:200], done, total, datetime.now(UTC)

    def finish(self, error: str | None = None) -> None:
        now = datetime.now(UTC)
        with self.database.session() as session:
            job = session.get(Job, self.job_id)
            if job is not None:
                job.status = "failed" if error is not None else "done"
                job.message = error[:MESSAGE_LENGTH] if error is not None else None
                job.finished_at = job.updated_at = now
                if error is None:
                    job.done = job.total = max(job.total, 1)


def recent_jobs(database: AppDatabase, limit: int = 20) -> list[Job]:
    """The latest jobs, newest first."""
    with database.session() as session:
        return list(session.scalars(select(Job).order_by(Job.started_at.desc()).limit(limit)))
