"""Long-term seals, XAdES and JAdES: B-T (a signature time-stamp) and B-LT (certificate and revocation values).

A B-B seal is only as good as its certificate today: once the certificate expires or is revoked,
nothing proves the seal was made while it was still good. B-T adds a TSA's time-stamp over the
signature value, so the verifier can judge the certificate at that moment; B-LT also embeds the
certificates and the revocation data (CRLs/OCSP responses) that vouched for them, so the judgement
needs nothing from the network, years later.

Where things go follows the EU's own B-LT sample (DSS): in xades:UnsignedSignatureProperties, a
SignatureTimeStamp (ds:CanonicalizationMethod + EncapsulatedTimeStamp), then CertificateValues and
RevocationValues (CRLValues, OCSPValues). Unsigned properties are outside the signed data, so adding
them later does not disturb the seal; that is what makes "seal now, time-stamp later" possible.
The JAdES counterparts (etsiU sigTst, xVals, rVals) are at the end; the policy, the configuration,
the revocation sources and the time-stamp check are shared.
"""
from __future__ import annotations

import base64
import datetime as dt
import os
import uuid
from dataclasses import dataclass, field
from typing import Protocol, Sequence

import requests
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from lxml import etree

from bridge.edc import timestamps, trust
from bridge.edc.xades import C14N, DS_NS, EXC_C14N, NS, XADES_NS, XadesCheck

LEVELS = ("B-B", "B-T", "B-LT")
POLICIES = ("wait", "seal-then-stamp")
# XAdES: without a CanonicalizationMethod in the time-stamp, inclusive c14n is meant.
DEFAULT_TS_C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
# How far the sealer's clock may run ahead of the TSA's before a claimed signing time is a lie.
CLOCK_SKEW = dt.timedelta(minutes=5)
# What a verifier here reads at most of a seal's unsigned properties. Each time-stamp costs a CMS
# check and a certificate path validation (~15-35 ms), so a seal padded with hundreds of copies
# would hold a verifier for seconds; real seals carry one signature time-stamp, a handful of
# certificates and revocation values, and one archive time-stamp per renewal (every few years).
MAX_TIME_STAMPS = 8
MAX_VALUES = 100


def _ds(tag: str) -> str:
    return f"{{{DS_NS}}}{tag}"


def _xades(tag: str) -> str:
    return f"{{{XADES_NS}}}{tag}"


class LtvConfigError(ValueError):
    """A long-term seal setting is missing or wrong; the message names the variable."""


class RevocationUnavailableError(Exception):
    """Revocation data for a certificate could not be obtained (B-LT cannot be completed now)."""

    retryable = True


class TimestampPending(Exception):
    """The seal was made at B-B because the TSA did not answer, under policy `seal-then-stamp`.

    An exception on purpose: a caller that ignores it cannot store a B-B credential believing it
    is B-T. `sealed` is the B-B document to store; record it as waiting for `complete_pending`.
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
    """The level to seal at and what to do when the TSA is down (EDC_SEAL_LEVEL, EDC_TSA_POLICY)."""

    level: str = "B-B"
    tsa: TsaClient | None = None
    policy: str = "wait"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "SealLevelSettings":
        env = dict(os.environ if env is None else env)
        url = env.get("EDC_TSA_URL", "").strip()
        tsa = None
        if url:
            try:
                timeout = float(env.get("EDC_TSA_TIMEOUT", "10"))
            except ValueError:
                raise LtvConfigError(f"EDC_TSA_TIMEOUT must be a number of seconds, not {env['EDC_TSA_TIMEOUT']!r}")
            hash_alg = env.get("EDC_TSA_HASH", "sha256")
            if hash_alg not in timestamps.HASHES:
                raise LtvConfigError(f"EDC_TSA_HASH must be one of {', '.join(timestamps.HASHES)}, not {hash_alg!r}")
            tsa = TsaClient(url, timeout, hash_alg)
        level = env.get("EDC_SEAL_LEVEL", "B-T" if tsa else "B-B").strip().upper()
        policy = env.get("EDC_TSA_POLICY", "wait").strip().lower()
        settings = cls(level=level, tsa=tsa, policy=policy)
        settings.validate()
        return settings

    def issue_kwargs(self) -> dict:
        """Keyword arguments for issuer.issue_edc_xml and jades.seal_jades: configuration in one line."""
        return {"tsa": self.tsa, "level": self.level, "tsa_policy": self.policy}

    def validate(self) -> None:
        if self.level not in LEVELS:
            raise LtvConfigError(f"EDC_SEAL_LEVEL must be one of {', '.join(LEVELS)}, not {self.level!r}")
        if self.policy not in POLICIES:
            raise LtvConfigError(f"EDC_TSA_POLICY must be one of {', '.join(POLICIES)}, not {self.policy!r}")
        if self.level != "B-B" and self.tsa is None:
            raise LtvConfigError(f"EDC_SEAL_LEVEL={self.level} needs a time-stamping authority: set EDC_TSA_URL")


def tsa_trust_anchors(default: Sequence[x509.Certificate] = ()) -> list[x509.Certificate]:
    """The CAs whose TSAs we believe (EDC_TSA_TRUST_ANCHORS); by default the seal's own anchors."""
    path = os.environ.get("EDC_TSA_TRUST_ANCHORS", "").strip()
    if path:
        try:
            return trust.load_anchors(path)
        except (OSError, ValueError) as exc:
            raise LtvConfigError(f"EDC_TSA_TRUST_ANCHORS names {path}, which is not a readable PEM file "
                                 f"({type(exc).__name__})") from None
    if default:
        return list(default)
    return trust.load_anchors(os.environ.get("EDC_TRUST_ANCHORS", "").strip() or None)


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
            except (requests.RequestException, ValueError) as exc:
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
_DEFAULT_SOURCE = CrlDistributionPointSource()


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
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        return False
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
            except ValueError:
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


