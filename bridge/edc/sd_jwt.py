"""SD-JWT (RFC 9901): a JWT whose chosen claims travel as separate *disclosures*, so the holder can show
a verifier some claims and keep the rest.

    <issuer-signed JWT>~<disclosure 1>~...~<disclosure n>~[<key-binding JWT>]

A disclosure is base64url(JSON ["salt", "name", value]); the signed payload carries only its SHA-256
digest in an `_sd` list. Issuing here signs on the HSM (bridge/edc/jws.py).

Reading is strict, because the reference implementation is not: given an altered disclosure, PyPI's
`sd-jwt` 0.10 silently leaves it out and reports the rest as verified. Here every disclosure presented
must be referenced by exactly one digest in the signed payload (or in a disclosure that is), each digest
may be used once, a disclosed name may not collide with a plain claim, and `_sd_alg` must be sha-256;
anything else is refused naming the disclosure. So an altered, added or duplicated disclosure is a
problem, never a silently smaller credential.

Pure: no Flask, no database, no environment.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from bridge.edc import jws
from bridge.edc.jws import CompactJws, JwsError

if TYPE_CHECKING:
    from hsm.signer import SealKey

SD_ALG = "sha-256"
KB_TYP = "kb+jwt"
MAX_DISCLOSURES = 200  # a credential here has about 20; far more is not one of ours
SALT_BYTES = 16  # 128 bits, as RFC 9901 §9.3 recommends


class SdJwtError(ValueError):
    """An SD-JWT that cannot be read or does not hold together; the message names the part at fault."""


def digest(disclosure: str) -> str:
    """base64url(SHA-256(ASCII(disclosure))): what the signed payload carries for a disclosure."""
    return jws.b64url(hashlib.sha256(disclosure.encode("ascii")).digest())


def make_disclosure(name: str, value: Any, salt: str | None = None) -> str:
    """One object-property disclosure, ["salt", "name", value], base64url-encoded."""
    if name in ("_sd", "...", "_sd_alg"):
        raise SdJwtError(f"{name!r} cannot be a disclosed claim name")
    salt = salt or jws.b64url(secrets.token_bytes(SALT_BYTES))
    return jws.b64url(json.dumps([salt, name, value], ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def issue(visible: Mapping[str, Any], disclosable: Mapping[str, Any], seal: "SealKey", *, typ: str,
          decoys: int = 0) -> str:
    """The SD-JWT: `visible` claims in the signed payload as they are, each of `disclosable` as a
    disclosure whose digest the payload lists (sorted, so the order reveals nothing; `decoys` extra
    random digests hide how many claims there are)."""
    disclosures = [make_disclosure(name, value) for name, value in disclosable.items()]
    digests = [digest(d) for d in disclosures] + [jws.b64url(secrets.token_bytes(32)) for _ in range(decoys)]
    overlap = set(visible) & set(disclosable)
    if overlap:
        raise SdJwtError(f"claims both visible and disclosable: {', '.join(sorted(overlap))}")
    payload = dict(visible)
    if digests:
        payload["_sd"] = sorted(digests)
        payload["_sd_alg"] = SD_ALG
    token = jws.sign_compact(jws.seal_header(seal, typ), jws.canonical_json(payload), seal)
    return "~".join([token, *disclosures]) + "~"


@dataclass
class Presentation:
    """An SD-JWT as received: the issuer-signed JWT, the disclosures in order, the key-binding JWT."""

    issuer_jwt: CompactJws
    disclosures: list[str]
    key_binding: str | None
    text_without_kb: str  # what the key-binding JWT's sd_hash covers

    @classmethod
    def parse(cls, text: Any) -> "Presentation":
        if not isinstance(text, str):
            raise SdJwtError("the credential is not text")
        text = text.strip()
        if len(text) > jws.MAX_TOKEN_CHARS:
            raise SdJwtError(f"the credential is longer than {jws.MAX_TOKEN_CHARS} characters")
        if "~" not in text:
            raise SdJwtError("the credential is not an SD-JWT (no '~' separates the JWT from its disclosures)")
        parts = text.split("~")
        key_binding = parts[-1] or None
        disclosures = parts[1:-1]
        if len(disclosures) > MAX_DISCLOSURES:
            raise SdJwtError(f"the credential carries more than {MAX_DISCLOSURES} disclosures")
        for n, item in enumerate(disclosures, start=1):
            if not item:
                raise SdJwtError(f"disclosure {n} is empty ('~~' in the credential)")
        try:
            issuer_jwt = CompactJws.parse(parts[0], "the issuer-signed JWT")
        except JwsError as exc:
            raise SdJwtError(str(exc)) from None
        return cls(issuer_jwt, disclosures, key_binding, text[: len(text) - len(parts[-1])])


@dataclass
class Disclosed:
    """The claims after every disclosure was put back where its digest was, and what was disclosed."""

    claims: dict[str, Any]
    disclosed: dict[str, Any] = field(default_factory=dict)  # top-level disclosed names -> values


def _decode_disclosure(text: str, n: int) -> list[Any]:
    what = f"disclosure {n}"
    try:
        raw = jws.b64url_decode(text, what)
        value = json.loads(raw.decode("utf-8"))
    except JwsError as exc:
        raise SdJwtError(str(exc)) from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise SdJwtError(f"{what} is not a JSON array") from None
    if not isinstance(value, list) or len(value) not in (2, 3) or not isinstance(value[0], str):
        raise SdJwtError(f"{what} is not [salt, name, value] or [salt, value]")
    if len(value) == 3 and (not isinstance(value[1], str) or value[1] in ("_sd", "...")):
        raise SdJwtError(f"{what} names a claim that cannot be disclosed ({value[1]!r})")
    return value


class _Resolver:
    """Puts disclosures back into the payload, counting which digest each one answered."""

    def __init__(self, disclosures: list[str]) -> None:
        self.by_digest: dict[str, tuple[int, list[Any]]] = {}
        for n, text in enumerate(disclosures, start=1):
            key = digest(text)
            if key in self.by_digest:
                raise SdJwtError(f"disclosure {n} is presented twice")
            self.by_digest[key] = (n, _decode_disclosure(text, n))
        self.used: set[str] = set()
        self.seen_digests: set[str] = set()

    def _take(self, key: Any, where: str) -> tuple[int, list[Any]] | None:
        if not isinstance(key, str):
            raise SdJwtError(f"a digest in {where} is not a text")
        if key in self.seen_digests:
            raise SdJwtError(f"the digest {key[:12]}... appears twice in the credential")
        self.seen_digests.add(key)
        found = self.by_digest.get(key)
        if found is not None:
            self.used.add(key)
        return found

    def resolve(self, node: Any, where: str = "the credential") -> Any:
        if isinstance(node, list):
            out = []
            for item in node:
                if isinstance(item, dict) and set(item) == {"..."}:
                    found = self._take(item["..."], where)
                    if found is None:
                        continue  # not disclosed (or a decoy)
                    n, value = found
                    if len(value) != 2:
                        raise SdJwtError(f"disclosure {n} is an object property but stands for an array element")
                    out.append(self.resolve(value[1], where))
                else:
                    out.append(self.resolve(item, where))
            return out
        if not isinstance(node, dict):
            return node
        digests = node.get("_sd", [])
        if not isinstance(digests, list):
            raise SdJwtError(f"'_sd' in {where} is not a list")
        out = {k: self.resolve(v, f"'{k}'") for k, v in node.items() if k not in ("_sd", "_sd_alg")}
        for key in digests:
            found = self._take(key, where)
            if found is None:
                continue
            n, value = found
            if len(value) != 3:
                raise SdJwtError(f"disclosure {n} is an array element but stands for an object property")
            name = value[1]
            if name in out:
                raise SdJwtError(f"disclosure {n} discloses '{name}', which the credential already states")
            out[name] = self.resolve(value[2], f"'{name}'")
        return out


def disclose(presentation: Presentation) -> Disclosed:
    """Every disclosure put back, strictly (see the module's docstring); SdJwtError naming the one at fault."""
    try:
        payload = presentation.issuer_jwt.claims("the issuer-signed JWT's payload")
    except JwsError as exc:
        raise SdJwtError(str(exc)) from None
    alg = payload.get("_sd_alg", SD_ALG)
    if alg != SD_ALG:
        raise SdJwtError(f"the disclosures' digest algorithm {alg!r} is not sha-256")
    resolver = _Resolver(presentation.disclosures)
    claims = resolver.resolve(payload)
    unused = [n for key, (n, _) in resolver.by_digest.items() if key not in resolver.used]
    if unused:
        raise SdJwtError(f"disclosure {min(unused)} is not part of the credential: it was altered or added "
                         "after the issuer sealed it")
    top_level = set(payload.get("_sd", []))
    disclosed = {value[1]: claims[value[1]] for key, (_, value) in resolver.by_digest.items()
                 if key in top_level and len(value) == 3}
    return Disclosed(claims, disclosed)


def check_key_binding(presentation: Presentation, claims: Mapping[str, Any], *, audience: str, nonce: str,
                      now: dt.datetime, max_age: dt.timedelta = dt.timedelta(minutes=10)) -> None:
    """The holder's key-binding JWT (RFC 9901 §4.3): signed by the key in `cnf`, for this `audience` and
    `nonce`, recent, and over exactly these disclosures. SdJwtError saying which part fails."""
    if presentation.key_binding is None:
        raise SdJwtError("the presentation carries no key-binding JWT, so it does not prove the holder")
    cnf = claims.get("cnf")
    if not isinstance(cnf, Mapping) or "jwk" not in cnf:
        raise SdJwtError("the credential names no holder key (cnf.jwk)")
    try:
        kb = CompactJws.parse(presentation.key_binding, "the key-binding JWT")
        if kb.header.get("typ") != KB_TYP:
            raise SdJwtError(f"the key-binding JWT's typ is {kb.header.get('typ')!r}, not {KB_TYP!r}")
        if not jws.signature_holds(kb, jws.public_key_from_jwk(cnf["jwk"])):
            raise SdJwtError("the key-binding JWT is not signed by the holder's key")
        body = kb.claims("the key-binding JWT's payload")
        issued = jws.numeric_date(body.get("iat"), "iat")
    except JwsError as exc:
        raise SdJwtError(str(exc)) from None
    if body.get("aud") != audience:
        raise SdJwtError(f"the key-binding JWT is for {body.get('aud')!r}, not for {audience!r}")
    if not isinstance(body.get("nonce"), str) or not hmac.compare_digest(body["nonce"], nonce):
        raise SdJwtError("the key-binding JWT answers another nonce")
    if not now - max_age <= issued <= now + dt.timedelta(minutes=5):
        raise SdJwtError("the key-binding JWT was not made just now (iat)")
    expected = jws.b64url(hashlib.sha256(presentation.text_without_kb.encode("ascii")).digest())
    if body.get("sd_hash") != expected:
        raise SdJwtError("the key-binding JWT covers other disclosures (sd_hash differs)")
