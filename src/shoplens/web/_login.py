"""Log in and out of the dashboard: session cookies, CSRF tokens on every form, failed-login rate limiting.

The session cookie is ``HttpOnly`` and ``SameSite=Lax``, and ``Secure`` whenever the server listens beyond
localhost. The login form itself is protected by a double-submit token: a random nonce in a short-lived cookie
and its HMAC under the server's secret key in the form. Forms of logged-in users carry the session's own CSRF
token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from shoplens.web._auth import SESSION_LIFETIME, LoginLimiter, authenticate, end_session, start_session
from shoplens.web._deps import SESSION_COOKIE, app_database, audit, principal_of
from shoplens.web._errors import ApiError
from shoplens.web._settings import WebSettings

LOGIN_NONCE_COOKIE = "shoplens_login_nonce"
NO_STORE = {"Cache-Control": "no-store"}


def web_settings(request: Request) -> WebSettings:
    found = request.app.state.web_settings
    assert isinstance(found, WebSettings)
    return found


def _login_token(request: Request, nonce: str) -> str:
    key = (web_settings(request).secret_key or "").encode()
    return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()


def check_form_csrf(request: Request, given: object) -> None:
    """403 unless ``given`` is the CSRF token of the caller's session."""
    principal = principal_of(request)
    expected = principal.csrf_token if principal is not None else None
    if not expected or not isinstance(given, str) or not secrets.compare_digest(given, expected):
        raise ApiError(403, "forbidden", "the form has expired; reload the page and try again")


def router(templates: Jinja2Templates, limiter: LoginLimiter) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def login_page(request: Request, *, error: str | None = None, status: int = 200) -> HTMLResponse:
        nonce = secrets.token_urlsafe(24)
        context = {"csrf_token": _login_token(request, nonce), "error": error, "principal": None}
        response = templates.TemplateResponse(request, "login.html", context, status_code=status, headers=NO_STORE)
        response.set_cookie(
            LOGIN_NONCE_COOKIE,
            nonce,
            max_age=3600,
            httponly=True,
            samesite="lax",
            secure=web_settings(request).secure_cookies,
        )
        return response

    @routes.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        return login_page(request)

    @routes.post("/login", response_class=HTMLResponse)
    async def login_submit(request: Request) -> Response:
        form = await request.form()
        nonce = request.cookies.get(LOGIN_NONCE_COOKIE, "")
        given = form.get("csrf_token")
        if not nonce or not isinstance(given, str) or not hmac.compare_digest(given, _login_token(request, nonce)):
            return login_page(request, error="The form has expired; please try again.", status=403)
        email = str(form.get("email", "")).strip().lower()[:320]
        password = str(form.get("password", ""))
        client = web_settings(request).client_address(
            request.client.host if request.client else None, request.headers.get("x-forwarded-for")
        )
        keys = (f"ip:{client}", f"email:{email}")
        if any(limiter.blocked(key) for key in keys):
            audit(request, "system", "web.sign_in_failed", {"reason": "rate limited"})
            return login_page(request, error="Too many failed attempts; wait a few minutes.", status=429)
        user = authenticate(app_database(request), email, password)
        if user is None:
            for key in keys:
                limiter.failed(key)
            # Neither the e-mail typed nor the client's address: only that a sign-in failed, and when.
            audit(request, "system", "web.sign_in_failed", {"reason": "wrong e-mail or password"})
            return login_page(request, error="Wrong e-mail or password.", status=401)
        for key in keys:
            limiter.succeeded(key)
        audit(request, f"user:{user.user_id}", "web.sign_in", {"role": user.role})
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            start_session(app_database(request), user),
            max_age=int(SESSION_LIFETIME.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=web_settings(request).secure_cookies,
        )
        response.delete_cookie(LOGIN_NONCE_COOKIE)
        return response

    @routes.post("/logout")
    async def logout(request: Request) -> Response:
        form = await request.form()
        check_form_csrf(request, form.get("csrf_token"))
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            signed_in = principal_of(request)
            end_session(app_database(request), cookie)
            if signed_in is not None:
                audit(request, signed_in.actor, "web.sign_out", {})
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    return routes
