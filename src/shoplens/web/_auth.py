"""Accounts, API tokens and login sessions: the only code that hashes or checks a credential.

Passwords are hashed with argon2 (argon2-cffi defaults, RFC 9106 low-memory profile). API and session tokens
are 256-bit random strings; only their SHA-256 is stored, so a copy of the app database lets nobody in.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shoplens.appdb import (
    ROLES,
    ApiToken,
    AppDatabase,
    User,
    WebSession,
    active_owner_count,
    end_user_sessions,
    token_by_hash,
    tokens_by_creation,
    user_by_email,
    users_by_email,
)
from shoplens.errors import InputError

MIN_PASSWORD_LENGTH = 10
MAX_TOKEN_NAME = 200
SESSION_LIFETIME = timedelta(hours=12)
_hasher = PasswordHasher()
# Verifying against this keeps the time of a login for an unknown e-mail like that of a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class Principal:
    """Who is asking: a logged-in user or an API token, with its role."""

    kind: str  # "user" or "token"
    name: str
    role: str
    csrf_token: str | None = None
    key: str = "server"  # the user's or token's id: who did it, in the audit log (never an e-mail)

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.key}"


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    return role


def add_user(db: AppDatabase, email: str, password: str, role: str) -> User:
    """A new active user; the e-mail is stored lower-case and must be new."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise InputError("not an e-mail address: it needs an @ and at most 320 characters")
    check_role(role)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    with db.session() as session:
        if user_by_email(session, email) is not None:
            raise InputError("a user with that e-mail exists already")
        user = User(email=email, role=role, password_hash=_hasher.hash(password), active=True, created_at=_now())
        session.add(user)
    return user


def list_users(db: AppDatabase) -> list[User]:
    with db.session() as session:
        return users_by_email(session)


def _known_user(user: User | None) -> User:
    if user is None:
        raise InputError("no user with that e-mail")
    return user


def _keep_an_owner(user: User, active_owners: int, what: str) -> None:
    """Refuse to take the owner role from the last active owner: nobody could then manage the store's people."""
    if user.active and user.role == "owner" and active_owners <= 1:
        raise InputError(f"cannot {what} the last owner; make another user owner first")


@dataclass(frozen=True)
class RoleChange:
    user_id: int
    email: str
    previous_role: str
    role: str


def change_role(db: AppDatabase, email: str, role: str) -> RoleChange:
    """Give the active user with this e-mail ``role``; the last owner keeps the owner role."""
    check_role(role)
    with db.session(writer=True) as session:  # the count of owners cannot change between the check and the write
        user = _known_user(user_by_email(session, email.strip().lower()))
        if not user.active:
            raise InputError("that user is removed; add them again with a new e-mail")
        previous = user.role
        if role != "owner":
            _keep_an_owner(user, active_owner_count(session), "demote")
        user.role = role
        return RoleChange(user.user_id, user.email, previous, role)


def remove_user(db: AppDatabase, email: str) -> User:
    """Disable the user with this e-mail and end their sessions; the last owner cannot be removed.

    The account is kept, disabled, rather than deleted: its id names it in the audit log, and a deleted id could
    be given to the next account.
    """
    with db.session(writer=True) as session:
        user = _known_user(user_by_email(session, email.strip().lower()))
        if not user.active:
            raise InputError("that user is removed already")
        _keep_an_owner(user, active_owner_count(session), "remove")
        user.active = False
        end_user_sessions(session, user.user_id)
        return user


def authenticate(db: AppDatabase, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None (in about the same time either way)."""
    with db.session() as session:
        user = user_by_email(session, email.strip().lower())
        try:
            _hasher.verify(user.password_hash if user is not None else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or not user.active:
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        return user


def create_token(db: AppDatabase, role: str, name: str = "") -> tuple[str, ApiToken]:
    """A new API token: the secret (shown once) and its stored record."""
    check_role(role)
    if len(name) > MAX_TOKEN_NAME or any(not character.isprintable() for character in name):
        raise InputError(f"the token's name must be one line of at most {MAX_TOKEN_NAME} printable characters")
    secret = "sl_" + secrets.token_urlsafe(32)
    record = ApiToken(
        token_id=secrets.token_hex(8),
        token_hash=_sha256(secret),
        role=role,
        name=name or f"{role} token",
        created_at=_now(),
        revoked=False,
    )
    with db.session() as session:
        session.add(record)
    return secret, record


def list_tokens(db: AppDatabase) -> list[ApiToken]:
    """Every API token with its name, role and state, oldest first (only hashes of the secrets are kept)."""
    with db.session() as session:
        return tokens_by_creation(session)


def revoke_token(db: AppDatabase, token_id: str) -> ApiToken:
    """Revoke the token ``token_id``: from now on it answers 401. Revoking a revoked token is refused."""
    with db.session() as session:
        record = session.get(ApiToken, token_id.strip())
        if record is None:
            raise InputError("no API token with that id; shoplens token list shows them")
        if record.revoked:
            raise InputError("that API token is revoked already")
        record.revoked = True
        return record


def token_principal(db: AppDatabase, secret: str) -> Principal | None:
    with db.session() as session:
        record = token_by_hash(session, _sha256(secret))
        if record is None or record.revoked:
            return None
        return Principal("token", record.token_id, record.role, key=str(record.token_id))


def start_session(db: AppDatabase, user: User) -> str:
    """A new login session for ``user``; returns the cookie value."""
    secret = secrets.token_urlsafe(32)
    with db.session() as session:
        session.add(
            WebSession(
                session_hash=_sha256(secret),
                user_id=user.user_id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=_now(),
                expires_at=_now() + SESSION_LIFETIME,
            )
        )
    return secret


def session_principal(db: AppDatabase, secret: str) -> Principal | None:
    with db.session() as session:
        found = session.get(WebSession, _sha256(secret))
        if found is None:
            return None
        if _aware(found.expires_at) <= _now():
            session.delete(found)
            return None
        user = session.get(User, found.user_id)
        if user is None or not user.active:
            return None
        return Principal("user", user.email, user.role, found.csrf_token, key=str(user.user_id))


def end_session(db: AppDatabase, secret: str) -> None:
    with db.session() as session:
        found = session.get(WebSession, _sha256(secret))
        if found is not None:
            session.delete(found)


class LoginLimiter:
    """At most ``attempts`` failed logins per key (client address and e-mail) in ``window`` seconds."""

    def __init__(self, attempts: int = 5, window: float = 300.0) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def blocked(self, key: str) -> bool:
        with self._lock:
            return len(self._recent(key, time.monotonic())) >= self.attempts

    def failed(self, key: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._recent(key, now).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
