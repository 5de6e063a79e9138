"""Long-term seals, one home for both formats: the levels, the TSA client, revocation sources, the
validation material a seal embeds, the level policy, and the checks of time-stamps.

A B-B seal is only as good as its certificate today: once the certificate expires or is revoked,
nothing proves the seal was made while it was still good. B-T adds a TSA's time-stamp over the
signature value, so the verifier can judge the certificate at that moment; B-LT also embeds the
certificates and the revocation data (CRLs/OCSP responses) that vouched for them, so the judgement
needs nothing from the network, years later.

What is format-specific (where a time-stamp goes, what it covers, how values are encoded) lives
with each format: bridge/edc/xades_ltv.py (XAdES: SignatureTimeStamp, CertificateValues,
RevocationValues) and bridge/edc/jades_ltv.py (JAdES: etsiU sigTst, xVals, rVals). Each offers
a `LongTermSeal` (below); everything here works on that, so the policy is written once. This module
imports neither format.
"""
from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from typing import Mapping, Protocol, Sequence

import requests
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

from bridge.edc import timestamps, trust

LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")
POLICIES = ("wait", "seal-then-stamp")
# How far the sealer's clock may run ahead of the TSA's before a claimed signing time is a lie.
CLOCK_SKEW = dt.timedelta(minutes=5)
# What a verifier here reads at most of a seal's unsigned properties. Each time-stamp costs a CMS
# check and a certificate path validation (~15-35 ms), so a seal padded with hundreds of copies
# would hold a verifier for seconds; real seals carry one signature time-stamp, a handful of
# certificates and revocation values, and one archive time-stamp per renewal (every few years).
MAX_TIME_STAMPS = 8
MAX_ARCHIVE_TIME_STAMPS = 32
MAX_VALUES = 100


class LtvConfigError(ValueError):
    """A long-term seal setting is missing or wrong; the message names the variable."""


class RevocationUnavailableError(Exception):
    """Revocation data for a certificate could not be obtained (B-LT cannot be completed now)."""

    retryable = True


class TimestampPending(Exception):
    """The seal was made at B-B because the TSA did not answer, under policy `seal-then-stamp`.

    An exception on purpose: a caller that ignores it cannot store a B-B credential believing it
    is B-T. `sealed` is the B-B document to store; record it as waiting for `ltv.complete`.
    """

    def __init__(self, sealed: bytes, reason: str, wanted_level: str):
        self.sealed = sealed
        self.reason = reason
        self.wanted_level = wanted_level
        super().__init__(f"sealed at B-B; time-stamp pending ({reason})")


# --- configuration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TsaClient:
    """Where and how to ask for time-stamps (EDC_TSA_URL, EDC_TSA_TIMEOUT, EDC_TSA_HASH)."""

    url: str
    timeout: float = 10.0
    hash_alg: str = "sha256"

    def stamp(self, data: bytes) -> bytes:
        digest = timestamps.HASHES[self.hash_alg](data).digest()
        return timestamps.request_timestamp(self.url, digest, self.hash_alg, timeout=self.timeout)

    def __repr__(self) -> str:  # the URL may carry credentials; never show them
        return f"TsaClient({timestamps.redact_url(self.url)!r})"


