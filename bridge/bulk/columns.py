"""The template's columns: what a course description leaves open for each learner, and how a header
cell written in any of the template's languages (or as the bare key) is recognised again."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

from bridge.bulk import wording


@dataclass(frozen=True)
class Column:
    key: str
    required: bool


# The order of the template. A description fixes everything else of the credential (title, outcomes,
# ECTS, EQF level, assessment, awarding body...); these are the learner's and the completion's.
COLUMNS: tuple[Column, ...] = (
    Column("given_names", True),
    Column("family_name", True),
    Column("email", True),
    Column("lang", False),
    Column("completed_on", True),
    Column("grade", False),
    Column("learner_id", False),
)
KEYS = tuple(c.key for c in COLUMNS)
REQUIRED = frozenset(c.key for c in COLUMNS if c.required)
HEADER_SEPARATOR = " / "


def header(key: str, languages: Sequence[str]) -> str:
    """The header cell of `key` in the course's languages, primary first ("Given names / Vardai")."""
    seen: list[str] = []
    for lang in languages:
        text = wording.label(key, lang)
        if text not in seen:
            seen.append(text)
    return HEADER_SEPARATOR.join(seen)


def _normal(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold()
    return re.sub(r"\s+", " ", text.replace("*", "")).strip()


_KNOWN: dict[str, str] = {}
for _key in KEYS:
    _KNOWN[_normal(_key)] = _key
    for _lang in wording.LANGUAGES:
        _KNOWN[_normal(wording.label(_key, _lang))] = _key


def column_of(cell: object) -> str | None:
    """The column key a header cell names: the key itself, a label in any language, or labels joined by
    " / " as the template writes them; None for a column of someone's own (it is ignored)."""
    if cell is None:
        return None
    text = _normal(str(cell))
    if text in _KNOWN:
        return _KNOWN[text]
    parts = {_KNOWN.get(part.strip()) for part in text.split("/")}
    parts.discard(None)
    return parts.pop() if len(parts) == 1 else None


def letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: how a spreadsheet names the column."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name
