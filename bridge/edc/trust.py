"""Is the seal certificate one we trust, and was it good when the credential was sealed?

The signature check proves the document is intact; this module decides whether the key that made
it belongs to someone we trust. Chain building and revocation are left to pyhanko-certvalidator
(never hand-roll path validation); this module only frames the question for a credential seal:
which anchors, at which moment (the time of sealing, not now), with which revocation data (what
the seal itself carries, for B-LT; nothing is fetched from the network), and it answers in plain words.
"""
from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    InvalidCertificateError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
)

from bridge.edc.report import iso

if TYPE_CHECKING:
    from bridge.edc.report import SealCheck, VerificationReport

# The seal certificate must allow one of these (eSeal certificates carry nonRepudiation).
SEAL_KEY_USAGES = ("digital_signature", "content_commitment")


@dataclass
class TrustResult:
    trusted: bool
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    expired_now: bool = False
    not_after: dt.datetime | None = None


def load_anchors(path: str | Path | None) -> list[x509.Certificate]:
    """The CA certificates of a PEM bundle; an empty list when there is none configured."""
    if not path:
        return []
    data = Path(path).read_bytes()
    return x509.load_pem_x509_certificates(data)


def parse_certificate(der: bytes) -> x509.Certificate:
    """A DER certificate both cryptography and asn1crypto (pyhanko's parser) read in full; else ValueError.

    The two parsers differ (cryptography takes any string type in a name, asn1crypto does not), and
    asn1crypto reads lazily: a certificate only one of them accepts would fail later, deep inside
    path validation. Reading it whole here lets the caller say which certificate is malformed.
    """
    try:
        cert = x509.load_der_x509_certificate(der)
    except x509.InvalidVersion as exc:  # not a ValueError: a version field that is not v1-v3
        raise ValueError(f"not a well-formed X.509 certificate (version {exc.parsed_version})") from None
    try:
        asn1_x509.Certificate.load(der, strict=True).native
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise ValueError(f"not a well-formed X.509 certificate ({type(exc).__name__})") from None
    return cert


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


def describe(cert: x509.Certificate) -> str:
    """The certificate's subject as a person reads it (RFC 4514, most specific first)."""
    return cert.subject.rfc4514_string()


def _key_usage_problem(cert: x509.Certificate) -> str | None:
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    if ku.digital_signature or ku.content_commitment:
        return None
    return "the seal certificate is not allowed to make signatures (its key usage forbids it)"


