"""Alembic environment: always run programmatically by Registry.migrate(), on the connection it hands us."""
from alembic import context

from bridge.registry.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
