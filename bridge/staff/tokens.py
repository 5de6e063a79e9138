"""Named bearer tokens for machine clients: `EDC_API_TOKENS` (`name:role:secret` entries separated by `;`
or one per line in `EDC_API_TOKENS_FILE`) and tokens kept in the registry (SHA-256 of the secret only).

A token is looked up by the SHA-256 of what was presented, so the comparison never depends on which
token was guessed at; the secrets are long random strings, for which a fast hash is enough (a slow one,
as for passwords, would only slow every API call down).
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field

from bridge.staff import roles

NAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIN_SECRET_CHARS = 24
ACTOR_PREFIX = "api-token:"


class TokenConfigError(ValueError):
    """An entry of EDC_API_TOKENS that cannot be used; the message names the entry, never its secret."""


@dataclass(frozen=True)
class NamedToken:
    name: str
    roles: tuple[str, ...]
    digest: str = field(repr=False)  # hex SHA-256 of the secret

    @property
    def actor(self) -> str:
        return f"{ACTOR_PREFIX}{self.name}"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    """A token secret for the registry (printed once to the operator who made it)."""
    return secrets.token_urlsafe(32)


def check_name(name: str) -> str:
    if not NAME_RULE.match(name or ""):
        raise TokenConfigError(f"token name {name[:20]!r}: letters, digits, '.', '_' or '-', at most 64")
    return name


def parse(text: str, origin: str) -> dict[str, NamedToken]:
    """`name:role[,role]:secret;...` -> {digest: token}; the role is checked against the role table."""
    tokens: dict[str, NamedToken] = {}
    names: set[str] = set()
    for number, part in enumerate(text.replace("\n", ";").split(";"), start=1):
        part = part.strip()
        if not part or part.startswith("#"):
            continue
        name, _, rest = part.partition(":")
        role_text, sep, secret = rest.partition(":")
        if not sep or not secret:
            raise TokenConfigError(f"{origin}: entry {number} must be name:role:secret")
        try:
            check_name(name.strip())
            held = roles.parse(role_text)
        except (TokenConfigError, roles.UnknownRole) as exc:
            raise TokenConfigError(f"{origin}: entry {number}: {exc}") from None
        if len(secret) < MIN_SECRET_CHARS:
            raise TokenConfigError(f"{origin}: entry {number} ({name.strip()}): the secret must have at least "
                                   f"{MIN_SECRET_CHARS} characters")
        if name.strip() in names:
            raise TokenConfigError(f"{origin}: token name {name.strip()!r} is given twice")
        names.add(name.strip())
        token = NamedToken(name.strip(), held, digest(secret))
        tokens[token.digest] = token
    return tokens