# --- building B-T and B-LT ----------------------------------------------------------------------


def _signature(root: etree._Element) -> etree._Element:
    signatures = list(root.iter(_ds("Signature")))
    if len(signatures) != 1:
        raise ValueError(f"the credential has {len(signatures)} signatures; a long-term seal extends exactly one")
    return signatures[0]


def _unsigned_signature_properties(signature: etree._Element) -> etree._Element:
    """xades:UnsignedSignatureProperties, made after SignedProperties when the seal has none yet."""
    qualifying = signature.find(f".//{_xades('QualifyingProperties')}")
    if qualifying is None:
        raise ValueError("the seal has no XAdES qualifying properties; it is not a XAdES seal")
    unsigned = qualifying.find(_xades("UnsignedProperties"))
    if unsigned is None:
        unsigned = etree.SubElement(qualifying, _xades("UnsignedProperties"))
    props = unsigned.find(_xades("UnsignedSignatureProperties"))
    if props is None:
        props = etree.Element(_xades("UnsignedSignatureProperties"))
        unsigned.insert(0, props)  # it precedes any UnsignedDataObjectProperties
    return props


def timestamped_octets(signature: etree._Element, c14n_alg: str = EXC_C14N) -> bytes:
    """What a XAdES signature time-stamp covers: the canonicalized ds:SignatureValue element."""
    value = signature.find(_ds("SignatureValue"))
    if value is None:
        raise ValueError("the seal has no signature value to time-stamp")
    exclusive, comments = C14N[c14n_alg]
    return etree.tostring(value, method="c14n", exclusive=exclusive, with_comments=comments)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _existing_timestamp(props: etree._Element) -> bytes | None:
    node = props.find(f"{_xades('SignatureTimeStamp')}/{_xades('EncapsulatedTimeStamp')}")
    return base64.b64decode("".join((node.text or "").split())) if node is not None else None


def extend_to_t(root: etree._Element, tsa: TsaClient) -> dt.datetime:
    """Add a signature time-stamp (B-T) to the sealed credential `root`; returns the time-stamp's time.

    A seal that already has one keeps it (the earliest proof of existence is the valuable one), so
    a retried job never asks twice. Raises timestamps.TsaUnavailableError when the TSA is down.
    """
    signature = _signature(root)
    props = _unsigned_signature_properties(signature)
    existing = _existing_timestamp(props)
    if existing is not None:
        return timestamps.token_time(existing)
    token = tsa.stamp(timestamped_octets(signature, EXC_C14N))
    ident = uuid.uuid4()
    stamp = etree.Element(_xades("SignatureTimeStamp"), Id=f"TS-{ident}")
    etree.SubElement(stamp, _ds("CanonicalizationMethod"), Algorithm=EXC_C14N)
    etree.SubElement(stamp, _xades("EncapsulatedTimeStamp"), Id=f"ETS-{ident}").text = _b64(token)
    props.insert(0, stamp)
    return timestamps.token_time(token)


def _der(cert: x509.Certificate) -> bytes:
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
        for cert, issuer in zip(path, path[1:]):
            data = revocation_source.collect(cert, issuer)
            revocation.crls += [c for c in data.crls if c not in revocation.crls]
            revocation.ocsps += [o for o in data.ocsps if o not in revocation.ocsps]
    if not (revocation.crls or revocation.ocsps):
        raise RevocationUnavailableError("no revocation data was obtained for the seal's certificate chain")
    return chain, revocation


