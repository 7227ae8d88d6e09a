"""Consent over the API: read and change what one customer (by pseudonymous key) agrees to, per purpose.

A change is a consent record with source ``api`` (the newest record wins at once, as with ``shoplens privacy
consent set``) and one audit entry naming who made it (a user or token id), the key, the purpose and yes or no.
Only owners and marketers may change consent; everyone who sees customer-level data may read it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict

from shoplens.appdb import consent_state
from shoplens.privacy import ConsentRecord, Purpose
from shoplens.warehouse import connect, warehouse_exists
from shoplens.web._deps import CUSTOMER_LEVEL, app_database, audit, principal_of, require_roles
from shoplens.web._errors import API_PREFIX, ApiError

CONSENT_EDITORS = ("owner", "marketer")
CustomerKey = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class ConsentChange(BaseModel):
    """``granted``: true when the customer agrees to the purpose, false when they refuse or withdraw."""

    model_config = ConfigDict(extra="forbid")
    granted: bool


def _platform_flag(request: Request, key: str) -> bool | None:
    """The customer's marketing flag from the platform; a 404 when the store has no such customer."""
    settings = request.app.state.settings
    if not warehouse_exists(settings):
        raise ApiError(404, "not_found", "the store has no customer with that key")
    with connect(settings, read_only=True) as warehouse:
        customers = warehouse.backend.table("customers")
        found = customers.filter(customers.customer_key == key).select("consent_marketing").to_pyarrow()
    if not found.num_rows:
        raise ApiError(404, "not_found", "the store has no customer with that key")
    flag = found.column(0)[0].as_py()
    return None if flag is None else bool(flag)


def _state(request: Request, key: str, platform: bool | None) -> dict[str, Any]:
    return {"customer_key": key, "consent": consent_state(app_database(request), key, platform)}


def router() -> APIRouter:
    routes = APIRouter(prefix=API_PREFIX, tags=["consent"])

    @routes.get("/customers/{customer_key}/consent", dependencies=[require_roles(*CUSTOMER_LEVEL)])
    def consent_of(request: Request, customer_key: CustomerKey) -> dict[str, Any]:
        """What the customer agrees to now, per purpose (analytics, marketing, sharing), and which record says so."""
        return _state(request, customer_key, _platform_flag(request, customer_key))

    @routes.put("/customers/{customer_key}/consent/{purpose}", dependencies=[require_roles(*CONSENT_EDITORS)])
    def change_consent(
        request: Request, customer_key: CustomerKey, purpose: Purpose, body: ConsentChange
    ) -> dict[str, Any]:
        """Record the customer's decision for one purpose (source ``api``); it applies from the next read on."""
        platform = _platform_flag(request, customer_key)
        principal = principal_of(request)
        assert principal is not None, "require_roles ran first"
        app_database(request).add_consent(
            [ConsentRecord(customer_key, purpose, body.granted, "api", datetime.now(UTC))]
        )
        entry = audit(
            request,
            principal.actor,
            "privacy.consent_set",
            {"customer_key": customer_key, "purpose": purpose, "granted": body.granted, "source": "api"},
        )
        return {**_state(request, customer_key, platform), "audit_entry": entry.id}

    return routes
