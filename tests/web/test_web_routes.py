"""Every route is public by name or declares its roles, and answers 401/403 to missing or wrong credentials."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from shoplens.web._deps import CUSTOMER_LEVEL, PUBLIC_ROUTES


@dataclass(frozen=True)
class Endpoint:
    path: str
    methods: frozenset[str]
    roles: tuple[str, ...] | None  # None: declares no roles


def _endpoints(app: FastAPI) -> list[Endpoint]:
    """Every route of the app, routers included, with the roles its dependencies declare."""
    found = []
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        declared = [getattr(d.call, "roles", None) for d in dependant.dependencies] if dependant else []
        roles = next((tuple(r) for r in declared if r is not None), None)
        found.append(Endpoint(route.path or "", frozenset(route.methods or ()) - {"HEAD"}, roles))
    return found


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_route_is_public_or_declares_roles(store_app: FastAPI) -> None:
    undeclared = []
    for route in _endpoints(store_app):
        if route.path in PUBLIC_ROUTES or route.path == "/logout":
            continue  # /logout is checked below: it needs the session's CSRF token
        if route.roles is None:
            undeclared.append(route.path)
    assert undeclared == []


def test_without_credentials_every_private_route_is_refused(store_app: FastAPI) -> None:
    client = TestClient(store_app)
    checked = 0
    for route in _endpoints(store_app):
        if route.path in PUBLIC_ROUTES:
            continue
        for method in route.methods:
            answer = client.request(method, _concrete(route.path), follow_redirects=False)
            if route.path.startswith("/api/"):
                assert answer.status_code == 401, route.path
                assert answer.json() == {"error": {"code": "unauthorized", "message": "credentials required"}}
            elif answer.status_code == 303:
                assert answer.headers["location"] == "/login", route.path
            else:
                assert answer.status_code in (401, 403), route.path
            checked += 1
    assert checked >= 12


def test_vendors_get_403_on_every_customer_level_route(
    store_app: FastAPI, as_role: Callable[[str], TestClient]
) -> None:
    vendor = as_role("vendor")
    customer_level = [r for r in _endpoints(store_app) if r.roles == CUSTOMER_LEVEL]
    assert {"/api/v1/customers", "/api/v1/rfm", "/customers", "/cohorts"} <= {r.path for r in customer_level}
    for route in customer_level:
        for method in route.methods:
            answer = vendor.request(method, _concrete(route.path), follow_redirects=False)
            assert answer.status_code == 403, route.path
            if route.path.startswith("/api/"):
                assert answer.json() == {"error": {"code": "forbidden", "message": "your role may not use this route"}}
    assert vendor.get("/api/v1/kpis").status_code == 200, "store-level figures are for vendors too"