@dataclass(frozen=True)
class SealLevelSettings:
    """The level to seal at and what to do when the TSA is down (EDC_SEAL_LEVEL, EDC_TSA_POLICY).

    Built from the configuration by `parse` (bridge/settings.py hands it the environment's values);
    this module reads no environment itself.
    """

    level: str = "B-B"
    tsa: TsaClient | None = None
    policy: str = "wait"

    @classmethod
    def parse(cls, values: Mapping[str, str]) -> "SealLevelSettings":
        """From EDC_TSA_URL, EDC_TSA_TIMEOUT, EDC_TSA_HASH, EDC_SEAL_LEVEL and EDC_TSA_POLICY in `values`."""
        url = (values.get("EDC_TSA_URL") or "").strip()
        tsa = None
        if url:
            raw_timeout = values.get("EDC_TSA_TIMEOUT") or "10"
            try:
                timeout = float(raw_timeout)
            except ValueError:
                raise LtvConfigError(f"EDC_TSA_TIMEOUT must be a number of seconds, not {raw_timeout!r}") from None
            hash_alg = values.get("EDC_TSA_HASH") or "sha256"
            if hash_alg not in timestamps.HASHES:
                raise LtvConfigError(f"EDC_TSA_HASH must be one of {', '.join(timestamps.HASHES)}, not {hash_alg!r}")
            tsa = TsaClient(url, timeout, hash_alg)
        level = (values.get("EDC_SEAL_LEVEL") or ("B-T" if tsa else "B-B")).strip().upper()
        policy = (values.get("EDC_TSA_POLICY") or "wait").strip().lower()
        settings = cls(level=level, tsa=tsa, policy=policy)
        settings.validate()
        return settings

    def issue_kwargs(self) -> dict:
        """Keyword arguments for issuer.issue_edc_xml and jades.seal_jades: configuration in one line."""
        return {"tsa": self.tsa, "level": self.level, "tsa_policy": self.policy}

    def with_policy(self, policy: str) -> "SealLevelSettings":
        return SealLevelSettings(level=self.level, tsa=self.tsa, policy=policy)

    def validate(self) -> None:
        if self.level not in LEVELS:
            raise LtvConfigError(f"EDC_SEAL_LEVEL must be one of {', '.join(LEVELS)}, not {self.level!r}")
        if self.policy not in POLICIES:
            raise LtvConfigError(f"EDC_TSA_POLICY must be one of {', '.join(POLICIES)}, not {self.policy!r}")
        if self.level != "B-B" and self.tsa is None:
            raise LtvConfigError(f"EDC_SEAL_LEVEL={self.level} needs a time-stamping authority: set EDC_TSA_URL")


# --- revocation data ----------------------------------------------------------------------------


@dataclass
class RevocationData:
    crls: list[bytes] = field(default_factory=list)
    ocsps: list[bytes] = field(default_factory=list)


class RevocationSource(Protocol):
    """Gives the revocation data (DER) that says whether `cert` was revoked, as `issuer` publishes it."""

    def collect(self, cert: x509.Certificate, issuer: x509.Certificate) -> RevocationData: ...


@dataclass
class StaticRevocationSource:
    """Revocation data handed over directly (tests, or a CRL a CA delivered out of band)."""

    crls: list[bytes] = field(default_factory=list)
    ocsps: list[bytes] = field(default_factory=list)

    def collect(self, cert: x509.Certificate, issuer: x509.Certificate) -> RevocationData:
        mine = [c for c in self.crls if x509.load_der_x509_crl(c).issuer == issuer.subject]
        return RevocationData(crls=mine, ocsps=list(self.ocsps))


@dataclass
class CrlDistributionPointSource:
    """Fetches each certificate's CRL from the HTTP distribution point its certificate names.

    A fetched CRL is reused until its nextUpdate or for `max_age` seconds, whichever comes first:
    every credential of a run names the same CA, and a CA publishes a CRL for a period, not per request.
    """

    timeout: float = 10.0
    max_age: float = 3600.0
    _cache: dict = field(default_factory=dict, repr=False)

    def _cached(self, url: str) -> bytes | None:
        entry = self._cache.get(url)
        if entry is None:
            return None
        data, fetched, next_update = entry
        now = dt.datetime.now(dt.timezone.utc)
        if (now - fetched).total_seconds() > self.max_age or (next_update and now >= next_update):
            self._cache.pop(url, None)  # another thread may have dropped it already
            return None
        return data

    def collect(self, cert: x509.Certificate, issuer: x509.Certificate) -> RevocationData:
        try:
            points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        except x509.ExtensionNotFound:
            raise RevocationUnavailableError(
                f"the certificate {trust.describe(cert)} names no CRL distribution point") from None
        urls = [n.value for p in points for n in (p.full_name or [])
                if isinstance(n, x509.UniformResourceIdentifier) and n.value.startswith(("http://", "https://"))]
        problems = []
        for url in urls:
            cached = self._cached(url)
            if cached is not None:
                return RevocationData(crls=[cached])
            try:
                reply = requests.get(url, timeout=self.timeout)
                reply.raise_for_status()
                crl = x509.load_der_x509_crl(reply.content)
            except (requests.RequestException, ValueError, x509.InvalidVersion) as exc:
                problems.append(f"{timestamps.redact_url(url)}: {type(exc).__name__}")
                continue
            if crl.issuer != issuer.subject or not crl.is_signature_valid(issuer.public_key()):
                problems.append(f"{timestamps.redact_url(url)}: the CRL is not signed by {trust.describe(issuer)}")
                continue
            self._cache[url] = (reply.content, dt.datetime.now(dt.timezone.utc), crl.next_update_utc)
            return RevocationData(crls=[reply.content])
        raise RevocationUnavailableError(
            f"no CRL could be fetched for {trust.describe(cert)} ({'; '.join(problems) or 'no HTTP URL'})")


