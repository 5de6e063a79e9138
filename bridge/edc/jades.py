"""JAdES seals for ELM v3 credentials: make one on the HSM, and check one (ours or anyone's).

The format is the one the EU's own issuer produces (Sample-MC-Annex1-signed.jsonld): a JWS in the
general JSON serialization with an *unencoded* payload (RFC 7797, `b64: false`):

    {"payload": "<the credential's JSON, as a JSON string>",
     "signatures": [{"protected": BASE64URL(header JSON), "signature": BASE64URL(sig)
                     [, "header": {"etsiU": [...]}] }]}

The protected header holds `alg` (RS256 / ES256), `b64: false`, `crit` (["b64", "sigT"]), the seal
certificate and its chain (`x5c`), that certificate's SHA-256 (`x5t#S256`, which binds the signature
to the certificate), the claimed signing time (`sigT`), `typ` and `cty` as the EU sample has them,
and `kid` (the certificate's issuer and serial, as in the sample). The signature is computed on the
token over ASCII(protected) + "." + the payload bytes, exactly the bytes `serialize_elm3` gave.

B-T and B-LT (signature time-stamp, certificate and revocation values) live in the unprotected
header's `etsiU` list: `sigTst`, `xVals`, `rVals` (and `arcTst` for archives). `JadesDocument` parses
and re-renders the whole thing so that work can add them without touching the signature code; the
verifier already reads which of them are present and reports the level.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from asn1crypto import cms as asn1_cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding

from bridge.edc import jades_ltv, ltv, trust
from bridge.edc.report import SealCheck, VerificationReport

if TYPE_CHECKING:
    from bridge.edc.shacl_check import ElmShapes
    from hsm.signer import SealKey

FORMAT = "elm3-jsonld"
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # a credential with images is ~100 KB; far bigger is not one of ours

# The EU sample's values; Europass wallets are known to take documents with exactly these.
TYP = "jose+json"
CTY = "octet-stream"

# alg -> (key type, hash, padding for RSA); the sealer writes RS256/ES256, the verifier reads them all.
ALGORITHMS: dict[str, tuple[type, hashes.HashAlgorithm, Callable[[], padding.AsymmetricPadding] | None]] = {
    "RS256": (rsa.RSAPublicKey, hashes.SHA256(), padding.PKCS1v15),
    "RS384": (rsa.RSAPublicKey, hashes.SHA384(), padding.PKCS1v15),
    "RS512": (rsa.RSAPublicKey, hashes.SHA512(), padding.PKCS1v15),
    "PS256": (rsa.RSAPublicKey, hashes.SHA256(), lambda: padding.PSS(padding.MGF1(hashes.SHA256()), 32)),
    "PS384": (rsa.RSAPublicKey, hashes.SHA384(), lambda: padding.PSS(padding.MGF1(hashes.SHA384()), 48)),
    "PS512": (rsa.RSAPublicKey, hashes.SHA512(), lambda: padding.PSS(padding.MGF1(hashes.SHA512()), 64)),
    "ES256": (ec.EllipticCurvePublicKey, hashes.SHA256(), None),
    "ES384": (ec.EllipticCurvePublicKey, hashes.SHA384(), None),
    "ES512": (ec.EllipticCurvePublicKey, hashes.SHA512(), None),
}
EC_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}

# Critical header parameters this verifier understands. Those after b64/sigT are JAdES properties it
# reads but does not (yet) check; each one present is named in the report's notes.
HANDLED_CRIT = {"b64", "sigT"}
NOTED_CRIT = {"adoTst": "a content time-stamp (adoTst)", "sigPId": "a signature policy (sigPId)",
              "sigPl": "a signature production place (sigPl)", "srCms": "signer commitments (srCms)",
              "srAts": "signer attributes (srAts)", "sigX5ts": "extra certificate digests (sigX5ts)",
              "x5t#o": "another certificate digest (x5t#o)"}


class JadesError(ValueError):
    """A document that is not a JAdES JWS we can read; the message says what is wrong with it."""


# --- small encodings ----------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url_decode(text: str, what: str) -> bytes:
    if not isinstance(text, str) or not _BASE64URL.fullmatch(text):  # a regex: values reach megabytes
        raise JadesError(f"{what} is not base64url text")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise JadesError(f"{what} is not base64url text") from None


def json_object(data: bytes, what: str) -> dict[str, Any]:
    """`data` as a JSON object, or a JadesError naming `what` is wrong with it.

    JOSE headers are UTF-8 JSON (RFC 7515 §4); json.loads alone would guess UTF-16/32 from the
    bytes and raise three different exceptions (and RecursionError for deep nesting), so each
    becomes a sentence here, where the header is read, instead of a traceback in a caller.
    """
    try:
        value = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise JadesError(f"{what} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise JadesError(f"{what} is not JSON ({exc.msg} at character {exc.pos})") from None
    except RecursionError:
        raise JadesError(f"{what} is nested too deeply to be a JOSE header") from None
    if not isinstance(value, dict):
        raise JadesError(f"{what} is not a JSON object")
    return value


def _sig_time(moment: dt.datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise JadesError("the signing time has no time zone")
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_sig_time(text: Any) -> dt.datetime:
    if not isinstance(text, str):
        raise JadesError("the claimed signing time (sigT) is not a text")
    try:
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise JadesError(f"the claimed signing time (sigT) {text!r} is not of the form YYYY-MM-DDThh:mm:ssZ") from None


def _issuer_serial(cert: x509.Certificate) -> str:
    """The `kid` the EU sample carries: DER IssuerSerial (RFC 5035) of the seal certificate, base64."""
    parsed = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
    value = asn1_cms.IssuerSerial({
        "issuer": [asn1_x509.GeneralName(name="directory_name", value=parsed.issuer)],
        "serial": parsed.serial_number,
    })
    return base64.b64encode(value.dump()).decode("ascii")


def signing_input(protected_b64: str, payload: bytes) -> bytes:
    """RFC 7797 with b64 false: ASCII(BASE64URL(protected)) || '.' || the payload bytes, unencoded."""
    return protected_b64.encode("ascii") + b"." + payload


# --- the document, parsed and rendered ------------------------------------------------------------


@dataclass
class JadesDocument:
    """One JAdES JWS (JSON serialization, one signature), as read from or written to a file."""

    payload: bytes
    protected_b64: str
    signature: bytes
    unprotected: dict[str, Any] = field(default_factory=dict)  # the signature's "header"

    @property
    def protected(self) -> dict[str, Any]:
        return json_object(b64url_decode(self.protected_b64, "the protected header"), "the protected header")

    def etsi_unsigned(self) -> list[dict[str, Any]]:
        """The `etsiU` components, each decoded (JAdES allows base64url-encoded or plain JSON entries)."""
        entries = self.unprotected.get("etsiU", [])
        if not isinstance(entries, list):
            raise JadesError("the unsigned properties (etsiU) are not a list")
        decoded = []
        for n, entry in enumerate(entries, start=1):
            what = f"unsigned property {n}"
            if isinstance(entry, str):
                entry = json_object(b64url_decode(entry, what), what)
            if not isinstance(entry, dict):
                raise JadesError(f"{what} is not a JSON object")
            decoded.append(entry)
        return decoded

    def add_unsigned(self, component: Mapping[str, Any]) -> None:
        """Append one etsiU component (e.g. {"sigTst": ...}); written base64url-encoded, as the EU sample does."""
        entry = b64url(json.dumps(component, separators=(",", ":"), sort_keys=True).encode("utf-8"))
        self.unprotected.setdefault("etsiU", []).append(entry)

    def render(self) -> bytes:
        signature: dict[str, Any] = {"protected": self.protected_b64}
        if self.unprotected:
            signature["header"] = self.unprotected
        signature["signature"] = b64url(self.signature)
        return json.dumps({"payload": self.payload.decode("utf-8"), "signatures": [signature]},
                          ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def parse(cls, data: bytes) -> "JadesDocument":
        if len(data) > MAX_DOCUMENT_BYTES:
            raise JadesError(f"the file is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB")
        try:
            outer = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise JadesError(f"the file is not JSON: {exc}") from None
        except RecursionError:
            raise JadesError("the file is nested too deeply to be a credential") from None
        if not isinstance(outer, dict):
            raise JadesError("the file is not a JSON object")
        if "signatures" in outer:
            signatures = outer["signatures"]
            if not isinstance(signatures, list) or len(signatures) != 1:
                raise JadesError("a sealed credential must carry exactly one signature")
            entry = signatures[0]
        elif "signature" in outer:  # the flattened JSON serialization
            entry = outer
        else:
            raise JadesError("the file is not a sealed credential (a JWS with 'payload' and 'signatures'); "
                             "an unsealed JSON-LD credential proves nothing")
        if not isinstance(entry, dict) or not isinstance(entry.get("protected"), str):
            raise JadesError("the signature has no protected header")
        header = entry.get("header", {})
        if not isinstance(header, dict):
            raise JadesError("the signature's unprotected header is not a JSON object")
        payload = outer.get("payload")
        if not isinstance(payload, str):
            raise JadesError("the file carries no payload (a detached payload is not supported)")
        document = cls(b"", entry["protected"], b64url_decode(entry.get("signature"), "the signature"), header)
        protected = document.protected
        if protected.get("b64", True) is False:
            try:
                document.payload = payload.encode("utf-8")
            except UnicodeEncodeError:
                raise JadesError("the payload is not valid UTF-8 text") from None
        else:
            document.payload = b64url_decode(payload, "the payload")
        return document


# --- sealing ------------------------------------------------------------------------------------


def _jws_signature(seal: "SealKey", data: bytes) -> tuple[str, bytes]:
    """(alg, JWS signature): RS256 as the token gives it; ES256 turned from DER into raw r||s."""
    public = seal.certificate.public_key()
    signature = seal.sign(data)
    if isinstance(public, rsa.RSAPublicKey):
        return "RS256", signature
    if isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == "secp256r1":
        r, s = decode_dss_signature(signature)
        return "ES256", r.to_bytes(32, "big") + s.to_bytes(32, "big")
    raise JadesError(f"the seal key ({seal.algorithm}) is neither RSA nor EC P-256; JAdES seals here use RS256 or ES256")


def _algorithm_of(seal: "SealKey") -> str:
    public = seal.certificate.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        return "RS256"
    if isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == "secp256r1":
        return "ES256"
    raise JadesError(f"the seal key ({seal.algorithm}) is neither RSA nor EC P-256; JAdES seals here use RS256 or ES256")


def protected_header(seal: "SealKey", signing_time: dt.datetime) -> dict[str, Any]:
    leaf = seal.certificate.public_bytes(Encoding.DER)
    return {
        "alg": _algorithm_of(seal),
        "b64": False,
        "crit": ["b64", "sigT"],
        "cty": CTY,
        "kid": _issuer_serial(seal.certificate),
        "sigT": _sig_time(signing_time),
        "typ": TYP,
        "x5c": [base64.b64encode(c.public_bytes(Encoding.DER)).decode("ascii") for c in (seal.certificate, *seal.chain)],
        "x5t#S256": b64url(hashlib.sha256(leaf).digest()),
    }


def seal_jades(payload: bytes, seal: "SealKey", *, signing_time: dt.datetime | None = None,
               tsa: "ltv.TsaClient | None" = None, level: str = "B-B", tsa_policy: str = "wait",
               revocation_source: "ltv.RevocationSource | None" = None) -> bytes:
    """The JAdES document sealing `payload` (the bytes of `serialize_elm3`) with the token's key.

    B-B unless `level` asks for B-T/B-LT, which bridge/edc/ltv.py adds (and where the TSA-down
    policy `tsa_policy` is explained).
    """
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        raise JadesError("the payload must be UTF-8 text (it travels unencoded inside the JSON)") from None
    moment = signing_time or dt.datetime.now(dt.timezone.utc)
    header = protected_header(seal, moment)
    protected_b64 = b64url(json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    alg, signature = _jws_signature(seal, signing_input(protected_b64, payload))
    if alg != header["alg"]:  # cannot happen unless the token's key and certificate disagree
        raise JadesError("the seal key does not match its certificate")
    document = JadesDocument(payload, protected_b64, signature)
    # Long-term levels (sigTst, xVals, rVals in etsiU): bridge/edc/jades_ltv.py, policy in ltv.py.
    pending = ltv.raise_to_level(long_term(document), ltv.SealLevelSettings(level, tsa, tsa_policy),
                                 revocation_source, seal.chain)
    if pending:
        raise ltv.TimestampPending(document.render(), pending, level)
    return document.render()


# --- checking -----------------------------------------------------------------------------------


def certificates(header: Mapping[str, Any]) -> list[x509.Certificate]:
    """The certificates of the protected header's x5c, the seal certificate first; JadesError if none or one is bad."""
    x5c = header.get("x5c")
    if not isinstance(x5c, list) or not x5c:
        raise JadesError("the seal does not carry its certificate (x5c)")
    certs = []
    for n, entry in enumerate(x5c, start=1):
        try:
            certs.append(trust.parse_certificate(base64.b64decode(entry, validate=True)))
        except (binascii.Error, ValueError, TypeError):
            raise JadesError(f"certificate {n} in the seal (x5c) is not a DER certificate in base64") from None
    return certs


