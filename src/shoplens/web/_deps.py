"""FastAPI dependencies: the app database, and credentials for every non-public API route."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request

from shoplens.appdb import AppDatabase
from shoplens.web._errors import ApiError


def app_database(request: Request) -> AppDatabase:
    database = request.app.state.app_database
    assert isinstance(database, AppDatabase)
    return database


def has_credentials(request: Request) -> bool:
    """A bearer token equal to the server's API token; without one configured, nobody has credentials.

    A stand-in until users and roles arrive: the same 401 answer and JSON error shape either way.
    """
    expected: str | None = request.app.state.api_token
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and secrets.compare_digest(given.strip(), expected or "")


def unauthorized() -> ApiError:
    return ApiError(401, "unauthorized", "credentials required", headers={"WWW-Authenticate": "Bearer"})


def require_credentials(request: Request) -> None:
    if not has_credentials(request):
        raise unauthorized()


AppDb = Annotated[AppDatabase, Depends(app_database)]
Authenticated = Depends(require_credentials)
