"""Checks every route gets before its own: unknown query parameters (422), and the session cookie on cross-site
requests (403). One app-wide dependency, so a new route is guarded without a line of its own.

* A query parameter the route does not declare is refused with 422, in the one error shape; the names a route
  declares are read from the route itself (its parameters, or the fields of its query model). So is an integer
  beyond 64 bits in any parameter (no engine can compare with it).
* A request that changes something (POST, PUT, PATCH, DELETE) and is authenticated by the dashboard's session
  cookie must come from the app's own pages: its ``Origin`` (or, without one, its ``Referer``) must be this host,
  or it must carry the session's CSRF token (the dashboard's forms send it as ``csrf_token``; scripts may send it
  as ``X-CSRF-Token``). Bearer-token calls carry no ambient credential, so they are not checked. A route in
  :data:`STREAMED_FORMS` reads its own body as it arrives (uploads go to disk, never into memory), so here its
  form is not read: without a same-site ``Origin`` or the header, the route itself checks the form's
  ``csrf_token`` field (:func:`needs_form_token`) before it keeps any of the body.
"""

from __future__ import annotations

import re
import secrets
from types import UnionType
from typing import Union, get_args, get_origin
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from shoplens.web._deps import PUBLIC_ROUTES, SESSION_COOKIE, bearer, principal_of, unauthorized
from shoplens.web._errors import API_PREFIX, ApiError

INT64_MAX = 2**63 - 1
_INTEGER = re.compile(r"[+-]?[0-9]+")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
STREAMED_FORMS = frozenset({"/import"})


def declared_query_names(dependant: Dependant) -> frozenset[str]:
    """The query parameter names ``dependant`` (a route's, with its dependencies) reads: each parameter's name,
    or the names of the fields of a query model (``Annotated[KpiQuery, Query()]``)."""
    names: set[str] = set()
    waiting = [dependant]
    while waiting:
        current = waiting.pop()
        waiting.extend(current.dependencies)
        for field in current.query_params:
            model = _model_of(field.field_info.annotation)
            if model is None:
                names.add(field.alias)
            else:
                names.update(info.alias or name for name, info in model.model_fields.items())
    return frozenset(names)


def _model_of(annotation: object) -> type[BaseModel] | None:
    if get_origin(annotation) in (Union, UnionType):
        annotation = next((arg for arg in get_args(annotation) if arg is not type(None)), None)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _unknown_query_names(request: Request, route: APIRoute) -> list[str]:
    declared = declared_query_names(route.dependant)
    return sorted({name for name in request.query_params if name not in declared})


def _own_host(request: Request) -> str:
    return request.headers.get("host", "").lower()


def _same_origin(request: Request) -> bool:
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    return parts.scheme in {"http", "https"} and bool(parts.netloc) and parts.netloc.lower() == _own_host(request)


async def _carries_csrf_token(request: Request) -> bool:
    principal = principal_of(request)
    expected = principal.csrf_token if principal is not None else None
    if not expected:
        return False
    given: object = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        given = (await request.form()).get("csrf_token")  # kept by the request: the route reads it again
    return isinstance(given, str) and secrets.compare_digest(given, expected)


def needs_form_token(request: Request) -> bool:
    """Whether a request to a route of :data:`STREAMED_FORMS` must still show the session's CSRF token in its
    form: it uses the session cookie, and neither its origin nor an ``X-CSRF-Token`` header vouches for it."""
    if bearer(request) is not None or not request.cookies.get(SESSION_COOKIE) or _same_origin(request):
        return False
    principal = principal_of(request)
    expected = principal.csrf_token if principal is not None else None
    given = request.headers.get(CSRF_HEADER)
    return not (expected and given and secrets.compare_digest(given, expected))


async def guard_request(request: Request) -> None:
    """The app-wide checks (see the module's docstring); raises :class:`ApiError`."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    public = route.path in PUBLIC_ROUTES
    if route.path.startswith(API_PREFIX) and not public and principal_of(request) is None:
        raise unauthorized()  # who may not call a route learns nothing of its parameters
    unknown = _unknown_query_names(request, route)
    if unknown:
        names = ", ".join(name[:40] for name in unknown[:5])
        raise ApiError(422, "invalid_request", f"unknown query parameter(s): {names}")
    for name, value in request.query_params.multi_items():
        if len(value) >= 19 and _INTEGER.fullmatch(value.strip()) and abs(int(value)) > INT64_MAX:
            raise ApiError(422, "invalid_request", f"{name[:40]}: an integer beyond 64 bits")
    if (
        request.method not in SAFE_METHODS
        and not public
        and bearer(request) is None
        and request.cookies.get(SESSION_COOKIE)
        and not _same_origin(request)
        and not (route.path in STREAMED_FORMS and request.method == "POST")  # the route checks (see above)
        and not await _carries_csrf_token(request)
    ):
        raise ApiError(
            403,
            "forbidden",
            "a request from another site may not use the session cookie; call from the dashboard's own pages "
            "or send the session's CSRF token",
        )
