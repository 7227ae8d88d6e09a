"""The web app: FastAPI, the API under ``/api/v1``, the dashboard at ``/``, Jinja2 pages, one JSON error shape.

Routers: public survey pages, login, the analytics API, the dashboard and the owner's settings page. Every route
either declares the roles that may call it or is listed in :data:`shoplens.web._deps.PUBLIC_ROUTES`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from shoplens import __version__
from shoplens.appdb import AppDatabase
from shoplens.config import Settings
from shoplens.web import (
    _api,
    _consent,
    _dashboard,
    _imports,
    _login,
    _market,
    _pages,
    _plans,
    _settings_page,
    _share,
    _surveys,
)
from shoplens.web._auth import LoginLimiter
from shoplens.web._deps import principal_of
from shoplens.web._errors import API_PREFIX, install_error_handlers
from shoplens.web._guards import guard_request
from shoplens.web._headers import SecurityHeaders
from shoplens.web._settings import WebSettings
from shoplens.web._warehouse import StoreReader

TEMPLATES = resources.files("shoplens.web").joinpath("templates")


def create_app(settings: Settings, *, api_token: str | None = None, web_settings: WebSettings | None = None) -> FastAPI:
    """The app for the store at ``settings.home``.

    Non-public API routes need ``Authorization: Bearer <token>`` (an API token, or ``api_token``, which acts as
    the owner) or a dashboard session cookie.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.store.stop_warming(timeout=60)
        app.state.app_database.close()

    app = FastAPI(
        title="shoplens",
        version=__version__,
        description="Customer intelligence for online shops. Every non-public route needs a bearer token.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(guard_request)],  # unknown query parameters, cross-site use of the session cookie
    )
    settings.ensure_home()
    app.state.app_database = AppDatabase.for_store(settings)
    app.state.api_token = api_token or None
    app.state.settings = settings
    app.state.web_settings = web_settings = web_settings or WebSettings()
    warm = web_settings.warm_pages
    app.state.store = StoreReader(
        settings,
        warm=_dashboard.WARM_QUERIES if warm else (),
        warm_more=_dashboard.segment_pages if warm else None,
    )
    app.add_middleware(
        SecurityHeaders,
        docs_path="/docs",
        max_body_bytes=web_settings.max_body_bytes,
        large_bodies={"/import": web_settings.max_upload_bytes},  # the upload streams to disk
    )
    templates = app.state.templates = Jinja2Templates(directory=str(TEMPLATES))
    install_error_handlers(app)

    @app.exception_handler(_pages.PageDeniedError)
    async def _page_denied(request: Request, exc: _pages.PageDeniedError) -> Response:
        if exc.reason == "login":
            return RedirectResponse("/login", status_code=303)
        principal = principal_of(request)
        context = {"principal": principal, "csrf_token": principal.csrf_token if principal else None, "page": ""}
        return templates.TemplateResponse(request, "denied.html", context, status_code=403)

    @app.get(f"{API_PREFIX}/health", tags=["service"])
    def health() -> dict[str, Any]:
        """Public: the server is up."""
        return {"status": "ok", "version": __version__}

    app.include_router(_surveys.router())
    app.include_router(_login.router(templates, LoginLimiter()))
    app.include_router(_api.router())
    app.include_router(_share.api_router())
    app.include_router(_plans.router())
    app.include_router(_consent.router())
    app.include_router(_market.router())
    app.include_router(_market.page_router())
    app.include_router(_imports.router())
    app.include_router(_dashboard.router())
    app.include_router(_settings_page.router())
    return app
