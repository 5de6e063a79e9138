"""The JAdES half of long-term seals (ELM v3): the etsiU components of B-T and B-LT and what they cover.

TS 119 182-1: sigTst = {"tstTokens": [{"val": base64 DER}]} time-stamping the ASCII of the JWS
signature value as base64url; xVals = [{"x509Cert": {"val": ...}}]; rVals = {"crlVals": [{"val":
...}], "ocspVals": [...]}. Components are added through JadesDocument.add_unsigned, which writes them
base64url-encoded as the EU sample does; both encodings are read (JadesDocument.etsi_unsigned).

This module works on a parsed bridge.edc.jades.JadesDocument handed to it and imports nothing of
jades.py (which uses it to seal and verify); the policy, the configuration, the revocation sources
and the time-stamp check are shared with XAdES in bridge/edc/ltv.py.
"""
from __future__ import annotations

import base64
import datetime as dt
from typing import TYPE_CHECKING, Any, Sequence

from cryptography import x509

from bridge.edc import ltv, timestamps

if TYPE_CHECKING:
    from bridge.edc.jades import JadesDocument
    from bridge.edc.report import SealCheck


def timestamped_octets(document: "JadesDocument") -> bytes:
    """What a JAdES signature time-stamp covers: the base64url JWS signature value, as ASCII."""
    return base64.urlsafe_b64encode(document.signature).rstrip(b"=")


def archive_octets(document: "JadesDocument", before: int | None = None) -> bytes:
    """What an arcTst covers (ETSI TS 119 182-1 §5.3.6.3, timeStamped "all", base64url etsiU entries).

    The JWS payload (as is when b64 is false, else base64url), ".", the protected header (base64url),
    ".", the signature value (base64url), ".", then each etsiU entry before the arcTst at index
    `before` (None: all of them, for a new one), as written. The EU's own B-LTA sample matches.
    """
    entries = document.unprotected.get("etsiU", [])
    entries = entries[:before] if before is not None else entries
    if not all(isinstance(entry, str) for entry in entries):
        raise ValueError("an archive time-stamp over clear JSON etsiU entries is not supported (only base64url ones)")
    unencoded = document.protected.get("b64", True) is False
    payload = document.payload if unencoded else base64.urlsafe_b64encode(document.payload).rstrip(b"=")
    return b".".join([payload, document.protected_b64.encode("ascii"), timestamped_octets(document),
                      "".join(entries).encode("ascii")])


def _vals(items: Any, what: str, problems: list[str]) -> list[bytes]:
    """The DER of each {"val": base64} entry that can be read (a bare base64 string is read too)."""
    out = []
    for n, item in enumerate(items if isinstance(items, list) else [], start=1):
        text = item.get("val") if isinstance(item, dict) else item
        der = ltv.decode_base64(text, f"entry {n} of {what}", problems)
        if der is not None:
            out.append(der)
    return out


def signature_tokens(document: "JadesDocument", problems: list[str] | None = None) -> list[bytes]:
    """The sigTst time-stamp tokens (DER), in order."""
    problems = [] if problems is None else problems
    tokens = []
    for component in document.etsi_unsigned():
        if "sigTst" in component:
            container = component["sigTst"] if isinstance(component["sigTst"], dict) else {}
            tokens += _vals(container.get("tstTokens"), "sigTst", problems)
    return tokens


def archive_tokens(document: "JadesDocument", problems: list[str] | None = None) -> list[tuple[int, bytes]]:
    """(index in etsiU, token) of each arcTst time-stamp token, oldest first."""
    problems = [] if problems is None else problems
    found = []
    for index, component in enumerate(document.etsi_unsigned()):
        if "arcTst" in component:
            container = component["arcTst"] if isinstance(component["arcTst"], dict) else {}
            found += [(index, token) for token in _vals(container.get("tstTokens"), "arcTst", problems)]
    return found


def carried(document: "JadesDocument", problems: list[str] | None = None,
            notes: list[str] | None = None) -> tuple[list[x509.Certificate], ltv.RevocationData]:
    """Certificates in xVals (and tstVd certVals) and the readable revocation data in rVals (and tstVd
    revVals); the rest are `problems`."""
    problems = [] if problems is None else problems
    notes = [] if notes is None else notes
    entries: list = []
    crls: list[bytes] = []
    ocsps: list[bytes] = []
    for component in document.etsi_unsigned():
        validation = component.get("tstVd") if isinstance(component.get("tstVd"), dict) else {}
        for name, certs_here, revocation_here in (("", component.get("xVals"), component.get("rVals")),
                                                  ("tstVd ", validation.get("certVals"), validation.get("revVals"))):
            if isinstance(certs_here, list):
                entries += certs_here
            if isinstance(revocation_here, dict):
                crls += _vals(revocation_here.get("crlVals"), f"{name}crlVals", problems)
                ocsps += _vals(revocation_here.get("ocspVals"), f"{name}ocspVals", problems)
    certs: list[x509.Certificate] = []
    if ltv.too_many(entries, ltv.MAX_VALUES, "certificates in xVals", problems):
        entries = []
    for n, entry in enumerate(entries, start=1):
        what = f"certificate value {n} (xVals)"
        value = entry.get("x509Cert") if isinstance(entry, dict) else None
        der = ltv.decode_base64(value.get("val") if isinstance(value, dict) else None, what, problems)
        cert = ltv.read_certificate(der, what, problems) if der is not None else None
        if cert is not None:
            certs.append(cert)
    return certs, ltv.read_revocation_values(crls, ocsps, "rVals", problems, notes)


