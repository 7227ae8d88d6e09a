"""Alembic environment: run migrations on the connection shoplens hands over."""

from alembic import context

from shoplens.appdb._models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