def extend_to_lt(root: etree._Element, revocation_source: RevocationSource,
                 anchors: Sequence[x509.Certificate] = ()) -> None:
    """Embed the seal's and the TSA's certificate chains and their revocation data (B-T -> B-LT).

    `anchors` completes chains the seal does not carry in full. A source that cannot deliver raises
    RevocationUnavailableError and the document is left unchanged.
    """
    from bridge.edc import xades

    signature = _signature(root)
    check = XadesCheck()
    certs = xades._certificates(signature)
    xades._signing_certificate(signature, certs, check)
    if check.certificate is None:
        raise ValueError("the seal's own certificate cannot be found, so its chain cannot be embedded")
    props = _unsigned_signature_properties(signature)
    token = _existing_timestamp(props)
    if token is None:
        raise ValueError("B-LT needs the signature time-stamp first (extend_to_t)")
    chain, revocation = validation_material(check.certificate, certs, token,
                                            timestamped_octets(signature, EXC_C14N), revocation_source, anchors)
    for old in (props.find(_xades("CertificateValues")), props.find(_xades("RevocationValues"))):
        if old is not None:
            props.remove(old)
    values = etree.SubElement(props, _xades("CertificateValues"))
    for cert in chain:
        etree.SubElement(values, _xades("EncapsulatedX509Certificate")).text = _b64(_der(cert))
    rev = etree.SubElement(props, _xades("RevocationValues"))
    if revocation.crls:
        crls = etree.SubElement(rev, _xades("CRLValues"))
        for crl in revocation.crls:
            etree.SubElement(crls, _xades("EncapsulatedCRLValue")).text = _b64(crl)
    if revocation.ocsps:
        ocsps = etree.SubElement(rev, _xades("OCSPValues"))
        for ocsp in revocation.ocsps:
            etree.SubElement(ocsps, _xades("EncapsulatedOCSPValue")).text = _b64(ocsp)


def _raise(extend_t, extend_lt, settings: SealLevelSettings,
           revocation_source: RevocationSource | None) -> str | None:
    """The level policy, the same for both formats: see raise_to_level."""
    settings.validate()
    if settings.level == "B-B":
        return None
    try:
        extend_t(settings.tsa)
    except timestamps.TsaUnavailableError as exc:
        if settings.policy == "wait":
            raise
        return str(exc)
    if settings.level == "B-LT":
        extend_lt(revocation_source or _DEFAULT_SOURCE)
    return None


def raise_to_level(root: etree._Element, settings: SealLevelSettings,
                   revocation_source: RevocationSource | None = None,
                   anchors: Sequence[x509.Certificate] = ()) -> str | None:
    """Bring a freshly sealed B-B `root` to `settings.level`; returns why a time-stamp is pending, or None.

    Policy `wait`: a TSA that does not answer raises TsaUnavailableError (the caller keeps the
    issuance queued and retries; nothing sealed is kept). Policy `seal-then-stamp`: the B-B seal
    stands and the reason is returned, for the caller to record and complete later.
    """
    return _raise(lambda tsa: extend_to_t(root, tsa),
                  lambda source: extend_to_lt(root, source, anchors), settings, revocation_source)


