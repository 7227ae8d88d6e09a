"""Command line interface (``shoplens``, also ``python -m shoplens``)."""

from shoplens.cli._app import app, main

__all__ = ["app", "main"]
