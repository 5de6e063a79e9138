"""RFC 3161 time-stamps: ask a time-stamping authority (TSA) for one, and check one we are shown.

A seal's claimed signing time is the sealer's word; a time-stamp is a third party's signed statement
that the seal existed at a given moment. That is what lets a verifier judge the seal certificate at
the time of sealing rather than today, so a credential outlives its seal certificate (B-T, B-LT).

The ASN.1 (TimeStampReq/Resp, TSTInfo, CMS SignedData, ESS signing-certificate attributes) is
asn1crypto's; signatures are checked with cryptography; the TSA certificate's chain is judged by
bridge/edc/trust.py (pyhanko-certvalidator, nothing fetched). Nothing here touches XML or JSON:
the seal formats decide *what* is time-stamped (bridge/edc/ltv.py).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Iterable, Sequence
from urllib.parse import urlsplit, urlunsplit

import requests
from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from bridge.edc import trust

HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
CRYPTO_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"


class TimestampError(Exception):
    """A time-stamp could not be obtained."""


class TsaUnavailableError(TimestampError):
    """The TSA did not answer (down, unreachable, timed out, overloaded): worth trying again later."""

    retryable = True


class TsaRefusedError(TimestampError):
    """The TSA answered but gave no usable time-stamp: retrying the same request will not help."""

    retryable = False


def redact_url(url: str) -> str:
    """The URL without any user:password part, fit for logs and error messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


# --- asking a TSA -------------------------------------------------------------------------------


def build_request(digest: bytes, hash_alg: str = "sha256") -> tuple[bytes, int]:
    """A DER TimeStampReq for `digest`, with a fresh nonce and certReq=true; returns (request, nonce)."""
    if hash_alg not in HASHES:
        raise ValueError(f"unsupported time-stamp hash algorithm {hash_alg!r} (use one of {', '.join(HASHES)})")
    if len(digest) != HASHES[hash_alg]().digest_size:
        raise ValueError(f"the digest to time-stamp is {len(digest)} bytes, not a {hash_alg} digest")
    nonce = secrets.randbits(63)
    request = tsp.TimeStampReq({
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": hash_alg}, "hashed_message": digest},
        "nonce": nonce,
        "cert_req": True,
    })
    return request.dump(), nonce


