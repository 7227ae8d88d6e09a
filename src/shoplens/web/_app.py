"""The web app: FastAPI, the API under ``/api/v1``, Jinja2 pages, one JSON error shape.

Small on purpose: the public survey answer page and the survey API today; the dashboard and the rest of the API
join as routers of their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from shoplens import __version__
from shoplens.appdb import AppDatabase
from shoplens.config import Settings
from shoplens.web import _surveys
from shoplens.web._errors import API_PREFIX, install_error_handlers

TEMPLATES = resources.files("shoplens.web").joinpath("templates")


def create_app(settings: Settings, *, api_token: str | None = None) -> FastAPI:
    """The app for the store at ``settings.home``; non-public API routes need ``Authorization: Bearer <api_token>``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.app_database.close()

    app = FastAPI(
        title="shoplens",
        version=__version__,
        description="Customer intelligence for online shops. Every non-public route needs a bearer token.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    settings.ensure_home()
    app.state.app_database = AppDatabase(settings.app_database_url)
    app.state.api_token = api_token or None
    app.state.settings = settings
    templates = Jinja2Templates(directory=str(TEMPLATES))
    install_error_handlers(app)

    @app.get(f"{API_PREFIX}/health", tags=["service"])
    def health() -> dict[str, Any]:
        """Public: the server is up."""
        return {"status": "ok", "version": __version__}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "home.html", {"version": __version__})

    app.include_router(_surveys.router(templates))
    return app