def _cert_vals(chain: Sequence[x509.Certificate]) -> list[dict]:
    return [{"x509Cert": {"val": ltv.b64(ltv.der(c))}} for c in chain]


def _rev_vals(revocation: ltv.RevocationData) -> dict[str, list]:
    r_vals: dict[str, list] = {}
    if revocation.crls:
        r_vals["crlVals"] = [{"val": ltv.b64(c)} for c in revocation.crls]
    if revocation.ocsps:
        r_vals["ocspVals"] = [{"val": ltv.b64(o)} for o in revocation.ocsps]
    return r_vals


def _values_components(chain: Sequence[x509.Certificate], revocation: ltv.RevocationData) -> list[dict]:
    """xVals and rVals components holding `chain` and `revocation`."""
    return [{"xVals": _cert_vals(chain)}, {"rVals": _rev_vals(revocation)}]


class JadesLongTerm:
    """A JAdES document's etsiU: ltv.LongTermSeal for JAdES.

    `certificates` are those of the protected header's x5c, the seal certificate first
    (jades.certificates reads them).
    """

    def __init__(self, document: "JadesDocument", certificates: Sequence[x509.Certificate]) -> None:
        self.document = document
        self.certificates = list(certificates)

    def render(self) -> bytes:
        return self.document.render()

    def signature_timestamp(self) -> bytes | None:
        tokens = signature_tokens(self.document)
        return tokens[0] if tokens else None

    def add_signature_timestamp(self, tsa: ltv.TsaClient) -> dt.datetime:
        """Add a sigTst (B-T); returns the time-stamp's time. An existing one is kept."""
        existing = self.signature_timestamp()
        if existing is not None:
            return timestamps.token_time(existing)
        token = tsa.stamp(timestamped_octets(self.document))
        self.document.add_unsigned({"sigTst": {"tstTokens": [{"val": ltv.b64(token)}]}})
        return timestamps.token_time(token)

    def add_validation_data(self, revocation_source: ltv.RevocationSource,
                            anchors: Sequence[x509.Certificate] = ()) -> None:
        """Add xVals and rVals (B-T -> B-LT): the seal's and the TSA's chains and their revocation data."""
        token = self.signature_timestamp()
        if token is None:
            raise ValueError("B-LT needs the signature time-stamp first (add_signature_timestamp)")
        chain, revocation = ltv.validation_material(self.certificates[0], self.certificates, token,
                                                    timestamped_octets(self.document), revocation_source, anchors)
        document = self.document
        entries = document.unprotected.get("etsiU", [])
        document.unprotected["etsiU"] = [entry for entry, decoded in zip(entries, document.etsi_unsigned())
                                         if "xVals" not in decoded and "rVals" not in decoded]
        for component in _values_components(chain, revocation):
            document.add_unsigned(component)

    def has_validation_data(self) -> bool:
        names = {name for component in self.document.etsi_unsigned() for name in component}
        return {"xVals", "rVals"} <= names

    def archive_timestamps(self) -> list[bytes]:
        return [token for _, token in archive_tokens(self.document)]

    def carried_certificates(self) -> list[x509.Certificate]:
        return [*self.certificates, *carried(self.document)[0]]

    def add_archive_timestamp(self, tsa: ltv.TsaClient, revocation_source: ltv.RevocationSource,
                              anchors: Sequence[x509.Certificate] = ()) -> dt.datetime:
        """Add an arcTst over the seal and all its etsiU (B-LTA, or a renewal).

        Before a renewal, the previous arcTst's TSA chain and revocation data go into a tstVd component,
        so the new one covers them too. Raises TsaUnavailableError / RevocationUnavailableError with
        the document left unchanged.
        """
        document = self.document
        previous = self.archive_timestamps()
        entries = list(document.unprotected.get("etsiU", []))
        if previous:
            chain, revocation = ltv.archive_validation_material(previous[-1], self.carried_certificates(),
                                                                revocation_source, anchors)
            validation: dict[str, Any] = {"revVals": _rev_vals(revocation)}
            if chain:
                validation["certVals"] = _cert_vals(chain)
            document.add_unsigned({"tstVd": validation})
        try:
            token = tsa.stamp(archive_octets(document))
        except Exception:
            document.unprotected["etsiU"] = entries
            raise
        document.add_unsigned({"arcTst": {"tstTokens": [{"val": ltv.b64(token)}]}})
        return timestamps.token_time(token)


def check_long_term(document: "JadesDocument", check: "SealCheck", tsa_anchors: Sequence[x509.Certificate],
                    now: dt.datetime | None = None) -> None:
    """Verify a JAdES seal's sigTst; fill `check` with the time, xVals and rVals.

    Called by jades.verify_jades after the signature check; the embedded revocation data then also
    serves the seal certificate's trust judgement (trust.judge_seal).
    """
    try:
        certs, revocation = carried(document, check.problems, check.notes)
        tokens = signature_tokens(document, check.problems)
    except ValueError as exc:  # etsiU itself unreadable (jades.JadesError)
        problem = f"the seal's unsigned properties are malformed: {exc}"
        if problem not in check.problems:  # check_seal, reading the level, may have said so already
            check.problems.append(problem)
        return
    check.chain.extend(c for c in certs if c != check.certificate and c not in check.chain)
    check.crls, check.ocsps = revocation.crls, revocation.ocsps
    stamped = timestamped_octets(document)
    archives = []
    for index, token in archive_tokens(document, check.problems):
        try:
            archives.append((token, archive_octets(document, index)))
        except ValueError as exc:
            check.problems.append(f"an archive time-stamp cannot be checked: {exc}")
    ltv.check_time_stamps([(token, stamped) for token in tokens], archives, check, tsa_anchors, now)