# One fetcher for the process, so its CRL cache serves every credential sealed at B-LT.
DEFAULT_SOURCE = CrlDistributionPointSource()


# --- reading what a seal carries (both formats) -------------------------------------------------
# Unsigned properties are outside the seal: anyone can change them without breaking the signature.
# Each value is read here, strictly and on its own, so a broken one becomes one sentence naming it
# (and the verdict "not valid") instead of an exception deep inside the certificate validator.


def too_many(items: Sequence, limit: int, what: str, problems: list[str]) -> bool:
    """Whether a seal carries more `what` than a verifier here reads (then it says so, in `problems`)."""
    if len(items) <= limit:
        return False
    problems.append(f"the seal carries {len(items)} {what}, more than the {limit} this verifier reads; "
                    "it cannot be confirmed")
    return True


def decode_base64(text: object, what: str, problems: list[str]) -> bytes | None:
    """The bytes of a base64 value (whitespace ignored), or None with a problem naming `what`."""
    if not isinstance(text, str):
        problems.append(f"{what} is not base64 text")
        return None
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except ValueError:
        problems.append(f"{what} is not valid base64")
        return None


def read_certificate(der: bytes, what: str, problems: list[str]) -> x509.Certificate | None:
    """A DER X.509 certificate, or None with a problem naming `what` (a certificate value)."""
    try:
        return trust.parse_certificate(der)
    except ValueError:
        problems.append(f"{what} cannot be read: it is not a DER X.509 certificate")
        return None


def _reads_whole(parse) -> bool:
    """Whether `parse()` reads a value to its end (cryptography's and asn1crypto's parsers both, as
    pyhanko-certvalidator uses the second and reads lazily, failing late on a malformed inner field)."""
    try:
        parse()
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, x509.InvalidVersion):
        return False  # InvalidVersion (a version field outside v1-v3) is no ValueError
    return True


def read_revocation_values(crls: Sequence[bytes], ocsps: Sequence[bytes], where: str,
                           problems: list[str], notes: list[str]) -> RevocationData:
    """The CRLs and OCSP responses of a seal that can be read; each one that cannot is a problem.

    `where` names the container (e.g. "RevocationValues"). A CRL in PEM armour (the EU's own B-LT
    sample carries one) is read and noted; XAdES and JAdES ask for DER. An OCSP response that is
    not "successful" carries no status, so it is refused too.
    """
    readable = RevocationData()
    if too_many([*crls, *ocsps], MAX_VALUES, f"revocation values in {where}", problems):
        return readable
    for n, der in enumerate(crls, start=1):
        what = f"revocation value {n} of the CRLs in {where}"
        if der.lstrip().startswith(b"-----BEGIN"):
            try:
                der = x509.load_pem_x509_crl(der).public_bytes(Encoding.DER)
            except (ValueError, x509.InvalidVersion):
                problems.append(f"{what} cannot be read: it is PEM text, but not a CRL")
                continue
            notes.append(f"{what} is a PEM-armoured CRL where DER is expected; it was read anyway")
        if not _reads_whole(lambda: (x509.load_der_x509_crl(der), asn1_crl.CertificateList.load(der, strict=True).native)):
            problems.append(f"{what} cannot be read: it is not a DER certificate revocation list")
            continue
        readable.crls.append(der)
    for n, der in enumerate(ocsps, start=1):
        what = f"revocation value {n} of the OCSP responses in {where}"
        if not _reads_whole(lambda: (asn1_ocsp.OCSPResponse.load(der, strict=True).native, ocsp.load_der_ocsp_response(der))):
            problems.append(f"{what} cannot be read: it is not a DER OCSP response")
            continue
        response = ocsp.load_der_ocsp_response(der)
        if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            problems.append(f"{what} carries no certificate status (the responder said "
                            f"{response.response_status.name.lower()})")
            continue
        readable.ocsps.append(der)
    return readable


# --- the validation material a B-LT seal embeds ----------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


def _issuer_of(cert: x509.Certificate, pool: Sequence[x509.Certificate]) -> x509.Certificate | None:
    for candidate in pool:
        if candidate.subject == cert.issuer and candidate != cert:
            try:
                cert.verify_directly_issued_by(candidate)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return candidate
    return None


