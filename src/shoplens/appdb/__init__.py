"""The app database (SQLAlchemy 2 + Alembic): imports log and surveys now; users, campaigns and the rest later.

SQLite file ``<home>/app.db`` by default, PostgreSQL with ``SHOPLENS_DATABASE_URL``. It is created and
migrated to the newest schema on first use.
"""

from shoplens.appdb._accounts import ROLES, ApiToken, User, WebSession
from shoplens.appdb._models import Base, ImportRun
from shoplens.appdb._session import AppDatabase
from shoplens.appdb._surveys import Survey, SurveyAnswer, SurveyInvitation, SurveyQuestion, SurveyResponse

__all__ = [
    "ROLES",
    "ApiToken",
    "AppDatabase",
    "Base",
    "ImportRun",
    "Survey",
    "SurveyAnswer",
    "SurveyInvitation",
    "SurveyQuestion",
    "SurveyResponse",
    "User",
    "WebSession",
]
