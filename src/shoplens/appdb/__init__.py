"""The app database (SQLAlchemy 2 + Alembic): imports log now; users, surveys, campaigns and the rest later.

SQLite file ``<home>/app.db`` by default, PostgreSQL with ``SHOPLENS_DATABASE_URL``. It is created and
migrated to the newest schema on first use.
"""

from shoplens.appdb._models import Base, ImportRun
from shoplens.appdb._session import AppDatabase

__all__ = ["AppDatabase", "Base", "ImportRun"]