def _is_json(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def complete_pending(data: bytes, settings: SealLevelSettings,
                     revocation_source: RevocationSource | None = None,
                     anchors: Sequence[x509.Certificate] = ()) -> bytes:
    """Add the missing time-stamp (and B-LT values) to a stored B-B credential, XAdES or JAdES.

    The time-stamp proves the seal existed when it was *added*, not when the seal was made: a
    verifier's `sealed_at` for such a credential is the later time. A TSA still down raises
    TsaUnavailableError; the stored credential stays as it was.
    """
    from bridge.edc import formats

    fmt = formats.detect(data)
    if fmt is None:
        raise ValueError(formats.unrecognised_problem())
    return fmt.raise_level(data, replace_policy(settings, "wait"), revocation_source, anchors)


def replace_policy(settings: SealLevelSettings, policy: str) -> SealLevelSettings:
    return SealLevelSettings(level=settings.level, tsa=settings.tsa, policy=policy)


def needs_timestamp(data: bytes) -> bool:
    """Whether a stored sealed credential (XAdES or JAdES) still lacks its signature time-stamp."""
    if _is_json(data):
        from bridge.edc.jades import JadesDocument

        return _jades_token(JadesDocument.parse(data)) is None
    from bridge.edc.schema_check import safe_parse

    signature = _signature(safe_parse(data).getroot())
    return signature.find(f".//{_xades('SignatureTimeStamp')}") is None


# --- verifying (both formats) ---------------------------------------------------------------------


def _accept_token(token: bytes, stamped: bytes, check, anchors: Sequence[x509.Certificate],
                  certs: Sequence[x509.Certificate], now: dt.datetime | None) -> None:
    """Verify one signature time-stamp token; keep the earliest verified time on `check`.

    `check` is a xades.XadesCheck or a jades.SealCheck: both have problems, notes, timestamp_time
    and the revocation data the seal carries (crls, ocsps).
    """
    result = timestamps.verify_timestamp(token, stamped, anchors, extra_certs=certs,
                                         crls=check.crls, ocsps=check.ocsps, now=now)
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


def _claimed_time_before_stamp(check) -> None:
    claimed = check.signing_time
    if claimed and check.timestamp_time and claimed > check.timestamp_time + CLOCK_SKEW:
        # The TSA saw the signature value at that time; a seal cannot have been made after it.
        check.problems.append(f"the seal claims to have been made at {claimed.isoformat()}, after its own "
                              f"time-stamp ({check.timestamp_time.isoformat()})")


def check_signature_timestamp(signature: etree._Element, check: XadesCheck,
                              tsa_anchors: Sequence[x509.Certificate] | None = None,
                              now: dt.datetime | None = None) -> None:
    """Verify the XAdES seal's signature time-stamp(s); on success set `check.timestamp_time`.

    Called by xades.check_seal. A broken time-stamp, or one for other data, is a problem; one from
    a TSA we do not trust is set aside with a note (the seal is then judged as of now, as a B-B
    one). With several, the earliest verified one counts.
    """
    stamps = signature.xpath(".//xades:UnsignedSignatureProperties/xades:SignatureTimeStamp", namespaces=NS)
    if not stamps or too_many(stamps, MAX_TIME_STAMPS, "signature time-stamps", check.problems):
        return
    anchors = tsa_trust_anchors() if tsa_anchors is None else list(tsa_anchors)
    certs = [check.certificate, *check.chain] if check.certificate else list(check.chain)
    for stamp in stamps:
        method = stamp.find(_ds("CanonicalizationMethod"))
        c14n_alg = method.get("Algorithm") if method is not None else DEFAULT_TS_C14N
        encapsulated = stamp.find(_xades("EncapsulatedTimeStamp"))
        if c14n_alg not in C14N or encapsulated is None:
            check.problems.append("the seal's time-stamp is in a form this verifier does not support")
            continue
        try:
            token = base64.b64decode("".join((encapsulated.text or "").split()), validate=True)
        except ValueError:
            check.problems.append("the seal's time-stamp is not valid base64")
            continue
        _accept_token(token, timestamped_octets(signature, c14n_alg), check, anchors, certs, now)
    _claimed_time_before_stamp(check)


# --- JAdES (ELM v3): etsiU sigTst, xVals, rVals ------------------------------------------------------
# TS 119 182-1: sigTst = {"tstTokens": [{"val": base64 DER}]} time-stamping the ASCII of the JWS
# signature value as base64url; xVals = [{"x509Cert": {"val": ...}}]; rVals = {"crlVals": [{"val":
# ...}], "ocspVals": [...]}. Components are added through jades.JadesDocument.add_unsigned, which
# writes them base64url-encoded as the EU sample does; both encodings are read.


def jades_timestamped_octets(document) -> bytes:
    """What a JAdES signature time-stamp covers: the base64url JWS signature value, as ASCII."""
    from bridge.edc.jades import b64url

    return b64url(document.signature).encode("ascii")


def _vals(items, what: str) -> list[bytes]:
    """The DER of each {"val": base64} entry (a bare base64 string is read too)."""
    out = []
    for item in items if isinstance(items, list) else []:
        text = item.get("val") if isinstance(item, dict) else item
        try:
            out.append(base64.b64decode(text, validate=True))
        except (TypeError, ValueError):
            raise ValueError(f"an entry of {what} is not base64") from None
    return out


def _jades_tokens(document) -> list[bytes]:
    tokens = []
    for component in document.etsi_unsigned():
        if "sigTst" in component:
            container = component["sigTst"] if isinstance(component["sigTst"], dict) else {}
            tokens += _vals(container.get("tstTokens"), "sigTst")
    return tokens


def _jades_token(document) -> bytes | None:
    tokens = _jades_tokens(document)
    return tokens[0] if tokens else None


def _jades_carried(document, problems: list[str] | None = None,
                   notes: list[str] | None = None) -> tuple[list[x509.Certificate], RevocationData]:
    """Certificates in xVals and the readable revocation data in rVals; the rest are `problems`."""
    problems = [] if problems is None else problems
    notes = [] if notes is None else notes
    entries: list = []
    crls: list[bytes] = []
    ocsps: list[bytes] = []
    for component in document.etsi_unsigned():
        if isinstance(component.get("xVals"), list):
            entries += component["xVals"]
        r_vals = component.get("rVals")
        if isinstance(r_vals, dict):
            crls += _vals(r_vals.get("crlVals"), "rVals crlVals")
            ocsps += _vals(r_vals.get("ocspVals"), "rVals ocspVals")
    certs: list[x509.Certificate] = []
    if too_many(entries, MAX_VALUES, "certificates in xVals", problems):
        entries = []
    for n, entry in enumerate(entries, start=1):
        what = f"certificate value {n} (xVals)"
        value = entry.get("x509Cert") if isinstance(entry, dict) else None
        der = decode_base64(value.get("val") if isinstance(value, dict) else None, what, problems)
        cert = read_certificate(der, what, problems) if der is not None else None
        if cert is not None:
            certs.append(cert)
    return certs, read_revocation_values(crls, ocsps, "rVals", problems, notes)


def jades_extend_to_t(document, tsa: TsaClient) -> dt.datetime:
    """Add a sigTst to a JAdES seal (B-T); returns the time-stamp's time. An existing one is kept."""
    existing = _jades_token(document)
    if existing is not None:
        return timestamps.token_time(existing)
    token = tsa.stamp(jades_timestamped_octets(document))
    document.add_unsigned({"sigTst": {"tstTokens": [{"val": _b64(token)}]}})
    return timestamps.token_time(token)


def jades_extend_to_lt(document, revocation_source: RevocationSource,
                       anchors: Sequence[x509.Certificate] = ()) -> None:
    """Add xVals and rVals (B-T -> B-LT): the seal's and the TSA's chains and their revocation data."""
    from bridge.edc.jades import _certificates

    token = _jades_token(document)
    if token is None:
        raise ValueError("B-LT needs the signature time-stamp first (jades_extend_to_t)")
    carried = _certificates(document.protected)  # x5c: the seal certificate first
    chain, revocation = validation_material(carried[0], carried, token, jades_timestamped_octets(document),
                                            revocation_source, anchors)
    entries = document.unprotected.get("etsiU", [])
    kept = [entry for entry, decoded in zip(entries, document.etsi_unsigned())
            if "xVals" not in decoded and "rVals" not in decoded]
    document.unprotected["etsiU"] = kept
    document.add_unsigned({"xVals": [{"x509Cert": {"val": _b64(_der(c))}} for c in chain]})
    r_vals = {}
    if revocation.crls:
        r_vals["crlVals"] = [{"val": _b64(c)} for c in revocation.crls]
    if revocation.ocsps:
        r_vals["ocspVals"] = [{"val": _b64(o)} for o in revocation.ocsps]
    document.add_unsigned({"rVals": r_vals})


def raise_jades_to_level(document, settings: SealLevelSettings,
                         revocation_source: RevocationSource | None = None,
                         anchors: Sequence[x509.Certificate] = ()) -> str | None:
    """raise_to_level for a JAdES document (jades.JadesDocument), before it is rendered."""
    return _raise(lambda tsa: jades_extend_to_t(document, tsa),
                  lambda source: jades_extend_to_lt(document, source, anchors), settings, revocation_source)


def check_jades_timestamp(document, check, tsa_anchors: Sequence[x509.Certificate] | None = None,
                          now: dt.datetime | None = None) -> None:
    """Verify a JAdES seal's sigTst; fill `check` (jades.SealCheck) with the time, xVals and rVals.

    Called by jades.verify_jades after the signature check; the embedded revocation data then also
    serves the seal certificate's trust judgement.
    """
    try:
        certs, revocation = _jades_carried(document, check.problems, check.notes)
        tokens = _jades_tokens(document)
    except ValueError as exc:
        check.problems.append(f"the seal's unsigned properties are malformed: {exc}")
        return
    check.chain.extend(c for c in certs if c != check.certificate and c not in check.chain)
    check.crls, check.ocsps = revocation.crls, revocation.ocsps
    if not tokens or too_many(tokens, MAX_TIME_STAMPS, "signature time-stamps", check.problems):
        return
    anchors = tsa_trust_anchors() if tsa_anchors is None else list(tsa_anchors)
    pool = [check.certificate, *check.chain] if check.certificate else list(check.chain)
    stamped = jades_timestamped_octets(document)
    for token in tokens:
        _accept_token(token, stamped, check, anchors, pool, now)
    _claimed_time_before_stamp(check)