def _path(cert: x509.Certificate, pool: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """`cert` and its issuers as far as `pool` reaches (the anchor included when it is in the pool)."""
    path = [cert]
    while len(path) < 10:
        issuer = _issuer_of(path[-1], pool)
        if issuer is None or issuer in path:
            break
        path.append(issuer)
    return path


def _collect_revocation(path: Sequence[x509.Certificate], source: RevocationSource, into: RevocationData) -> None:
    """Add to `into` what `source` says about each certificate of `path` but the last (its anchor), each once."""
    for cert, issuer in zip(path, path[1:]):
        data = source.collect(cert, issuer)
        into.crls += [c for c in data.crls if c not in into.crls]
        into.ocsps += [o for o in data.ocsps if o not in into.ocsps]


def validation_material(seal_cert: x509.Certificate, carried: Sequence[x509.Certificate], token: bytes,
                        stamped: bytes, revocation_source: RevocationSource,
                        anchors: Sequence[x509.Certificate] = ()) -> tuple[list[x509.Certificate], RevocationData]:
    """The certificates and revocation data a B-LT seal embeds, whatever its format.

    That is the seal certificate's and the TSA certificate's chains (as far as the seal, the token
    and `anchors` reach) and, for every certificate with an issuer in them, what `revocation_source`
    says about it. Raises RevocationUnavailableError when nothing could be had.
    """
    # Parsed here only to find the TSA certificate; trust is the verifier's business.
    parsed = timestamps.verify_timestamp(token, stamped, [], extra_certs=[*carried, *anchors])
    if parsed.tsa_cert is None:
        raise ValueError("the signature time-stamp's TSA certificate cannot be found: " + "; ".join(parsed.problems))
    pool = [*carried, *parsed.certificates, *anchors]
    paths = (_path(seal_cert, pool), _path(parsed.tsa_cert, pool))
    chain: list[x509.Certificate] = []
    revocation = RevocationData()
    for path in paths:
        chain += [c for c in path if c not in chain]
        _collect_revocation(path, revocation_source, revocation)
    if not (revocation.crls or revocation.ocsps):
        raise RevocationUnavailableError("no revocation data was obtained for the seal's certificate chain")
    return chain, revocation




# --- the level policy (both formats) ----------------------------------------------------------------


class LongTermSeal(Protocol):
    """One sealed document's unsigned properties, as its format keeps them (xades_ltv, jades_ltv)."""

    def signature_timestamp(self) -> bytes | None:
        """The first signature time-stamp token (DER), or None at B-B."""

    def add_signature_timestamp(self, tsa: TsaClient) -> dt.datetime:
        """Add a signature time-stamp (B-T); one already there is kept. Returns its time."""

    def add_validation_data(self, revocation_source: RevocationSource, anchors: Sequence[x509.Certificate]) -> None:
        """Embed the seal's and the TSA's chains and their revocation data (B-T -> B-LT)."""

    def has_validation_data(self) -> bool:
        """Whether the certificate and revocation values of B-LT are there."""

    def archive_timestamps(self) -> list[bytes]:
        """The archive time-stamp tokens (DER), oldest first."""

    def add_archive_timestamp(self, tsa: TsaClient, revocation_source: RevocationSource,
                              anchors: Sequence[x509.Certificate]) -> dt.datetime:
        """Add an archive time-stamp over the seal and everything it carries (B-LT -> B-LTA, or a
        renewal); the newest archive time-stamp's own validation data first. Returns its time."""

    def carried_certificates(self) -> list[x509.Certificate]:
        """Every certificate the seal carries (to find a TSA certificate for scheduling)."""

    def render(self) -> bytes:
        """The document's bytes."""


def raise_to_level(seal: LongTermSeal, settings: SealLevelSettings,
                   revocation_source: RevocationSource | None = None,
                   anchors: Sequence[x509.Certificate] = ()) -> str | None:
    """Bring a freshly sealed B-B `seal` to `settings.level`; returns why a time-stamp is pending, or None.

    Policy `wait`: a TSA that does not answer raises TsaUnavailableError (the caller keeps the
    issuance queued and retries; nothing sealed is kept). Policy `seal-then-stamp`: the B-B seal
    stands and the reason is returned, for the caller to record and complete later (`complete`).
    `anchors` complete chains the seal does not carry in full.
    """
    settings.validate()
    if settings.level == "B-B":
        return None
    try:
        seal.add_signature_timestamp(settings.tsa)
    except timestamps.TsaUnavailableError as exc:
        if settings.policy == "wait":
            raise
        return str(exc)
    if settings.level in ("B-LT", "B-LTA") and not seal.has_validation_data():
        seal.add_validation_data(revocation_source or DEFAULT_SOURCE, anchors)
    if settings.level == "B-LTA" and not seal.archive_timestamps():
        seal.add_archive_timestamp(settings.tsa, revocation_source or DEFAULT_SOURCE, anchors)
    return None


def complete(seal: LongTermSeal, settings: SealLevelSettings, revocation_source: RevocationSource | None = None,
             anchors: Sequence[x509.Certificate] = ()) -> bytes:
    """Add the missing time-stamp (and B-LT values) to a stored B-B seal; returns the new bytes.

    The time-stamp proves the seal existed when it was *added*, not when the seal was made: a
    verifier's `sealed_at` for such a credential is the later time. A TSA still down raises
    TsaUnavailableError; the stored credential stays as it was.
    """
    raise_to_level(seal, settings.with_policy("wait"), revocation_source, anchors)
    return seal.render()


def newest_timestamp(seal: LongTermSeal) -> bytes | None:
    """The seal's newest time-stamp token: the last archive time-stamp, else the signature time-stamp."""
    archives = seal.archive_timestamps()
    return archives[-1] if archives else seal.signature_timestamp()


def proof_expires(seal: LongTermSeal) -> dt.datetime | None:
    """When the TSA certificate of the seal's newest time-stamp expires: after that, nothing vouches
    for the seal any more unless a new archive time-stamp was added before. None without a time-stamp."""
    token = newest_timestamp(seal)
    if token is None:
        return None
    signer = timestamps.token_signer(token, seal.carried_certificates())
    return signer.not_valid_after_utc if signer is not None else None


def renewal_due(seal: LongTermSeal, now: dt.datetime, horizon: dt.timedelta) -> bool:
    """Whether the newest time-stamp's TSA certificate expires within `horizon` of `now`."""
    expires = proof_expires(seal)
    return expires is not None and expires - horizon <= now


def renew(seal: LongTermSeal, tsa: TsaClient, revocation_source: RevocationSource | None = None,
          anchors: Sequence[x509.Certificate] = ()) -> bytes:
    """Add a new archive time-stamp (B-LTA) so the seal stays verifiable past its newest TSA
    certificate; a seal still lacking B-LT values gets them first. Returns the new bytes; the old
    ones stay valid as they were (the learner's copy is not touched, and still verifies)."""
    if seal.signature_timestamp() is None:
        raise ValueError("a seal without a signature time-stamp cannot be archived (complete it first)")
    source = revocation_source or DEFAULT_SOURCE
    if not seal.has_validation_data():
        seal.add_validation_data(source, anchors)
    seal.add_archive_timestamp(tsa, source, anchors)
    return seal.render()


def archive_validation_material(token: bytes, carried: Sequence[x509.Certificate],
                                revocation_source: RevocationSource,
                                anchors: Sequence[x509.Certificate] = ()) -> tuple[list[x509.Certificate], RevocationData]:
    """The chain and revocation data of an archive time-stamp's TSA, to embed before the next one
    covers them (XAdES TimeStampValidationData, JAdES tstVd). Certificates already carried are left out."""
    tsa_cert = timestamps.token_signer(token, [*carried, *anchors])
    if tsa_cert is None:
        raise ValueError("the archive time-stamp's TSA certificate cannot be found")
    pool = [*carried, *anchors, *timestamps.verify_timestamp(token, b"", [], extra_certs=carried).certificates]
    path = _path(tsa_cert, pool)
    revocation = RevocationData()
    _collect_revocation(path, revocation_source, revocation)
    if not (revocation.crls or revocation.ocsps):
        raise RevocationUnavailableError("no revocation data was obtained for the archive time-stamp's TSA")
    return [c for c in path if c not in carried], revocation


# --- checking time-stamps (both formats) -----------------------------------------------------------


def accept_signature_timestamp(token: bytes, stamped: bytes, check, anchors: Sequence[x509.Certificate],
                               certs: Sequence[x509.Certificate], now: dt.datetime | None,
                               proven_at: dt.datetime | None = None) -> None:
    """Verify one signature time-stamp token over `stamped`; keep the earliest verified time on `check`.

    `check` is a report.SealCheck. A broken time-stamp, or one for other data, is a problem; one
    from a TSA we do not trust is set aside with a note (the seal is then judged as of now, as a
    B-B one). The TSA certificate is judged with the revocation data the seal carries, at
    `proven_at` (when an archive time-stamp proves the token existed) or else as of now.
    """
    result = timestamps.verify_timestamp(token, stamped, anchors, extra_certs=certs, crls=check.crls,
                                         ocsps=check.ocsps, now=now, judged_at=proven_at)
    if result.problems:
        check.problems.extend(f"time-stamp: {p}" for p in result.problems)
        return
    if result.untrusted:
        # Intact but from a TSA we do not believe: as if there were none (the seal is judged now).
        check.notes.append("the seal's time-stamp was not used: " + "; ".join(result.untrusted))
        return
    if check.timestamp_time is None or result.time < check.timestamp_time:
        check.timestamp_time = result.time
        check.notes.append(f"the seal was time-stamped at {result.time.isoformat()} by "
                           f"{trust.describe(result.tsa_cert)}")


def check_archive_timestamps(stamps: Sequence[tuple[bytes, bytes]], check, anchors: Sequence[x509.Certificate],
                             now: dt.datetime | None) -> dt.datetime | None:
    """Verify the archive time-stamps, each (token, the octets it must cover), oldest first; returns
    the earliest moment they prove the seal and its values existed (None: none proves anything).

    A time-stamp's TSA certificate need only be good when a later time-stamp proves the token
    existed, so the chain is walked from the newest, judged as of now, backwards: each one
    believed proves that everything before it existed at its time, and the next older one is
    judged then (ETSI EN 319 102-1, proofs of existence). A broken or altered one is a problem;
    one from a TSA not believed then is set aside, and breaks the chain there.
    """
    if not stamps or too_many(stamps, MAX_ARCHIVE_TIME_STAMPS, "archive time-stamps", check.problems):
        return None
    pool = [check.certificate, *check.chain] if check.certificate else list(check.chain)
    proven_at: dt.datetime | None = None  # None: as of now
    for n in range(len(stamps), 0, -1):
        token, covered = stamps[n - 1]
        result = timestamps.verify_timestamp(token, covered, anchors, extra_certs=pool, crls=check.crls,
                                             ocsps=check.ocsps, now=now, judged_at=proven_at)
        if result.problems:
            check.problems.extend(f"archive time-stamp {n}: {p}" for p in result.problems)
            continue
        if result.untrusted:
            check.notes.append(f"archive time-stamp {n} was not used: " + "; ".join(result.untrusted))
            continue
        if proven_at is not None and result.time > proven_at:
            check.problems.append(f"archive time-stamp {n} claims a time ({result.time.isoformat()}) after the "
                                  f"archive time-stamp that covers it ({proven_at.isoformat()})")
            continue
        proven_at = result.time
        check.notes.append(f"archive time-stamp {n} proves the seal and its values existed at "
                           f"{result.time.isoformat()} ({trust.describe(result.tsa_cert)})")
    return proven_at


def check_signature_timestamps(stamps: Sequence[tuple[bytes, bytes]], check, anchors: Sequence[x509.Certificate],
                               now: dt.datetime | None, proven_at: dt.datetime | None = None) -> None:
    """Verify a seal's signature time-stamps, each (token, the octets it must cover), whatever the format.

    With several, the earliest verified one counts; more than MAX_TIME_STAMPS are refused unread.
    `proven_at`: when archive time-stamps prove the tokens existed (their TSA is judged then);
    None: as of now. Then a claimed signing time after the time-stamp is a problem (the TSA saw the
    signature value then; a seal cannot have been made after it).
    """
    if not stamps or too_many(stamps, MAX_TIME_STAMPS, "signature time-stamps", check.problems):
        return
    pool = [check.certificate, *check.chain] if check.certificate else list(check.chain)
    for token, stamped in stamps:
        accept_signature_timestamp(token, stamped, check, anchors, pool, now, proven_at)
    claimed = check.signing_time
    if claimed and check.timestamp_time and claimed > check.timestamp_time + CLOCK_SKEW:
        check.problems.append(f"the seal claims to have been made at {claimed.isoformat()}, after its own "
                              f"time-stamp ({check.timestamp_time.isoformat()})")


def check_time_stamps(signature_stamps: Sequence[tuple[bytes, bytes]], archive_stamps: Sequence[tuple[bytes, bytes]],
                      check, anchors: Sequence[x509.Certificate], now: dt.datetime | None) -> None:
    """All of a seal's time-stamps, both formats: the archive chain first, then the signature time-stamps
    judged at the moment it proves (or now)."""
    proven_at = check_archive_timestamps(archive_stamps, check, anchors, now)
    check_signature_timestamps(signature_stamps, check, anchors, now, proven_at)
