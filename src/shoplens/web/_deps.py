"""FastAPI dependencies: the app database, the current principal and role checks.

Credentials are a bearer token (an API token from ``shoplens token create``, or the server-wide token from
``SHOPLENS_API_TOKEN``, which acts as the owner) or the dashboard's session cookie. Every route states who may
call it with :func:`require_roles` or is listed as public in :data:`PUBLIC_ROUTES`.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import Depends, Request

from shoplens.appdb import ROLES, AppDatabase
from shoplens.config import Settings
from shoplens.privacy import AuditEntry, record_audit
from shoplens.web._auth import Principal, session_principal, token_principal
from shoplens.web._errors import ApiError

SESSION_COOKIE = "shoplens_session"
# Routes anyone may call; everything else declares its roles (a test walks app.routes to check).
PUBLIC_ROUTES = frozenset(
    {
        "/api/v1/health",
        "/api/v1/survey-answers/{token}",
        "/s/{token}",
        "/login",
        "/static",
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
    }
)
EVERYONE = ROLES
# Customer-level data (pseudonymous keys, segments of single customers) is not for vendors.
CUSTOMER_LEVEL = ("owner", "analyst", "marketer")
ANALYSTS = ("owner", "analyst")
# The store's settings, its people and its API tokens.
OWNERS = ("owner",)


def app_database(request: Request) -> AppDatabase:
    database = request.app.state.app_database
    assert isinstance(database, AppDatabase)
    return database


def audit(request: Request, actor: str, action: str, details: dict[str, Any]) -> AuditEntry:
    """One entry in the store's audit log, written by the web app (``details``: keys and counts, nothing personal)."""
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return record_audit(
        app_database(request),
        actor=actor,
        action=action,
        details={**details, "via": "web"},
        secret=settings.store_secret(),
    )


def bearer(request: Request) -> str | None:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return given.strip() if scheme.lower() == "bearer" and given.strip() else None


def principal_of(request: Request) -> Principal | None:
    """Who sent ``request``, or None; looked up once per request."""
    if hasattr(request.state, "principal"):
        found: Principal | None = request.state.principal
        return found
    found = None
    database = app_database(request)
    token = bearer(request)
    if token is not None:
        server_token: str | None = request.app.state.api_token
        if server_token and secrets.compare_digest(token, server_token):
            found = Principal("token", "server", "owner")
        else:
            found = token_principal(database, token)
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            found = session_principal(database, cookie)
    request.state.principal = found
    return found


def has_credentials(request: Request) -> bool:
    return principal_of(request) is not None


def unauthorized() -> ApiError:
    return ApiError(401, "unauthorized", "credentials required", headers={"WWW-Authenticate": "Bearer"})


def forbidden() -> ApiError:
    return ApiError(403, "forbidden", "your role may not use this route")


def require_credentials(request: Request) -> Principal:
    found = principal_of(request)
    if found is None:
        raise unauthorized()
    return found


def require_roles(*roles: str) -> Any:
    """A dependency that lets only ``roles`` through: 401 without credentials, 403 with another role."""

    def check(request: Request) -> Principal:
        found = require_credentials(request)
        if found.role not in roles:
            raise forbidden()
        return found

    check.roles = roles  # type: ignore[attr-defined]  # read by the route audit test
    return Depends(check)


AppDb = Annotated[AppDatabase, Depends(app_database)]
CurrentPrincipal = Annotated[Principal, Depends(require_credentials)]
Authenticated = require_roles(*EVERYONE)
Analysts = require_roles(*ANALYSTS)
CustomerLevel = require_roles(*CUSTOMER_LEVEL)
