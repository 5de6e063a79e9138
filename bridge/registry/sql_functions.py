"""SQL functions the registry's queries use that one of its databases lacks.

`edc_casefold(text)`: case-insensitive search beyond ASCII. SQLite's lower() only knows ASCII, so
"Žemaitienė" would not match "žemaitienė": every SQLite connection gets Python's casefold under this
name as it opens (`install_in_sqlite`, from the engine's connect event in bridge/registry/db.py).
PostgreSQL's lower() is Unicode-aware, so there the name compiles to lower().
"""
from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction


class edc_casefold(GenericFunction):  # noqa: N801 - the SQL function's name, as func.edc_casefold finds it
    type = String()
    inherit_cache = True


@compiles(edc_casefold, "postgresql")
def _lower_in_postgresql(element, compiler, **kw) -> str:  # noqa: ANN001 - SQLAlchemy's compiler hook
    return f"lower({compiler.process(element.clauses, **kw)})"


def _casefold(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def install_in_sqlite(dbapi_connection) -> None:  # noqa: ANN001 - a sqlite3.Connection
    """Once per SQLite connection, as it opens: not on every checkout (that was once per transaction)."""
    dbapi_connection.create_function("edc_casefold", 1, _casefold, deterministic=True)
