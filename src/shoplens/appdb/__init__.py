"""The app database (SQLAlchemy 2 + Alembic): imports log, surveys, accounts, the audit log, consent records,
targets and budgets, joint plans with partners, retention campaigns, the loyalty ledger, and the market
(competitors, market sizes).

SQLite file ``<home>/app.db`` by default, PostgreSQL with ``SHOPLENS_DATABASE_URL``. It is created and
migrated to the newest schema on first use. SQLAlchemy stays inside this package: the layers above read and write
through its functions and stores (:func:`survey_store`, :func:`user_by_email`, :func:`recent_jobs`, ...).
"""

from shoplens.appdb._accounts import (
    ROLES,
    ApiToken,
    User,
    WebSession,
    active_owner_count,
    end_user_sessions,
    token_by_hash,
    tokens_by_creation,
    user_by_email,
    users_by_email,
)
from shoplens.appdb._audit import AuditRecord
from shoplens.appdb._campaigns import (
    Campaign,
    CampaignMember,
    all_campaigns,
    campaign_by_id,
    campaign_members,
    save_campaign,
)
from shoplens.appdb._consent import ConsentEntry, consent_state
from shoplens.appdb._erase import customer_rows, erase_customer_rows
from shoplens.appdb._jobs import Job, JobLog, process_alive, recent_jobs
from shoplens.appdb._loyalty import LedgerEntry, append_ledger_entries, ledger_entries
from shoplens.appdb._market import Competitor, MarketSize, MarketStore, OwnFigure
from shoplens.appdb._models import Base, ImportRun
from shoplens.appdb._partner_plans import PARTNER_KINDS, PartnerPlan, PartnerPlanKpi, PartnerPlanStore
from shoplens.appdb._plans import Budget, PlanStore, Target
from shoplens.appdb._session import AppDatabase
from shoplens.appdb._surveys import (
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyStore,
    survey_store,
)

__all__ = [
    "PARTNER_KINDS",
    "ROLES",
    "ApiToken",
    "AppDatabase",
    "AuditRecord",
    "Base",
    "Budget",
    "Campaign",
    "CampaignMember",
    "Competitor",
    "ConsentEntry",
    "ImportRun",
    "Job",
    "JobLog",
    "LedgerEntry",
    "MarketSize",
    "MarketStore",
    "OwnFigure",
    "PartnerPlan",
    "PartnerPlanKpi",
    "PartnerPlanStore",
    "PlanStore",
    "Survey",
    "SurveyAnswer",
    "SurveyInvitation",
    "SurveyQuestion",
    "SurveyResponse",
    "SurveyStore",
    "Target",
    "User",
    "WebSession",
    "active_owner_count",
    "all_campaigns",
    "append_ledger_entries",
    "campaign_by_id",
    "campaign_members",
    "consent_state",
    "customer_rows",
    "end_user_sessions",
    "erase_customer_rows",
    "ledger_entries",
    "process_alive",
    "recent_jobs",
    "save_campaign",
    "survey_store",
    "token_by_hash",
    "tokens_by_creation",
    "user_by_email",
    "users_by_email",
]
