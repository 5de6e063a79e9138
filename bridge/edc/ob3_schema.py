"""1EdTech's Open Badges 3.0 JSON Schema, checked on every Open Badge before it is signed.

The schema file (`ob_v3p0_achievementcredential_schema.json`, JSON Schema 2019-09) is 1EdTech's and is not
shipped with the project: a deployment names it (EDC_OB3_SCHEMA, read by bridge/settings.py), as it names
the EU's XSD folder (EDC_SCHEMA_DIR). Loaded once per process; checking one badge takes well under a
millisecond. The schema holds no remote references, so nothing is fetched.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

SCHEMA_FILE = "ob_v3p0_achievementcredential_schema.json"
AGAINST = "1EdTech's Open Badges 3.0 JSON Schema"


class Ob3SchemaNotFound(FileNotFoundError):
    """The configured path is not a readable JSON Schema (said at start, not at the first badge)."""


class Ob3SchemaViolation(ValueError):
    """The Open Badge we built does not follow 1EdTech's schema: a mapping bug, never signed."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"the Open Badge does not follow {AGAINST}: " + "; ".join(problems[:5]))


class Ob3Schema:
    """The AchievementCredential schema, compiled once (Draft 2019-09, with format checks)."""

    def __init__(self, path: str | os.PathLike[str]):
        import jsonschema

        self.path = Path(path)
        if self.path.is_dir():  # the folder of 1EdTech's files, as the reference copy is laid out
            self.path = self.path / SCHEMA_FILE
        try:
            schema = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise Ob3SchemaNotFound(f"{self.path} is not a readable JSON Schema ({type(exc).__name__}): set it "
                                    f"to 1EdTech's {SCHEMA_FILE}") from None
        if not isinstance(schema, dict) or "properties" not in schema:
            raise Ob3SchemaNotFound(f"{self.path} is JSON but not the Open Badges 3.0 credential schema")
        validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft201909Validator)
        self._validator = validator(schema, format_checker=jsonschema.FormatChecker())

    def problems(self, doc: Mapping[str, Any]) -> list[str]:
        """Every place `doc` leaves the schema, with its JSON pointer; [] when it follows it."""
        found = []
        for error in sorted(self._validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
            pointer = "".join(f"/{part}" for part in error.absolute_path) or "/"
            found.append(f"{pointer}: {error.message[:300]}")
        return found

    def require_valid(self, doc: Mapping[str, Any]) -> None:
        problems = self.problems(doc)
        if problems:
            raise Ob3SchemaViolation(problems)