def read_response(data: bytes, digest: bytes, nonce: int) -> bytes:
    """The time-stamp token (DER ContentInfo) of a TSA reply, refusing one that answers another request."""
    try:
        response = tsp.TimeStampResp.load(data)
        status = response["status"]["status"].native
    except (ValueError, TypeError) as exc:
        raise TsaRefusedError(f"the TSA's reply is not an RFC 3161 time-stamp response ({exc})") from None
    if status not in ("granted", "granted_with_mods"):
        text = response["status"]["status_string"].native or []
        failure = response["status"]["fail_info"].native
        detail = "; ".join([*text, *(sorted(failure) if failure else [])]) or "no reason given"
        raise TsaRefusedError(f"the TSA refused the time-stamp request (status {status}: {detail})")
    token = response["time_stamp_token"]
    try:
        info = token["content"]["encap_content_info"]["content"].parsed
        imprint = info["message_imprint"]["hashed_message"].native
        answered_nonce = info["nonce"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise TsaRefusedError(f"the TSA's time-stamp token cannot be read ({exc})") from None
    if imprint != digest:
        raise TsaRefusedError("the TSA time-stamped something else than what was asked (message imprint differs)")
    if answered_nonce != nonce:
        raise TsaRefusedError("the TSA's reply carries another nonce: it does not answer this request")
    return token.dump()


def request_timestamp(tsa_url: str, digest: bytes, hash_alg: str = "sha256", *, timeout: float = 10.0) -> bytes:
    """Ask the TSA at `tsa_url` to time-stamp `digest`; returns the token's DER.

    Raises TsaUnavailableError when it is worth asking again later (no answer, 5xx, 429) and
    TsaRefusedError when the TSA answered but said no or said something unusable.
    """
    request, nonce = build_request(digest, hash_alg)
    where = redact_url(tsa_url)
    try:
        reply = requests.post(
            tsa_url, data=request, timeout=timeout,
            headers={"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPE},
        )
    except requests.Timeout:
        raise TsaUnavailableError(f"the TSA at {where} did not answer within {timeout:g} s") from None
    except requests.RequestException as exc:
        raise TsaUnavailableError(f"the TSA at {where} cannot be reached ({type(exc).__name__})") from None
    if reply.status_code == 429 or reply.status_code >= 500:
        raise TsaUnavailableError(f"the TSA at {where} is not serving requests now (HTTP {reply.status_code})")
    if reply.status_code != 200:
        raise TsaRefusedError(f"the TSA at {where} rejected the request (HTTP {reply.status_code})")
    return read_response(reply.content, digest, nonce)


# --- checking a time-stamp ----------------------------------------------------------------------


@dataclass
class TimestampResult:
    """What a time-stamp proves; `time` is None unless every check passed.

    `problems` means the token is broken or is not for this data (tampering, or a mix-up);
    `untrusted` means it is intact but its TSA is not one we believe (unknown CA, revoked, not a
    TSA certificate). A verifier may ignore an untrusted time-stamp, never a broken one.
    """

    time: dt.datetime | None = None
    tsa_cert: x509.Certificate | None = None
    certificates: list[x509.Certificate] = field(default_factory=list)  # those the token carries
    problems: list[str] = field(default_factory=list)
    untrusted: list[str] = field(default_factory=list)
    gen_time: dt.datetime | None = None  # what the token says, verified or not

    @property
    def ok(self) -> bool:
        return self.time is not None and not self.problems and not self.untrusted


def _crypto_cert(cert) -> x509.Certificate:
    return trust.parse_certificate(cert.dump())


def _token_parts(token_der: bytes):
    content_info = cms.ContentInfo.load(token_der)
    if content_info["content_type"].native != "signed_data":
        raise ValueError("it is not CMS signed data")
    signed_data = content_info["content"]
    encap = signed_data["encap_content_info"]
    if encap["content_type"].native != "tst_info":
        raise ValueError("it does not hold time-stamp information (TSTInfo)")
    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        raise ValueError(f"it has {len(signer_infos)} signers where a time-stamp has one")
    return signed_data, encap["content"].contents, encap["content"].parsed, signer_infos[0]


def _find_signer(signer_info, candidates: Sequence[x509.Certificate]) -> x509.Certificate | None:
    sid = signer_info["sid"]
    for cert in candidates:
        if sid.name == "issuer_and_serial_number":
            if (sid.chosen["serial_number"].native == cert.serial_number
                    and sid.chosen["issuer"].dump() == cert.issuer.public_bytes()):
                return cert
        else:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except x509.ExtensionNotFound:
                continue
            if ski == sid.chosen.native:
                return cert
    return None


def _attribute(signed_attrs, name: str):
    for attr in signed_attrs:
        if attr["type"].native == name:
            return attr["values"][0]
    return None


def _check_signed_attributes(signer_info, econtent: bytes, signer: x509.Certificate, problems: list[str]) -> None:
    """CMS: the attributes bind the content (message digest) and name the TSA certificate (ESS)."""
    attrs = signer_info["signed_attrs"]
    if not attrs:
        problems.append("the time-stamp's signature has no signed attributes")
        return
    digest_alg = signer_info["digest_algorithm"]["algorithm"].native
    if digest_alg not in HASHES:
        problems.append(f"the time-stamp uses an unsupported digest ({digest_alg})")
        return
    content_type = _attribute(attrs, "content_type")
    if content_type is None or content_type.native != "tst_info":
        problems.append("the time-stamp's signed content type is not time-stamp information")
    digest = _attribute(attrs, "message_digest")
    if digest is None or digest.native != HASHES[digest_alg](econtent).digest():
        problems.append("the time-stamp's content was changed after the TSA signed it (message digest differs)")
    cert_der = signer.public_bytes(Encoding.DER)
    v2 = _attribute(attrs, "signing_certificate_v2")
    v1 = _attribute(attrs, "signing_certificate")
    if v2 is not None:
        ess = v2["certs"][0]
        alg = ess["hash_algorithm"]["algorithm"].native
        if alg not in HASHES or HASHES[alg](cert_der).digest() != ess["cert_hash"].native:
            problems.append("the time-stamp names another TSA certificate than the one that signed it (ESSCertIDv2)")
        elif ess["issuer_serial"].native is not None and ess["issuer_serial"]["serial_number"].native != signer.serial_number:
            problems.append("the time-stamp's ESSCertIDv2 names another certificate serial number")
    elif v1 is not None:
        if hashlib.sha1(cert_der).digest() != v1["certs"][0]["cert_hash"].native:
            problems.append("the time-stamp names another TSA certificate than the one that signed it (ESSCertID)")
    else:
        problems.append("the time-stamp does not name its TSA certificate (no ESS signing-certificate attribute)")


def _check_signature(signer_info, signer: x509.Certificate, problems: list[str]) -> None:
    # The signature covers the signed attributes encoded as a SET (tag 0x31), not as the [0]-tagged
    # field they are stored as: swap the one tag byte of the bytes as received (re-encoding is slow
    # and could change what was signed).
    tagged = signer_info["signed_attrs"].dump()
    data = b"\x31" + tagged[1:]
    signature = signer_info["signature"].native
    algo = signer_info["signature_algorithm"]
    digest_alg = signer_info["digest_algorithm"]["algorithm"].native
    key = signer.public_key()
    try:
        kind = algo.signature_algo
        hash_cls = CRYPTO_HASHES[digest_alg]
        if kind == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hash_cls())
        elif kind == "rsassa_pss" and isinstance(key, rsa.RSAPublicKey):
            params = algo["parameters"]
            pss_hash = CRYPTO_HASHES[params["hash_algorithm"]["algorithm"].native]
            key.verify(signature, data, padding.PSS(padding.MGF1(pss_hash()), params["salt_length"].native), pss_hash())
        elif kind == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hash_cls()))
        else:
            problems.append(f"the time-stamp's signature algorithm ({kind}) does not fit the TSA certificate's key")
    except InvalidSignature:
        problems.append("the time-stamp's signature does not match (the token was altered or not made by its TSA)")
    except (KeyError, ValueError) as exc:
        problems.append(f"the time-stamp's signature algorithm is not supported ({exc})")


