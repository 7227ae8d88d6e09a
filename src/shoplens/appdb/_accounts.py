"""Accounts: users with a role, API tokens for scripts and login sessions of the dashboard.

Only hashes are stored: argon2 for passwords, SHA-256 for the long random API and session tokens (they carry
enough entropy that a slow hash adds nothing).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shoplens.appdb._models import Base

ROLES = ("owner", "analyst", "marketer", "vendor")


class User(Base):
    """A person who logs in to the dashboard; ``role`` is one of :data:`ROLES`."""

    __tablename__ = "users"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A bearer token for scripts, with its own role; the token itself is shown once and never stored."""

    __tablename__ = "api_tokens"

    token_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class WebSession(Base):
    """A logged-in browser: the cookie holds a random token whose hash is kept here with the CSRF token."""

    __tablename__ = "web_sessions"

    session_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.user_id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def user_by_email(session: Session, email: str) -> User | None:
    """The user whose (lower-case) e-mail is ``email``."""
    return session.scalar(select(User).where(User.email == email))


def users_by_email(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.email)))


def token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))


def tokens_by_creation(session: Session) -> list[ApiToken]:
    """Every API token, revoked ones included, oldest first."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.token_id)))


def active_owner_count(session: Session) -> int:
    """How many active users have the owner role (the store must keep at least one)."""
    found = session.scalar(select(func.count()).select_from(User).where(User.role == "owner", User.active))
    return int(found or 0)


def end_user_sessions(session: Session, user_id: int) -> int:
    """Log the user out of every browser; how many sessions ended."""
    result = session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)
