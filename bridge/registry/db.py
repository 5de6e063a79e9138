"""The registry handle: engine, sessions, migrations, and the SQLite/PostgreSQL differences.

SQLite runs in WAL mode and every transaction starts with `BEGIN IMMEDIATE`, so writers queue on the
database lock instead of failing half-way; PostgreSQL needs nothing special beyond `SKIP LOCKED` when
claiming work (see bridge/worker/issuing.py), which SQLAlchemy leaves out on SQLite, so one code path serves both.
Migrations run at start, under a lock, so several processes starting at once do not race.
"""
from __future__ import annotations

import ast
import contextlib
import fcntl
import functools
import threading
import weakref
from pathlib import Path
from typing import Callable, Generic, Iterator, TypeVar

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from bridge.registry import sql_functions
from bridge.registry.compression import DictionaryCache

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x45444342  # "EDCB"


def make_engine(url: str, writing: Callable[[], bool] = lambda: True, **kwargs) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False}, **kwargs)
        _sqlite_pragmas(engine, writing)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(engine: Engine, writing: Callable[[], bool]) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # a 202 means the row survives a crash
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        sql_functions.install_in_sqlite(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # noqa: ANN001
        # Writers take the write lock up front (no read-to-write upgrade that could fail half-way);
        # readers start a deferred transaction, which in WAL mode never blocks or waits for a writer.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing() else "BEGIN")


class Registry:
    """One per process: the engine, a session factory and the prepared compression dictionaries."""

    def __init__(self, url: str, *, migrate: bool = True, **engine_kwargs) -> None:
        self.url = url
        self._local = threading.local()
        # SQLite has one writer at a time; queueing this process's writers on a lock hands the database
        # over at once, where SQLite's own busy handler would poll with sleeps of up to 100 ms.
        self._write_lock = threading.RLock()
        self._lock_file = None
        self.engine = make_engine(url, lambda: getattr(self._local, "writing", True), **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.dictionaries = DictionaryCache()
        if migrate:
            self.migrate()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __repr__(self) -> str:  # the URL may carry a password
        return f"<Registry {self.engine.url.render_as_string(hide_password=True)}>"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on any exception."""
        with self._writer(), self.sessions.begin() as session:
            yield session

    @contextlib.contextmanager
    def connection(self) -> Iterator[Connection]:
        """A Core connection inside one write transaction, locked as `transaction` is: for one or two
        prebuilt statements on a hot path, where the ORM session's setup and per-statement steps cost
        more than the statement (issue 18: the email hand-over, once per mail, 0.3 ms less). No audit
        entry can be appended here: what needs one uses `transaction`."""
        with self._writer(), self.engine.begin() as connection:
            yield connection

    @contextlib.contextmanager
    def _writer(self) -> Iterator[None]:
        """SQLite: this process's writers queue on a lock, other processes' on a file lock; PostgreSQL: nothing."""
        if self.dialect != "sqlite":
            yield
            return
        with self._write_lock, self._file_lock():
            yield

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """Writers of *other* processes (worker processes, a second sidecar) queue on a file lock too:
        the kernel wakes the next one at once, where SQLite's busy handler would sleep and poll."""
        database = self.engine.url.database
        if not database or database == ":memory:":
            yield
            return
        depth = getattr(self._local, "lock_depth", 0)
        if depth == 0:
            if self._lock_file is None:
                self._lock_file = open(f"{database}.write-lock", "a+")  # noqa: SIM115 - kept for the process
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        self._local.lock_depth = depth + 1
        try:
            yield
        finally:
            self._local.lock_depth = depth
            if depth == 0:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session (on SQLite a deferred transaction: it never waits for writers)."""
        self._local.writing = False
        try:
            with self.sessions() as session:
                yield session
        finally:
            self._local.writing = True

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            conn.rollback()

    def migrate(self) -> None:
        """`alembic upgrade head`, serialised across processes; nothing to do (and alembic not even
        imported) when the registry already stands at every head, as it does on every restart."""
        if self.at_heads():
            return
        from alembic import command
        from alembic.config import Config

        with self._migration_lock() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            # "heads": features developed side by side add migrations on branches of their own
            # (each off the revision it needs); every branch is applied.
            command.upgrade(config, "heads")

    def at_heads(self) -> bool:
        """Whether the registry's alembic_version holds exactly the heads of the migration scripts.

        A restart after a crash must be quick (issue 18): importing alembic and loading its scripts to
        learn that there is nothing to do cost a tenth of a second. Reading the version table needs no
        lock: a migration running elsewhere commits its version row with its changes, so the heads seen
        here are complete; anything else (an older or unknown revision, no table) goes through alembic.
        """
        heads = declared_heads()
        if not heads:
            return False
        with self.reading() as session:  # on SQLite a deferred transaction: no write lock taken
            if not inspect(session.connection()).has_table("alembic_version"):
                return False
            current = set(session.execute(text("SELECT version_num FROM alembic_version")).scalars())
        return current == heads

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator:
        if self.dialect == "postgresql":
            with self.engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
                connection.commit()
                try:
                    yield connection
                finally:
                    connection.rollback()
                    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                    connection.commit()
            return
        database = self.engine.url.database
        if not database or database == ":memory:":
            with self.engine.connect() as connection:
                yield connection
            return
        with open(f"{database}.migrate-lock", "a+") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                with self.engine.connect() as connection:
                    yield connection
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def dispose(self) -> None:
        self.engine.dispose()


@functools.cache
def declared_heads(versions: Path = MIGRATIONS / "versions") -> frozenset[str]:
    """The revisions no other migration script builds on, read from the scripts' `revision` and
    `down_revision` assignments (as alembic reads them, but without importing it); empty when a script
    does not say them plainly, which sends `migrate` through alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in sorted(versions.glob("*.py")):
        found = _assignments(script, ("revision", "down_revision"))
        if not isinstance(found.get("revision"), str) or "down_revision" not in found:
            return frozenset()
        revisions.add(found["revision"])
        down = found["down_revision"]
        parents.update((down,) if isinstance(down, str) else tuple(down or ()))
    return frozenset(revisions - parents)


def _assignments(script: Path, names: tuple[str, ...]) -> dict:
    """The literal values given to `names` at the top level of a Python file ({} where unreadable)."""
    try:
        tree = ast.parse(script.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}
    found: dict = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            if isinstance(target, ast.Name) and target.id in names and node.value is not None:
                try:
                    found[target.id] = ast.literal_eval(node.value)
                except (ValueError, TypeError, SyntaxError):
                    return {}
    return found


def insert_on_conflict(dialect: str):  # noqa: ANN201 - SQLAlchemy's dialect-specific insert()
    """The dialect's INSERT, which has ON CONFLICT, imported when asked: SQLAlchemy's PostgreSQL dialect
    costs a SQLite sidecar 40 ms at every start (issue 18: restarts after a crash)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


T = TypeVar("T")


class OnePer(Generic[T]):
    """One `T` per live object (an engine, a registry), made on first use and gone with that object.

    For state a process keeps beside a registry without the registry knowing it: whose turn it is to
    link the audit chain (bridge/registry/audit.py), the events waiting for a shared commit
    (bridge/intake/events.py)."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._made: "weakref.WeakKeyDictionary[object, T]" = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, owner: object) -> T:
        with self._lock:
            made = self._made.get(owner)
            if made is None:
                made = self._made[owner] = self._make()
            return made