def _tsa_certificate_problems(cert: x509.Certificate) -> list[str]:
    """RFC 3161 §2.3: the TSA certificate is for time-stamping only, and says so critically."""
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        return ["the time-stamp's signer is not a time-stamping authority (its certificate has no timeStamping usage)"]
    if list(eku.value) != [ExtendedKeyUsageOID.TIME_STAMPING] or not eku.critical:
        return ["the time-stamp's signer is not a dedicated time-stamping authority "
                "(its certificate must allow timeStamping only, as a critical extension)"]
    return []


def _judge_tsa(cert: x509.Certificate, others: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate],
               at: dt.datetime | None, crls: Iterable[bytes], ocsps: Iterable[bytes], now: dt.datetime | None) -> list[str]:
    """Problems with the TSA certificate judged at `at`, or, `at` None, as of `now` (trust.assess_now)."""
    if at is None:
        verdict = trust.assess_now(cert, list(others), anchors, now or dt.datetime.now(dt.timezone.utc),
                                   crls=crls, ocsps=ocsps)
    else:
        verdict = trust.assess_certificate(cert, list(others), anchors, at, crls=crls, ocsps=ocsps, now=now)
    if verdict.trusted:
        return []
    # trust.py words its answers for the seal certificate; here the certificate is the TSA's.
    return [p.replace("the seal certificate", "the TSA certificate").replace("the issuer cannot", "the TSA cannot")
            for p in verdict.problems]


def verify_timestamp(
    token_der: bytes,
    expected_imprint_data: bytes,
    trust_anchors: Sequence[x509.Certificate],
    *,
    extra_certs: Sequence[x509.Certificate] = (),
    crls: Iterable[bytes] = (),
    ocsps: Iterable[bytes] = (),
    now: dt.datetime | None = None,
    judged_at: dt.datetime | None | str = "own time",
) -> TimestampResult:
    """Check that `token_der` time-stamps exactly `expected_imprint_data`, signed by a trusted TSA.

    The TSA certificate is judged with the revocation data given (the seal's, for B-LT) at
    `judged_at`: a moment a later archive time-stamp proves the token existed, None for "as of now"
    (trust.assess_now), or by default the time-stamp's own time (a check of the token alone).
    `extra_certs` are certificates the seal carries besides the token's own.
    """
    result = TimestampResult()
    try:
        signed_data, econtent, info, signer_info = _token_parts(token_der)
        result.gen_time = info["gen_time"].native
        result.certificates = [_crypto_cert(c.chosen) for c in signed_data["certificates"] or []
                               if c.name == "certificate"]
        imprint_alg = info["message_imprint"]["hash_algorithm"]["algorithm"].native
        imprint = info["message_imprint"]["hashed_message"].native
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        result.problems.append(f"the time-stamp token cannot be read ({exc})"[:300])
        return result
    if imprint_alg not in HASHES:
        result.problems.append(f"the time-stamp uses an unsupported imprint digest ({imprint_alg})")
        return result
    if HASHES[imprint_alg](expected_imprint_data).digest() != imprint:
        result.problems.append("the time-stamp is for something else: its message imprint does not match the seal")
    candidates = [*result.certificates, *extra_certs]
    try:
        signer = _find_signer(signer_info, candidates)
        if signer is None:
            result.problems.append("the time-stamp's signing certificate is neither in the token nor in the seal")
            return result
        result.tsa_cert = signer
        _check_signed_attributes(signer_info, econtent, signer, result.problems)
        _check_signature(signer_info, signer, result.problems)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, UnsupportedAlgorithm) as exc:
        # asn1crypto parses lazily: a malformed inner field only fails when it is read.
        result.problems.append(f"the time-stamp token cannot be read ({type(exc).__name__}: {exc})"[:300])
    if result.problems:
        return result
    result.untrusted += _tsa_certificate_problems(signer)
    if not result.untrusted:
        others = [c for c in candidates if c != signer]
        at = result.gen_time if judged_at == "own time" else judged_at
        result.untrusted += _judge_tsa(signer, others, trust_anchors, at, crls, ocsps, now)
    if not result.untrusted:
        result.time = result.gen_time
    return result


def token_signer(token_der: bytes, extra_certs: Sequence[x509.Certificate] = ()) -> x509.Certificate | None:
    """The TSA certificate of a token (among its own certificates and `extra_certs`), unverified: for
    scheduling a renewal before it expires, never for a verdict. None when it cannot be told."""
    try:
        signed_data, _, _, signer_info = _token_parts(token_der)
        own = [_crypto_cert(c.chosen) for c in signed_data["certificates"] or [] if c.name == "certificate"]
        return _find_signer(signer_info, [*own, *extra_certs])
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError):
        return None


def token_time(token_der: bytes) -> dt.datetime:
    """The time a token claims, unverified: for listing and scheduling, never for a verdict."""
    return _token_parts(token_der)[2]["gen_time"].native
