"""Migration 0120_formats_status on SQLite and PostgreSQL: the per-format documents table and the revocation
category the models describe, added to an existing registry (its credentials and revocations kept) and
removed again by the downgrade."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from bridge import worker
from bridge.registry import Registry
from bridge.registry.models import Base, Credential, Revocation
from tests.sidecar.conftest import STAFF_HEADERS, downgraded, make_event, pilot_spec, post_event, put_spec


def test_the_migration_creates_what_the_models_describe(ctx):
    with ctx.registry.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in differences if "credential_documents" in repr(d) or "'category'" in repr(d)] == []


def test_an_existing_registry_keeps_its_credentials_and_revocations(database_url, ctx, client):
    put_spec(client, 1, pilot_spec())
    post_event(client, make_event())
    assert worker.drain(ctx) == 1
    with ctx.registry.reading() as session:
        cid = session.execute(select(Credential.id)).scalar_one()
    client.post(f"/api/v1/credentials/{cid}/revoke", json={"reason": "issued by mistake"}, headers=STAFF_HEADERS)
    with downgraded(ctx, "0110_programmes") as connection:
        assert "credential_documents" not in inspect(connection).get_table_names()
        assert "category" not in {c["name"] for c in inspect(connection).get_columns("revocations")}
    upgraded = Registry(database_url)
    try:
        assert "credential_documents" in inspect(upgraded.engine).get_table_names()
        with upgraded.reading() as session:
            revocation = session.execute(select(Revocation)).scalar_one()
            assert revocation.credential_id == cid and revocation.category is None  # unspecified, as before
    finally:
        upgraded.dispose()
