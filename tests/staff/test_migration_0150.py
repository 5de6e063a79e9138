"""Migration 0150_staff_accounts on SQLite and PostgreSQL: on an existing registry (as 0130 left it, with an
open session of the shared token) it adds the account, token and OIDC-login tables and widens a session's
role column to hold several roles; the session survives; the tables are what the models describe."""
from __future__ import annotations

import datetime as dt

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from bridge.registry import Registry, staff_access
from bridge.registry.models import Base, StaffAccount, StaffSession
from bridge.staff import roles
from tests.sidecar.conftest import downgraded


def test_the_migration_on_an_existing_registry(database_url, ctx):
    with ctx.registry.transaction() as db:
        staff_access.open_session(db, "staff", "admin", "p" * 64, dt.timedelta(hours=1))
    with downgraded(ctx, "0130_document_versions") as connection:
        tables = set(inspect(connection).get_table_names())
        assert "staff_sessions" in tables and not {"staff_accounts", "api_tokens", "oidc_logins"} & tables
    upgraded = Registry(database_url)  # forward again, as a sidecar start does
    try:
        with upgraded.transaction() as db:
            assert db.execute(select(StaffSession.actor)).scalars().all() == ["staff"]
            staff_access.open_session(db, "ona", roles.joined(roles.NAMES), "q" * 64, dt.timedelta(hours=1))
            db.add(StaffAccount(username="ona", kind="oidc", roles=roles.joined(roles.NAMES)))
        with upgraded.reading() as db:
            held = db.execute(select(StaffSession.role).where(StaffSession.actor == "ona")).scalar_one()
        assert held == "viewer,registrar,security_officer,admin"  # 39 characters: more than 0070's 32
    finally:
        upgraded.dispose()


def test_the_migration_creates_what_the_models_describe(ctx):
    with ctx.registry.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    mine = ("staff_accounts", "api_tokens", "oidc_logins", "staff_sessions")
    assert [d for d in differences if any(name in repr(d) for name in mine)] == []
