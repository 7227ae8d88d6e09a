"""The web app: ``create_app(settings)`` gives the FastAPI application ``shoplens serve`` runs.

Also the account functions the command line uses (``shoplens user``, ``shoplens token``).
"""

from shoplens.web._app import create_app
from shoplens.web._auth import add_user, authenticate, create_token, list_users
from shoplens.web._settings import WebSettings

__all__ = ["WebSettings", "add_user", "authenticate", "create_app", "create_token", "list_users"]
