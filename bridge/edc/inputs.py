"""Rules for untrusted input, shared by every door into the product (intake, staff API, CLI, course descriptions).

Each rule is written once here so the doors cannot drift apart:
- JSON text is parsed with a depth bound and refused when it holds a lone surrogate, which Python's json
  accepts but no UTF-8 encoder (database, XML, mail) can write later.
- JSON Schema `pattern`s mean what ECMA-262 says (the dialect JSON Schema names): `$` ends the string.
  The `jsonschema` package runs patterns with Python's `re.search`, whose `$` also matches before a final
  newline, so `^[a-z]{2}$` let "lt\\n" through. Our validators use ECMA's meaning.
- Ids (Moodle course and user ids) are whole numbers a 64-bit database column holds; a learner id that is
  not a Moodle user id is a short ASCII token. `"²".isdigit()` is true, so no code decides by `isdigit()`.
- Text that reaches a mail header, a file name or a log line holds no control characters.
"""
from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
from jsonschema import validators

MAX_DEPTH = 32  # our documents nest about 8 deep; a far deeper one is an attack or a bug
MAX_ID = 2**63 - 1  # PostgreSQL BIGINT and SQLite INTEGER; Moodle's ids are BIGINT too
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}\Z")
# C0 controls, DEL, C1 controls, and the Unicode line and paragraph separators: nothing a name needs,
# each something a mail header, a CSV cell or a log line could take for a line break or an escape.
CONTROL = re.compile("[\u0000-\u001f\u007f-\u009f\u2028\u2029]")


class InputError(ValueError):
    """Input refused by one of these rules; `pointer` names the field (JSON pointer)."""

    def __init__(self, pointer: str, message: str):
        self.pointer = pointer
        self.message = message
        super().__init__(f"{pointer or '/'}: {message}")


