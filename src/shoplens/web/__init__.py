"""The web app: ``create_app(settings)`` gives the FastAPI application ``shoplens serve`` runs, and
``create_collector_app(spool)`` the event collector ``shoplens collect serve`` runs.

Also the account functions the command line uses (``shoplens user``, ``shoplens token``); the owner's Settings page
calls the same ones.
"""

from shoplens.web._app import create_app
from shoplens.web._auth import (
    add_user,
    authenticate,
    change_role,
    create_token,
    list_tokens,
    list_users,
    remove_user,
    revoke_token,
)
from shoplens.web._collector import EVENT_TYPES, create_collector_app
from shoplens.web._settings import CollectorSettings, WebSettings

__all__ = [
    "EVENT_TYPES",
    "CollectorSettings",
    "WebSettings",
    "add_user",
    "authenticate",
    "change_role",
    "create_app",
    "create_collector_app",
    "create_token",
    "list_tokens",
    "list_users",
    "remove_user",
    "revoke_token",
]