def assess_certificate(
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    at: dt.datetime,
    *,
    crls: Iterable[bytes] = (),
    ocsps: Iterable[bytes] = (),
    now: dt.datetime | None = None,
) -> TrustResult:
    """Validate `cert` (with the `chain` the seal carries) against `anchors` as of `at`.

    `at` is the time of sealing: a time-stamp's time when one was verified, else the claimed
    signing time. `crls`/`ocsps` are DER revocation data carried by the seal; without any, a
    revocation check is skipped and said so in the notes.
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    result = TrustResult(trusted=False, not_after=cert.not_valid_after_utc)
    result.expired_now = cert.not_valid_after_utc < now
    if result.expired_now:
        result.notes.append(
            f"the seal certificate expired on {cert.not_valid_after_utc.date().isoformat()}"
        )
    if not anchors:
        result.problems.append("no trust anchors are configured, so the issuer cannot be confirmed")
        return result
    crls, ocsps = list(crls), list(ocsps)
    when = at.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    try:
        context = ValidationContext(
            trust_roots=[_asn1(a) for a in anchors],
            other_certs=[_asn1(c) for c in chain],
            moment=at,
            allow_fetching=False,
            crls=crls,
            ocsps=ocsps,
            revocation_mode="hard-fail" if (crls or ocsps) else "soft-fail",
            # A B-LT seal's CRL/OCSP is usually issued after the time-stamp (EN 319 102-1 wants exactly
            # that: it proves the certificate was not revoked *by then*); without this, pyhanko calls it
            # "too recent" for a judgement at the time of sealing. Revocation dates are still compared.
            retroactive_revinfo=True,
        )
        validator = CertificateValidator(_asn1(cert), validation_context=context)
        asyncio.run(validator.async_validate_path())
    except RevokedError:
        result.problems.append(f"the seal certificate had been revoked by {when}")
        return result
    except ExpiredError:
        result.problems.append(
            f"the seal certificate was not valid on {when}: it expired on "
            f"{cert.not_valid_after_utc.date().isoformat()}"
        )
        return result
    except NotYetValidError:
        result.problems.append(f"the seal certificate was not yet valid on {when}")
        return result
    except PathBuildingError:
        result.problems.append(
            "the seal certificate was not issued by any of the trusted certificate authorities "
            f"(it was issued by {cert.issuer.rfc4514_string()})"
        )
        return result
    except (PathValidationError, InvalidCertificateError) as exc:
        if "signature" in str(exc) and "could not be verified" in str(exc):
            result.problems.append(
                "the seal certificate was not issued by any of the trusted certificate authorities "
                f"(a trusted authority named {cert.issuer.rfc4514_string()} exists, but it did not sign this "
                "certificate: a look-alike)"
            )
        else:
            result.problems.append(f"the seal certificate's chain is not valid: {exc}")
        return result
    except Exception as exc:  # noqa: BLE001 - see below
        # Certificates and revocation data come from the seal, which anyone can alter outside its
        # signature; the validator's ASN.1 parsers raise whatever they raise on such input. Each
        # value was read beforehand (bridge/edc/ltv.py), so this is a last line, and it is a verdict.
        result.problems.append(f"the seal certificate's chain could not be checked: the certificates or revocation "
                               f"data it carries are malformed ({type(exc).__name__})")
        return result
    usage = _key_usage_problem(cert)
    if usage:
        result.problems.append(usage)
        return result
    if not (crls or ocsps):
        result.notes.append("no revocation data is carried by the seal; revocation was not checked")
    result.trusted = True
    return result


def assess_now(cert: x509.Certificate, chain: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate],
               now: dt.datetime, *, crls: Iterable[bytes] = (), ocsps: Iterable[bytes] = ()) -> TrustResult:
    """Is `cert` good now, as far as a verifier that fetches nothing can tell?

    For the newest time-stamp of a seal, which nothing later vouches for. Revocation data a seal
    carries was issued when the seal was made or last renewed, so it is past its next update by
    now; the chain is judged at the newest moment that data speaks for (a revocation it lists
    before then still counts), and the certificate must also be within its validity period now.
    """
    crls, ocsps = list(crls), list(ocsps)
    latest = _newest_revocation_time(crls, ocsps)
    at = min(now, latest) if latest is not None else now
    result = assess_certificate(cert, chain, anchors, at, crls=crls, ocsps=ocsps, now=now)
    if result.trusted and not (cert.not_valid_before_utc <= now <= cert.not_valid_after_utc):
        result.trusted = False
        result.problems.append(f"the seal certificate is not valid now: it expired on "
                               f"{cert.not_valid_after_utc.date().isoformat()}")
    elif result.trusted and at < now:
        result.notes.append(f"revocation as of {at.date().isoformat()}, the newest revocation data carried "
                            "(nothing is fetched)")
    return result


def _newest_revocation_time(crls: Sequence[bytes], ocsps: Sequence[bytes]) -> dt.datetime | None:
    """When the newest of the revocation data was issued (CRL thisUpdate, OCSP producedAt)."""
    from cryptography.x509 import ocsp as crypto_ocsp

    times = []
    for der in crls:
        try:
            times.append(x509.load_der_x509_crl(der).last_update_utc)
        except (ValueError, x509.InvalidVersion):
            continue
    for der in ocsps:
        try:
            times.append(crypto_ocsp.load_der_ocsp_response(der).produced_at_utc)
        except ValueError:
            continue
    return max(times) if times else None


def judge_seal(report: "VerificationReport", check: "SealCheck", anchors: Sequence[x509.Certificate],
               now: dt.datetime) -> None:
    """Was the seal made by a certificate we trust, while it was good? The one rule, for every format.

    The certificate is judged at the time of sealing only when a verified time-stamp proves that
    time (check.timestamp_time); a claimed signing time is the sealer's own word: once the
    certificate has expired or been revoked, nothing proves the seal was made before that, so it is
    judged as of `now`. Fills the report's signer, sealed_at, trusted, problems and notes, and
    what later decisions need (seal_certificate, judged_at: the qualified status).
    """
    cert = check.certificate
    report.signer = describe(cert)
    report.sealed_at = iso(check.timestamp_time or check.signing_time)
    judged_at = check.timestamp_time or now
    report.seal_certificate, report.judged_at = cert, judged_at
    if check.timestamp_time is None:
        report.notes.append("the seal has no time-stamp that could be verified, so its certificate is judged as of now")
        claimed = check.signing_time
        if claimed and not (cert.not_valid_before_utc <= claimed <= cert.not_valid_after_utc):
            report.problem("the seal's claimed signing time lies outside its certificate's validity period")
    verdict = assess_certificate(cert, check.chain, anchors, judged_at, crls=check.crls, ocsps=check.ocsps, now=now)
    report.trusted = verdict.trusted
    if verdict.trusted and check.timestamp_time is not None:
        report.notes.append("valid at the time of sealing (as proven by the time-stamp)")
    report.problems.extend(verdict.problems)
    if verdict.expired_now and check.timestamp_time is None and not any("expired" in p for p in report.problems):
        report.problem(f"the seal certificate expired on {cert.not_valid_after_utc.date().isoformat()}, and no "
                       "verified time-stamp proves the seal was made before then")
        # the problem says it all; the note repeating the date would only be noise
        verdict.notes = [n for n in verdict.notes if not n.startswith("the seal certificate expired on")]
    report.notes.extend(verdict.notes)
