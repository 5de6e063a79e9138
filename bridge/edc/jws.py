"""Compact JWS (RFC 7515) for the JWT-shaped credentials: SD-JWT VC, Open Badges 3.0 VC-JWT, and the
holders' key proofs an OpenID4VCI wallet sends.

The seal signs on the token exactly as the JAdES seal does (bridge/edc/jades.py: RS256 as the token
gives it, ES256 turned from DER into r||s), with the seal certificate and its chain in `x5c`; the
checks reuse the JAdES signature check and trust decision, so every format is judged by one rule.
A holder's proof is checked against the public JWK it carries (RFC 7517), never against a key
fetched from anywhere.

Pure: no Flask, no database, no environment. Every input may be anything; each problem becomes a
`JwsError` whose message says what is wrong in plain words.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from bridge.edc import jades, trust
from bridge.edc.report import VerificationReport

if TYPE_CHECKING:
    from hsm.signer import SealKey

MAX_TOKEN_CHARS = 2 * 1024 * 1024  # a credential is a few KB; far more is not one of ours
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_CURVES = {"P-256": (ec.SECP256R1, 32), "P-384": (ec.SECP384R1, 48), "P-521": (ec.SECP521R1, 66)}
_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


class JwsError(ValueError):
    """A token that is not a compact JWS we can read or trust; the message says why."""


def b64url(data: bytes) -> str:
    return jades.b64url(data)


def b64url_decode(text: Any, what: str) -> bytes:
    try:
        return jades.b64url_decode(text, what)
    except jades.JadesError as exc:
        raise JwsError(str(exc)) from None


def json_object(data: bytes, what: str) -> dict[str, Any]:
    """`data` as a UTF-8 JSON object, or a JwsError naming `what` (the JAdES reader's rule)."""
    try:
        return jades.json_object(data, what)
    except jades.JadesError as exc:
        raise JwsError(str(exc)) from None


def canonical_json(value: Any) -> bytes:
    """The bytes we sign: compact, keys sorted, UTF-8 (stable, so tests and dictionaries can compare)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


@dataclass(frozen=True)
class CompactJws:
    """One compact JWS, parsed but not yet trusted."""

    header_b64: str
    payload_b64: str
    signature: bytes
    header: dict[str, Any]
    payload: bytes

    @property
    def signing_input(self) -> bytes:
        return f"{self.header_b64}.{self.payload_b64}".encode("ascii")

    @property
    def alg(self) -> str:
        alg = self.header.get("alg")
        if not isinstance(alg, str) or alg not in jades.ALGORITHMS:
            raise JwsError(f"the signature algorithm {alg!r} is not one accepted here "
                           f"({', '.join(sorted(jades.ALGORITHMS))}); 'none' and MACs never are")
        return alg

    def claims(self, what: str = "the token's payload") -> dict[str, Any]:
        return json_object(self.payload, what)

    @classmethod
    def parse(cls, text: Any, what: str = "the token") -> "CompactJws":
        if not isinstance(text, str):
            raise JwsError(f"{what} is not text")
        if len(text) > MAX_TOKEN_CHARS:
            raise JwsError(f"{what} is longer than {MAX_TOKEN_CHARS} characters")
        text = text.strip()
        if not _COMPACT.fullmatch(text):
            raise JwsError(f"{what} is not a compact JWS (three base64url parts joined by dots)")
        header_b64, payload_b64, signature_b64 = text.split(".")
        header = json_object(b64url_decode(header_b64, f"{what}'s header"), f"{what}'s header")
        if "crit" in header:
            raise JwsError(f"{what} declares critical header parameters ({header['crit']!r}) this reader does "
                           "not understand")
        return cls(header_b64, payload_b64, b64url_decode(signature_b64, f"{what}'s signature"), header,
                   b64url_decode(payload_b64, f"{what}'s payload"))


def seal_header(seal: "SealKey", typ: str, **extra: Any) -> dict[str, Any]:
    """alg (from the seal key), typ, and the seal certificate with its chain (x5c, standard base64 DER)."""
    return {"alg": jades._algorithm_of(seal), "typ": typ,
            "x5c": [base64.b64encode(c.public_bytes(Encoding.DER)).decode("ascii")
                    for c in (seal.certificate, *seal.chain)], **extra}


def sign_compact(header: Mapping[str, Any], payload: bytes, seal: "SealKey") -> str:
    """header.payload.signature, the signature made on the token."""
    header_b64 = b64url(canonical_json(dict(header)))
    payload_b64 = b64url(payload)
    alg, signature = jades._jws_signature(seal, f"{header_b64}.{payload_b64}".encode("ascii"))
    if alg != header.get("alg"):
        raise JwsError(f"the header says {header.get('alg')!r} but the seal key signs {alg}")
    return f"{header_b64}.{payload_b64}.{b64url(signature)}"


def signature_holds(token: CompactJws, public_key: Any) -> bool:
    """Whether the token's signature holds under `public_key` (JwsError if the key cannot make that alg)."""
    try:
        return jades._verify_signature(token.alg, public_key, token.signature, token.signing_input)
    except jades.JadesError as exc:
        raise JwsError(str(exc)) from None


# --- holders' keys (JWK) ---------------------------------------------------------------------------


def _coordinate(jwk: Mapping[str, Any], name: str, size: int | None = None) -> int:
    raw = b64url_decode(jwk.get(name), f"the key's '{name}'")
    if not raw or (size is not None and len(raw) != size):
        raise JwsError(f"the key's '{name}' has the wrong length for its curve")
    return int.from_bytes(raw, "big")


def public_key_from_jwk(jwk: Any) -> ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
    """The public key a JWK describes (EC P-256/384/521 or RSA). A JWK holding a private part is
    refused: a wallet that sends its private key has already lost it."""
    if not isinstance(jwk, Mapping):
        raise JwsError("the key (jwk) is not a JSON object")
    if any(name in jwk for name in ("d", "p", "q", "dp", "dq", "qi", "k")):
        raise JwsError("the key (jwk) carries private or secret key material; send only the public key")
    kty = jwk.get("kty")
    try:
        if kty == "EC":
            curve = _CURVES.get(jwk.get("crv"))
            if curve is None:
                raise JwsError(f"the key's curve {jwk.get('crv')!r} is not P-256, P-384 or P-521")
            cls, size = curve
            return ec.EllipticCurvePublicNumbers(_coordinate(jwk, "x", size), _coordinate(jwk, "y", size),
                                                 cls()).public_key()
        if kty == "RSA":
            key = rsa.RSAPublicNumbers(_coordinate(jwk, "e"), _coordinate(jwk, "n")).public_key()
            if key.key_size < 2048:
                raise JwsError(f"the RSA key has {key.key_size} bits; at least 2048 are needed")
            return key
    except (ValueError, UnsupportedAlgorithm) as exc:
        if isinstance(exc, JwsError):
            raise
        raise JwsError(f"the key (jwk) is not a valid {kty} public key") from None
    raise JwsError(f"the key type (kty) {kty!r} is not EC or RSA")


def jwk_of(public_key: Any) -> dict[str, str]:
    """The public JWK of an EC or RSA public key (what a header's `jwk` or a `cnf` carries)."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        crv = _CURVE_NAMES.get(public_key.curve.name)
        if crv is None:
            raise JwsError(f"curve {public_key.curve.name} has no JWK name here")
        size = _CURVES[crv][1]
        numbers = public_key.public_numbers()
        return {"kty": "EC", "crv": crv, "x": b64url(numbers.x.to_bytes(size, "big")),
                "y": b64url(numbers.y.to_bytes(size, "big"))}
    if isinstance(public_key, rsa.RSAPublicKey):
        numbers = public_key.public_numbers()
        return {"kty": "RSA", "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                "e": b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big"))}
    raise JwsError("only EC and RSA keys have a JWK here")


def public_jwk(jwk: Mapping[str, Any]) -> dict[str, str]:
    """Only the members that name the public key (what a credential's `cnf` should carry)."""
    return jwk_of(public_key_from_jwk(jwk))


# --- the issuer's seal -----------------------------------------------------------------------------


def seal_certificates(token: CompactJws) -> list[x509.Certificate]:
    try:
        return jades.certificates(token.header)
    except jades.JadesError as exc:
        raise JwsError(str(exc)) from None


def check_issuer_seal(token: CompactJws, report: VerificationReport, trust_anchors: Sequence[x509.Certificate],
                      now: dt.datetime, signed_at: dt.datetime | None) -> bool:
    """Fill `report` with what the token's seal proves: intact, and sealed by a certificate that chains
    to `trust_anchors` (judged as of `now`: a JWT carries no time-stamp). True when intact."""
    check = jades.SealCheck(level="B-B", signing_time=signed_at)
    try:
        certs = seal_certificates(token)
        check.certificate, check.chain = certs[0], certs[1:]
        check.intact = signature_holds(token, certs[0].public_key())
        if not check.intact:
            check.problems.append("the seal does not match the credential: the credential (or its seal) was "
                                  "changed after sealing")
    except (JwsError, UnsupportedAlgorithm) as exc:
        check.intact = False
        check.problems.append(str(exc) if isinstance(exc, JwsError) else
                              "the seal certificate holds a kind of key this verifier does not support")
    header_jwk = token.header.get("jwk")
    if check.intact and header_jwk is not None:
        try:
            same = public_jwk(header_jwk) == jwk_of(check.certificate.public_key())
        except JwsError:
            same = False
        if not same:
            check.intact = False
            check.problems.append("the key named in the header (jwk) is not the seal certificate's key")
    report.seal_outcome(check)
    if check.certificate is not None:
        with report.checking("certificate chain"):
            trust.judge_seal(report, check, trust_anchors, now)
    return check.intact


def numeric_date(value: Any, name: str) -> dt.datetime:
    """A JWT NumericDate (RFC 7519: seconds since the epoch) as an aware datetime."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise JwsError(f"'{name}' is not a number of seconds since 1970")
    try:
        return dt.datetime.fromtimestamp(value, dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise JwsError(f"'{name}' is not a date this verifier can read") from None


def check_times(claims: Mapping[str, Any], report: VerificationReport, now: dt.datetime,
                leeway: dt.timedelta = dt.timedelta(minutes=5)) -> dt.datetime | None:
    """iat/nbf/exp of a JWT against `now`; returns the issuing time (iat, else nbf) when there is one."""
    issued = None
    for name in ("iat", "nbf"):
        if name in claims:
            try:
                moment = numeric_date(claims[name], name)
            except JwsError as exc:
                report.problem(str(exc))
                continue
            issued = issued or moment
            if moment > now + leeway:
                report.problem(f"the credential is not valid before {moment.isoformat()} ('{name}')")
    if "exp" in claims:
        try:
            expiry = numeric_date(claims["exp"], "exp")
        except JwsError as exc:
            report.problem(str(exc))
        else:
            if expiry < now - leeway:
                report.problem(f"the credential expired on {expiry.date().isoformat()} ('exp')")
    return issued