def pointer_of(path: Any) -> str:
    """A JSON pointer (RFC 6901) for a sequence of keys and indexes."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


# --- JSON text -----------------------------------------------------------------------------------------


def parse_json(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of `data`, or InputError: not UTF-8, not JSON, nested too deep, or a lone surrogate."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise InputError("", f"the body is not UTF-8 (byte {exc.start})") from None
    if _bracket_depth(text) > max_depth:
        raise InputError("", f"JSON nested more than {max_depth} levels deep")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError("", f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:  # not reached after the depth check; kept so no input can end in a traceback
        raise InputError("", f"JSON nested more than {max_depth} levels deep") from None
    surrogate = first_surrogate(value)
    if surrogate is not None:
        raise InputError(surrogate, "contains a lone UTF-16 surrogate (\\ud800-\\udfff), which is not a character")
    return value


def _bracket_depth(text: str) -> int:
    """The deepest nesting of [ and { outside strings, measured before json.loads can recurse on it."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


_SURROGATE = re.compile("[\ud800-\udfff]")


def first_surrogate(value: Any) -> str | None:
    """The pointer of the first string (key or value) holding a lone surrogate, else None.

    One regular expression search per string: a Python loop over every character was a tenth of an
    intake event's validation.
    """
    for path, text in _strings(value, []):
        if _SURROGATE.search(text):
            return pointer_of(path)
    return None


def _strings(value: Any, path: list[Any]) -> Iterator[tuple[list[Any], str]]:
    stack: list[tuple[list[Any], Any]] = [(path, value)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, str):
            yield where, node
        elif isinstance(node, Mapping):
            for key, item in node.items():
                yield where + [key], str(key)
                stack.append((where + [key], item))
        elif isinstance(node, list):
            stack.extend((where + [i], item) for i, item in enumerate(node))


# --- JSON Schema with ECMA-262 patterns ------------------------------------------------------------------


def _ecma_pattern(pattern: str) -> str:
    """`pattern` with every unescaped `$` outside a character class made `\\Z` (end of string only)."""
    out: list[str] = []
    in_class = escaped = False
    for ch in pattern:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            out.append(ch)
            escaped = True
        elif in_class:
            out.append(ch)
            in_class = ch != "]"
        elif ch == "[":
            out.append(ch)
            in_class = True
        elif ch == "$":
            out.append(r"\Z")
        else:
            out.append(ch)
    return "".join(out)


@functools.lru_cache(maxsize=1024)
def _ecma_regex(pattern: str) -> re.Pattern[str]:
    """`pattern` translated and compiled once: a schema has a few dozen patterns, checked on every document."""
    return re.compile(_ecma_pattern(pattern))


def _pattern(validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]) -> Iterator[jsonschema.ValidationError]:
    if isinstance(instance, str) and not _ecma_regex(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


EcmaValidator = validators.extend(jsonschema.Draft202012Validator, {"pattern": _pattern})


def schema_validator(schema: Mapping[str, Any], **kwargs: Any) -> jsonschema.protocols.Validator:
    """A draft 2020-12 validator of `schema` whose patterns follow ECMA-262 (see the module's docstring)."""
    jsonschema.Draft202012Validator.check_schema(schema)
    return EcmaValidator(schema, **kwargs)


def referenced_schema(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """`schema` ready to be a `$ref` target of a `schema_validator`: without its `$schema` key, because
    jsonschema validates a referenced document that names its dialect with that dialect's stock validator,
    which would bring back Python's `$`."""
    return {key: value for key, value in schema.items() if key != "$schema"}


# --- ids and text --------------------------------------------------------------------------------------


def moodle_id(value: Any, pointer: str) -> int:
    """A Moodle id (course, user) from JSON or a URL: a whole number 1..2^63-1 in ASCII digits, or InputError."""
    if isinstance(value, bool):
        raise InputError(pointer, "must be a whole number, not true/false")
    if isinstance(value, float):
        if not value.is_integer():
            raise InputError(pointer, "must be a whole number")
        value = int(value) if abs(value) <= MAX_ID else MAX_ID + 1
    if isinstance(value, str):
        if not _ASCII_DIGITS.match(value):
            raise InputError(pointer, "must be a positive whole number written in ASCII digits (at most 19)")
        value = int(value)
    if not isinstance(value, int):
        raise InputError(pointer, "must be a whole number")
    if not 1 <= value <= MAX_ID:
        raise InputError(pointer, f"must be between 1 and {MAX_ID}")
    return value


def whole_number(text: str, pointer: str, low: int, high: int) -> int:
    """A whole number low..high written in ASCII digits (query strings, form fields), or InputError."""
    if not _ASCII_DIGITS.match(text) or not low <= int(text) <= high:
        raise InputError(pointer, f"must be a whole number from {low} to {high}")
    return int(text)


def learner_moodle_id(learner_id: str) -> int | None:
    """The Moodle user id a stored learner id stands for, or None for a learner from outside Moodle.

    Learner ids are checked at intake (`learner.schema.json`); this only tells the two kinds apart, by the
    same ASCII rule, so a stored value never raises here.
    """
    return int(learner_id) if _ASCII_DIGITS.match(learner_id) and 1 <= int(learner_id) <= MAX_ID else None


def header_text(value: str | None) -> str:
    """`value` fit for one line of a header or a file: controls and line breaks become spaces, runs of
    white space one space. Intake refuses such characters; this is the second wall for text stored before."""
    return " ".join(CONTROL.sub(" ", value or "").split())


def schema_message(error: jsonschema.ValidationError) -> str:
    """The words for one schema error; the generic ones jsonschema writes for `not` and bounds are unclear."""
    if error.validator == "not" and isinstance(error.validator_value, Mapping) and "pattern" in error.validator_value:
        return "must not contain control characters or line breaks (CR, LF, NUL, ESC, ...)"
    if error.validator in ("maximum", "minimum") and isinstance(error.instance, (int, float)):
        return f"out of range: must be between 1 and {MAX_ID}" if error.validator_value in (1, MAX_ID) \
            else error.message
    return error.message
