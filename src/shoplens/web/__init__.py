"""The web app: ``create_app(settings)`` gives the FastAPI application ``shoplens serve`` runs."""

from shoplens.web._app import create_app

__all__ = ["create_app"]
