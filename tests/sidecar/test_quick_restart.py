"""A restart after a crash serves quickly (issue 18): what a start skips when it has nothing to do.

- `Registry.migrate` on a registry already at every head neither imports alembic nor takes the
  migration lock (shown by holding that lock: the start does not wait for it), while a registry below
  a head still goes through alembic under the lock (it waits, then upgrades). SQLite and PostgreSQL.
- The heads read from the migration scripts without alembic are alembic's own.
- A fresh process building the app (the sidecar's start) loads neither alembic, nor reportlab (PDFs),
  nor SQLAlchemy's PostgreSQL dialect on SQLite, and spends no argon2 hash; each of those is 40 to 100 ms
  of every restart.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import subprocess
import sys
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bridge.registry import Registry
from bridge.registry.db import MIGRATION_LOCK_KEY, MIGRATIONS, declared_heads

REPO = Path(__file__).resolve().parents[2]


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@contextlib.contextmanager
def migration_lock_held(registry: Registry):
    """The lock `Registry.migrate` takes before alembic runs, held by someone else meanwhile."""
    if registry.dialect == "postgresql":
        with registry.engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                connection.commit()
        return
    with open(f"{registry.engine.url.database}.migrate-lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _migrate_in_thread(registry: Registry) -> threading.Thread:
    thread = threading.Thread(target=registry.migrate, daemon=True)
    thread.start()
    return thread


def test_the_heads_read_without_alembic_are_alembics():
    assert declared_heads() == frozenset(ScriptDirectory.from_config(_alembic_config()).get_heads())


def test_a_script_not_read_plainly_sends_the_start_through_alembic(tmp_path):
    (tmp_path / "0001.py").write_text('revision = "0001"\ndown_revision = None\n', encoding="utf-8")
    assert declared_heads(tmp_path) == {"0001"}
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "0001.py").write_text('revision = "0001"\ndown_revision = None\n', encoding="utf-8")
    (odd / "0002.py").write_text('revision = compute()\ndown_revision = "0001"\n', encoding="utf-8")
    assert declared_heads(odd) == frozenset()  # unknown: Registry.at_heads answers False


def test_a_registry_at_its_heads_starts_without_the_migration_lock(database_url):
    registry = Registry(database_url)  # migrated: at every head
    try:
        assert registry.at_heads()
        with migration_lock_held(registry):
            start = _migrate_in_thread(registry)
            start.join(5)
            assert not start.is_alive(), "a start with nothing to migrate waited for the migration lock"
    finally:
        registry.dispose()


def test_a_registry_below_a_head_is_still_migrated_under_the_lock(database_url):
    registry = Registry(database_url)
    try:
        config = _alembic_config()
        with registry.engine.connect() as connection:  # every branch back to where they part
            config.attributes["connection"] = connection
            command.downgrade(config, "0130_document_versions")
            connection.commit()
        assert not registry.at_heads()
        with migration_lock_held(registry):
            start = _migrate_in_thread(registry)
            start.join(1.5)
            assert start.is_alive(), "a registry below its heads was not migrated under the lock"
        start.join(60)
        assert not start.is_alive() and registry.at_heads()
        with registry.reading() as session:
            assert session.execute(text("SELECT count(*) FROM audit_pending")).scalar_one() == 0  # 0151 is back
    finally:
        registry.dispose()


def test_a_start_loads_nothing_it_does_not_need(tmp_path, ec_token):
    """The sidecar's start in a fresh interpreter, as after a SIGKILL: what it imported and hashed."""
    probe = f"""
import json, os, sys
os.environ.update({{"EDC_DATABASE_URL": "sqlite:///{tmp_path}/registry.sqlite3", "EDC_DEMO_DIR": "{ec_token.directory}",
                   "EDC_INTAKE_KEYS": "k=secret-0123456789abcdef", "EDC_STAFF_TOKEN": "staff-0123456789abcdef",
                   "EDC_SMTP_URL": "smtp://127.0.0.1:9", "EDC_MAIL_FROM": "c@example.edu",
                   "EDC_PUBLIC_URL": "https://edc.example.edu"}})
from bridge.app import create_app, stop_app
from bridge.settings import Settings
app = create_app(Settings.from_env())
from bridge.staff import local
loaded = {{m for m in ("alembic", "reportlab", "sqlalchemy.dialects.postgresql") if m in sys.modules}}
print(json.dumps({{"loaded": sorted(loaded), "argon2_hashes": local._dummy_hash.cache_info().currsize}}))
stop_app(app)
"""
    Registry(f"sqlite:///{tmp_path}/registry.sqlite3").dispose()  # the first start migrated; this is a restart
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {"loaded": [], "argon2_hashes": 0}
