"""Migration 0110_programmes on SQLite and PostgreSQL: the tables the models describe, added to an existing
registry (its credentials kept, its learners then checked) and removed again by the downgrade."""
from __future__ import annotations

import json

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from bridge import worker
from bridge.registry import Registry
from bridge.registry.db import MIGRATIONS
from bridge.registry.models import Base, Credential, ProgrammeAward
from tests.sidecar.conftest import STAFF_HEADERS, make_event, post_event, put_spec

from .conftest import COURSE_IDS, PILOT, PROGRAMME, programme_doc

TABLES = {"programmes", "programme_parts", "programme_checks", "programme_awards"}


def test_the_migration_creates_the_tables_the_models_describe(ctx):
    with ctx.registry.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in differences if any(name in repr(d) for name in TABLES)] == []


def test_an_existing_registry_gains_programmes_and_loses_them_on_downgrade(database_url, ctx, client):
    for name, course in COURSE_IDS.items():
        put_spec(client, course, json.loads((PILOT / "courses" / f"{name}.json").read_text()))
    for course in (COURSE_IDS["data101"], COURSE_IDS["cyber201"], COURSE_IDS["aieth800"]):
        post_event(client, make_event(course))
    assert worker.drain(ctx) == 3
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with ctx.registry.engine.connect() as connection:  # the registry as it was before programmes ...
        config.attributes["connection"] = connection
        command.downgrade(config, "0100_wallet_offers")
        connection.commit()
        assert TABLES.isdisjoint(inspect(connection).get_table_names())
    ctx.registry.dispose()
    upgraded = Registry(database_url)  # ... and forward again, as a sidecar start does
    try:
        assert TABLES <= set(inspect(upgraded.engine).get_table_names())
        with upgraded.reading() as session:
            assert len(session.execute(select(Credential)).scalars().all()) == 3
    finally:
        upgraded.dispose()
    # The programme stored on the upgraded registry finds the credentials earned before it.
    stored = client.put(f"/api/v1/programmes/demo/{PROGRAMME}", json=programme_doc(), headers=STAFF_HEADERS)
    assert stored.json["valid"] and stored.json["learners_checked"] == 1
    worker.drain(ctx)
    from bridge.worker.programmes import run_checks

    assert run_checks(ctx) == 1
    with ctx.registry.reading() as session:
        assert len(session.execute(select(ProgrammeAward)).scalars().all()) == 1
