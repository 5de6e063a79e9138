"""The one role table: which role may do what, and how a route says which role it needs.

viewer (search, read, export), registrar (revoke, re-issue, retry, resend, bulk), security officer (seal and
certificate status, trusted lists, audit verification), admin (accounts and roles). A person may hold several
roles; admin implies all, and registrar and security officer both include viewer (neither can act on what
they cannot look up). Every staff page and staff API route declares its role with `needs(...)`; a staff
route without one is refused (the guards fail closed), and a test walks the URL map to prove none lacks it.
"""
from __future__ import annotations

from typing import Callable, Iterable, TypeVar

VIEWER = "viewer"
REGISTRAR = "registrar"
SECURITY_OFFICER = "security_officer"
ADMIN = "admin"
PUBLIC = "public"  # a staff route anyone may reach: the login page, the identity provider's callback

# role held -> roles it satisfies
GRANTS: dict[str, frozenset[str]] = {
    VIEWER: frozenset({VIEWER}),
    REGISTRAR: frozenset({REGISTRAR, VIEWER}),
    SECURITY_OFFICER: frozenset({SECURITY_OFFICER, VIEWER}),
    ADMIN: frozenset({ADMIN, REGISTRAR, SECURITY_OFFICER, VIEWER}),
}
NAMES = tuple(GRANTS)
ALIASES = {"security-officer": SECURITY_OFFICER, "security officer": SECURITY_OFFICER,
           "securityofficer": SECURITY_OFFICER, "administrator": ADMIN}

F = TypeVar("F", bound=Callable)


class UnknownRole(ValueError):
    """A role name that is none of NAMES; the message lists the known ones."""


def canonical(name: str) -> str:
    """A role's own name from what a person or an identity provider wrote (case, dash, space)."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in GRANTS:
        raise UnknownRole(f"unknown role {name.strip()!r}: the roles are {', '.join(NAMES)}")
    return key


def parse(text: str | Iterable[str]) -> tuple[str, ...]:
    """'registrar,security_officer' (or a list) -> the roles, each known, in the table's order."""
    items = text.split(",") if isinstance(text, str) else list(text)
    held = {canonical(item) for item in items if str(item).strip()}
    if not held:
        raise UnknownRole(f"no role given: the roles are {', '.join(NAMES)}")
    return tuple(name for name in NAMES if name in held)


def known(items: Iterable[str]) -> tuple[str, ...]:
    """The known roles among an identity provider's values (unknown ones are ignored, not an error:
    the provider's groups are the university's, and most mean nothing here)."""
    held = set()
    for item in items:
        try:
            held.add(canonical(str(item)))
        except UnknownRole:
            continue
    return tuple(name for name in NAMES if name in held)


def joined(held: Iterable[str]) -> str:
    """The form a session row and an audit entry keep: comma-separated, in the table's order."""
    return ",".join(name for name in NAMES if name in set(held))


def allows(held: str | Iterable[str], needed: str) -> bool:
    """Whether roles `held` (joined or a list) satisfy `needed`."""
    if needed == PUBLIC:
        return True
    names = held.split(",") if isinstance(held, str) else held
    return any(needed in GRANTS.get(name.strip(), ()) for name in names)


def needs(role: str) -> Callable[[F], F]:
    """Mark a view with the role it needs (read by the staff pages' guard and the API's)."""
    if role != PUBLIC and role not in GRANTS:
        raise UnknownRole(f"a route needs an unknown role {role!r}")

    def mark(view: F) -> F:
        view.required_role = role  # type: ignore[attr-defined]
        return view

    return mark


def required(view: Callable | None) -> str | None:
    """The role a view declared, or None (which the guards refuse)."""
    return getattr(view, "required_role", None)
