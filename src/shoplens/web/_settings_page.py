"""The owner's Settings page: the store settings, the people who log in, and the API tokens.

Every change goes through the function the command line calls (``shoplens config set``, ``shoplens user
add|role|remove``, ``shoplens token create|revoke``), so a value the command line refuses is refused here with the
same reason, and each change is one audit entry with the same action name (``config.set``, ``account.user_add``,
``account.user_role``, ``account.user_remove``, ``account.token_create``, ``account.token_revoke``), holding
keys, ids and roles only: never a value typed for a password, a token's secret or an e-mail.

Forms are POST with the session's CSRF token; a success redirects to the page with a notice (so a reload does not
send the form again), a refusal shows the page again with the reason and changes nothing. A new token's secret
is shown once, on the page that answers its form, and is never stored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shoplens.appdb import ROLES
from shoplens.config import Settings, StoreSettingsFile, overriding_variable
from shoplens.errors import InputError
from shoplens.web._auth import (
    Principal,
    add_user,
    change_role,
    create_token,
    list_tokens,
    list_users,
    remove_user,
    revoke_token,
)
from shoplens.web._deps import OWNERS, app_database, audit
from shoplens.web._login import check_form_csrf
from shoplens.web._pages import page_roles, render
from shoplens.web._warehouse import StoreReader

# The settings the page edits; warehouse_url stays on the command line (it can hold a password).
PAGE_SETTINGS = ("store_name", "timezone", "currency", "locale")
LABELS = {"store_name": "Store name", "timezone": "Time zone", "currency": "Currency", "locale": "Locale"}
HINTS = {
    "store_name": "As reports and the dashboard show it.",
    "timezone": "An IANA zone such as Europe/London: the days, weeks and months of every analysis are its.",
    "currency": "An ISO 4217 code of three letters, such as EUR.",
    "locale": "A language and region, such as en_GB or zh_HK.",
}
NOTICES = {
    "settings": "Store settings saved.",
    "unchanged": "Nothing to save: every setting already had that value.",
    "user_added": "User added.",
    "role_changed": "Role changed; it applies at the user's next click.",
    "user_removed": "User removed; their sessions have ended.",
    "token_revoked": "Token revoked; it no longer works.",
}
Notice = Literal["settings", "unchanged", "user_added", "role_changed", "user_removed", "token_revoked"]
LONGEST_FIELD = 1000  # longer form values are cut before they are checked (every rule refuses them anyway)

Owner = Annotated[Principal, page_roles(*OWNERS)]


def _settings(request: Request) -> Settings:
    found = request.app.state.settings
    assert isinstance(found, Settings)
    return found


def _reload_settings(request: Request) -> None:
    """The app's settings read again after a change, so that its pages use the new time zone from the next
    request on (the store reader is new too: its answers were kept under the old zone)."""
    current = _settings(request)
    others = current.model_dump(exclude=set(PAGE_SETTINGS))
    fresh = Settings(**others)
    request.app.state.settings = fresh
    before = request.app.state.store
    request.app.state.store = StoreReader(fresh, warm=before.warm_queries, warm_more=before.warm_more)


async def _form(request: Request) -> dict[str, str]:
    """The form's fields as text, after its CSRF token is checked (403 otherwise)."""
    form = await request.form()
    check_form_csrf(request, form.get("csrf_token"))
    return {name: value[:LONGEST_FIELD] for name, value in form.items() if isinstance(value, str)}


def _done(notice: Notice) -> RedirectResponse:
    return RedirectResponse(f"/settings?notice={notice}", status_code=303)


def _page(
    request: Request,
    principal: Principal,
    *,
    notice: str | None = None,
    error: str | None = None,
    error_form: str | None = None,
    typed: dict[str, str] | None = None,
    new_token: dict[str, str] | None = None,
) -> HTMLResponse:
    """The page; with ``error`` (status 400) the form ``error_form`` shows it and keeps what was ``typed``."""
    values = _settings(request).store_settings()
    typed = typed or {}
    fields = [
        {
            "key": key,
            "label": LABELS[key],
            "hint": HINTS[key],
            "value": typed.get(key, values[key]) if error_form == "store" else values[key],
            "overridden_by": overriding_variable(key),
        }
        for key in PAGE_SETTINGS
    ]
    database = app_database(request)
    users = list_users(database)
    response = render(
        request,
        "settings.html",
        principal,
        fields=fields,
        timezones=sorted(available_timezones()),
        users=users,
        tokens=list_tokens(database),
        roles=ROLES,
        notice=notice,
        error=error,
        error_form=error_form,
        typed=typed if error_form in ("user", "token") else {},
        new_token=new_token,
    )
    if error is not None:
        response.status_code = 400
    return response


