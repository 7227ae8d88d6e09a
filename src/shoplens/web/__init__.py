"""The web app: ``create_app(settings)`` gives the FastAPI application ``shoplens serve`` runs, and
``create_collector_app(spool)`` the event collector ``shoplens collect serve`` runs.

Also the account functions the command line uses (``shoplens user``, ``shoplens token``).
"""

from shoplens.web._app import create_app
from shoplens.web._auth import add_user, authenticate, create_token, list_users
from shoplens.web._collector import EVENT_TYPES, create_collector_app
from shoplens.web._settings import CollectorSettings, WebSettings

__all__ = [
    "EVENT_TYPES",
    "CollectorSettings",
    "WebSettings",
    "add_user",
    "authenticate",
    "create_app",
    "create_collector_app",
    "create_token",
    "list_users",
]