def long_term(document: JadesDocument) -> jades_ltv.JadesLongTerm:
    """The document's unsigned properties, to raise its level (ltv.raise_to_level, ltv.complete)."""
    return jades_ltv.JadesLongTerm(document, certificates(document.protected))


def _check_crit(header: Mapping[str, Any], check: SealCheck) -> None:
    crit = header.get("crit", [])
    if not isinstance(crit, list) or not all(isinstance(name, str) for name in crit) or "crit" in header and not crit:
        raise JadesError("the seal's list of critical header parameters (crit) is malformed")
    for name in crit:
        if name not in header:
            raise JadesError(f"the seal declares '{name}' critical but does not carry it")
        if name in NOTED_CRIT:
            check.notes.append(f"the seal carries {NOTED_CRIT[name]}, which is not checked")
        elif name not in HANDLED_CRIT:
            raise JadesError(f"the seal depends on '{name}', which this verifier does not understand")
    if header.get("b64", True) is False and "b64" not in crit:
        raise JadesError("the seal's payload is unencoded (b64 false) but 'b64' is not declared critical")
    if "sigT" in header and "sigT" not in crit:
        check.notes.append("the claimed signing time (sigT) is not declared critical, as JAdES asks")


def _verify_signature(alg: str, public_key: Any, signature: bytes, data: bytes) -> bool:
    key_type, digest, pad = ALGORITHMS[alg]
    if not isinstance(public_key, key_type):
        raise JadesError(f"the seal says {alg}, but its certificate holds a different kind of key")
    try:
        if pad is not None:
            public_key.verify(signature, data, pad(), digest)
        else:
            if public_key.curve.name != EC_CURVES[alg]:
                raise JadesError(f"the seal says {alg}, but its certificate's key is on curve {public_key.curve.name}")
            size = (public_key.curve.key_size + 7) // 8
            if len(signature) != 2 * size:
                return False
            der = encode_dss_signature(int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big"))
            public_key.verify(der, data, ec.ECDSA(digest))
    except InvalidSignature:
        return False
    return True


def level_of(document: JadesDocument) -> tuple[str, list[str]]:
    """The baseline level the unsigned properties claim (B-B/B-T/B-LT), and notes on what they hold."""
    names = {name for component in document.etsi_unsigned() for name in component}
    notes = []
    level = "B-B"
    if "sigTst" in names:
        level = "B-T"
        if "xVals" in names and "rVals" in names:
            level = "B-LTA" if "arcTst" in names else "B-LT"
    return level, notes


def check_seal(document: JadesDocument) -> SealCheck:
    """Integrity only: the header is well-formed, the certificate is the one signed for, the signature holds."""
    check = SealCheck()
    try:
        header = document.protected
        _check_crit(header, check)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in ALGORITHMS:
            raise JadesError(f"the seal's algorithm {alg!r} is not one a seal may use (RS256, ES256, ...)")
        certs = certificates(header)
        check.certificate, check.chain = certs[0], certs[1:]
        thumbprint = header.get("x5t#S256")
        if thumbprint is None:
            raise JadesError("the seal does not name the certificate it was made for (x5t#S256), "
                             "so a different certificate could be slipped in")
        if thumbprint != b64url(hashlib.sha256(certs[0].public_bytes(Encoding.DER)).digest()):
            raise JadesError("the certificate in the seal is not the one the seal was made for (x5t#S256 differs)")
        if "sigT" in header:
            check.signing_time = _parse_sig_time(header["sigT"])
        else:
            check.notes.append("the seal does not claim a signing time (sigT)")
        try:  # unsigned: a malformed etsiU says nothing about the signature, so it is reported, not raised
            check.level, level_notes = level_of(document)
            check.notes.extend(level_notes)
        except JadesError as exc:
            check.problems.append(f"the seal's unsigned properties are malformed: {exc}")
        data = signing_input(document.protected_b64, document.payload)
        check.intact = _verify_signature(alg, certs[0].public_key(), document.signature, data)
    except JadesError as exc:
        check.problems.append(str(exc))
        check.intact = False
        return check
    except UnsupportedAlgorithm:
        check.problems.append("the seal certificate holds a kind of key this verifier does not support")
        check.intact = False
        return check
    if not check.intact:
        check.problems.append("the seal does not match the credential: the credential (or its seal) was changed "
                              "after sealing")
    return check


# --- the credential's own words -----------------------------------------------------------------


def _one(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _text(value: Any, lang: str) -> str | None:
    value = _one(value)
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and value:
        chosen = value.get(lang) or value.get("en") or next(iter(value.values()))
        return chosen if isinstance(chosen, str) else None
    return None


def _primary_language(doc: Mapping[str, Any]) -> str:
    from bridge.edc.vocabularies import LANGUAGES

    display = _one(doc.get("displayParameter"))
    language = _one(display.get("primaryLanguage")) if isinstance(display, dict) else None
    uri = language.get("id") if isinstance(language, dict) else None
    for two, concept in LANGUAGES.items():
        if concept.uri == uri:
            return two
    return "en"


def summarize(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Learner, title, issuer, ids and dates as a person reads them; missing or odd values become None."""
    lang = _primary_language(doc)
    subject = _one(doc.get("credentialSubject")) or {}
    claim = _one(subject.get("hasClaim")) if isinstance(subject, dict) else None
    claim = claim if isinstance(claim, dict) else {}
    spec = _one(claim.get("specifiedBy"))
    spec = spec if isinstance(spec, dict) else {}
    issuer = _one(doc.get("issuer"))
    learner = _text(subject.get("fullName"), lang) if isinstance(subject, dict) else None
    if learner is None and isinstance(subject, dict):
        parts = [_text(subject.get(k), lang) for k in ("givenName", "familyName")]
        learner = " ".join(p for p in parts if p) or None
    summary: dict[str, Any] = {
        "credential_id": doc.get("id") if isinstance(doc.get("id"), str) else None,
        "learner": learner,
        "title": _text(claim.get("title"), lang) or _text(spec.get("title"), lang),
        "issuer": _text(issuer.get("legalName"), lang) if isinstance(issuer, dict) else None,
        "issued": doc.get("issued") if isinstance(doc.get("issued"), str) else None,
        "ects": None, "eqf_level": None,
    }
    credit = _one(spec.get("creditPoint"))
    try:
        summary["ects"] = float(credit["point"]) if isinstance(credit, dict) else None
    except (KeyError, TypeError, ValueError):
        pass
    eqf = _one(spec.get("eqfLevel"))
    eqf_id = eqf.get("id") if isinstance(eqf, dict) else None
    if isinstance(eqf_id, str) and eqf_id.rsplit("/", 1)[-1].isdigit():
        summary["eqf_level"] = int(eqf_id.rsplit("/", 1)[-1])
    return summary


# --- the verdict --------------------------------------------------------------------------------


def _check_shapes(report: VerificationReport, doc: Any, shapes: "ElmShapes | None") -> None:
    report.schema_outcome(
        shapes.problems(doc) if shapes is not None else None, against="the EU's EDC shapes",
        skipped="the EDC shapes check was skipped: no shapes folder is configured (EDC_SHACL_DIR)",
    )


def verify_jades(
    data: bytes,
    *,
    trust_anchors: Sequence[x509.Certificate],
    shapes: "ElmShapes | None" = None,
    now: dt.datetime | None = None,
    tsa_anchors: Sequence[x509.Certificate] | None = None,
) -> VerificationReport:
    """Is this sealed ELM v3 credential intact, sealed by someone we trust, and well-formed?

    `tsa_anchors`: the CAs whose time-stamping authorities are believed (None: the seal's anchors).
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    report = VerificationReport(format=FORMAT)
    try:
        document = JadesDocument.parse(data)
    except JadesError as exc:
        report.problem(str(exc))
        return report
    try:
        doc = json.loads(document.payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        doc = None
        report.problem("the sealed content is not a JSON credential")
    if isinstance(doc, dict):
        with report.checking("credential's content"):
            for name, value in summarize(doc).items():
                setattr(report, name, value)
        with report.checking("EDC shapes"):
            _check_shapes(report, doc, shapes)
    elif doc is not None:
        report.problem("the sealed content is not a JSON object")
    check = SealCheck()
    with report.checking("seal"):
        check = check_seal(document)
    if check.certificate is not None:  # B-T and above: verify sigTst, read xVals/rVals (bridge/edc/jades_ltv.py)
        with report.checking("time-stamp"):
            jades_ltv.check_long_term(document, check, trust_anchors if tsa_anchors is None else tsa_anchors, now)
    report.seal_outcome(check)
    if check.certificate is not None:
        with report.checking("certificate chain"):
            trust.judge_seal(report, check, trust_anchors, now)
    return report