routes = APIRouter(include_in_schema=False)


def router() -> APIRouter:
    """The Settings page and its forms."""
    return routes


@routes.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, principal: Owner, notice: Annotated[Notice | None, Query()] = None) -> HTMLResponse:
    """The store settings, the users and the API tokens, each with its forms (owners only)."""
    return _page(request, principal, notice=NOTICES[notice] if notice else None)


@routes.post("/settings/store", response_class=HTMLResponse)
async def save_store_settings(request: Request, principal: Owner) -> Response:
    """Check every store setting of the form, then keep those that changed: one ``config.set`` entry each."""
    form = await _form(request)
    current = _settings(request).store_settings()
    submitted = {key: form.get(key, "") for key in PAGE_SETTINGS}
    file = StoreSettingsFile(_settings(request).home)
    try:
        # Normalised first (currency in capitals, en-gb as en_GB), so an unchanged value is not a change.
        checked = file.check_many(submitted)
    except InputError as exc:
        return _page(request, principal, error=str(exc), error_form="store", typed=submitted)
    changed = {key: value for key, value in checked.items() if value != current[key]}
    if not changed:
        return _done("unchanged")
    file.set_many(changed)
    for key in changed:
        audit(request, principal.actor, "config.set", {"key": key})
    _reload_settings(request)
    return _done("settings")


@routes.post("/settings/users", response_class=HTMLResponse)
async def add_person(request: Request, principal: Owner) -> Response:
    """A new account with a role and a first password (``shoplens user add``)."""
    form = await _form(request)
    try:
        if form.get("password", "") != form.get("password_again", ""):
            raise InputError("the two passwords differ")
        user = add_user(app_database(request), form.get("email", ""), form.get("password", ""), form.get("role", ""))
    except InputError as exc:  # the page shows the e-mail and role again, never the password
        typed = {"email": form.get("email", ""), "role": form.get("role", "")}
        return _page(request, principal, error=str(exc), error_form="user", typed=typed)
    audit(request, principal.actor, "account.user_add", {"user_id": user.user_id, "role": user.role})
    return _done("user_added")


@routes.post("/settings/users/role", response_class=HTMLResponse)
async def change_person_role(request: Request, principal: Owner) -> Response:
    """Another role for an account (``shoplens user role``); the last owner stays owner."""
    form = await _form(request)
    try:
        change = change_role(app_database(request), form.get("email", ""), form.get("role", ""))
    except InputError as exc:
        return _page(request, principal, error=str(exc), error_form="users")
    details: dict[str, Any] = {"user_id": change.user_id, "role": change.role}
    audit(request, principal.actor, "account.user_role", details | {"previous_role": change.previous_role})
    return _done("role_changed")


@routes.post("/settings/users/remove", response_class=HTMLResponse)
async def remove_person(request: Request, principal: Owner) -> Response:
    """Remove an account (``shoplens user remove``); the last owner cannot be removed."""
    form = await _form(request)
    try:
        user = remove_user(app_database(request), form.get("email", ""))
    except InputError as exc:
        return _page(request, principal, error=str(exc), error_form="users")
    audit(request, principal.actor, "account.user_remove", {"user_id": user.user_id, "role": user.role})
    if principal.kind == "user" and principal.key == str(user.user_id):
        return RedirectResponse("/login", status_code=303)  # the owner removed their own account
    return _done("user_removed")


@routes.post("/settings/tokens", response_class=HTMLResponse)
async def new_token(request: Request, principal: Owner) -> Response:
    """A new API token (``shoplens token create``): its secret is on this answer only."""
    form = await _form(request)
    try:
        secret, record = create_token(app_database(request), form.get("role", ""), form.get("name", "").strip())
    except InputError as exc:
        typed = {"name": form.get("name", ""), "role": form.get("role", "")}
        return _page(request, principal, error=str(exc), error_form="token", typed=typed)
    audit(request, principal.actor, "account.token_create", {"token_id": record.token_id, "role": record.role})
    shown = {"secret": secret, "token_id": record.token_id, "name": record.name, "role": record.role}
    return _page(request, principal, new_token=shown)


@routes.post("/settings/tokens/revoke", response_class=HTMLResponse)
async def revoke(request: Request, principal: Owner) -> Response:
    """Revoke an API token (``shoplens token revoke``): it answers 401 from now on."""
    form = await _form(request)
    try:
        record = revoke_token(app_database(request), form.get("token_id", ""))
    except InputError as exc:
        return _page(request, principal, error=str(exc), error_form="tokens")
    audit(request, principal.actor, "account.token_revoke", {"token_id": record.token_id, "role": record.role})
    return _done("token_revoked")
