"""A status any verifier can check: the credential names a public resource, the issuer answers there.

Each ELM v3 credential carries `credentialStatus`: one URI (the EDC profile allows exactly one, typed
xsd:anyURI) of the issuer's status resource, `<EDC_PUBLIC_URL>/status/<uuid>`. It answers with a small
statement sealed on the issuer's HSM (the project's JAdES, bridge/edc/jades.py), so a copy cannot be
forged and a cache may keep it: the credential's id, `active` or `revoked` (when, and the reason's
category), the credential that superseded it, when the statement was made and until when it may be
relied on. No personal data: not the learner, not the free-text reason staff gave.

A verifier (`edc-bridge verify`, the sidecar's /verify) looks it up when the credential names one,
in bounded time, and believes it only when its seal is intact, trusted, made by the same sealer as the
credential, about this credential and still fresh; anything else is no answer. The verdict says
`revocation`: `checked` (the issuer answered), `unreachable` (it did not, or not believably) or
`not-offered` (the credential names no status: EDC v1 XML has no such field).

Pure: how statements are made, sealed and judged. The HTTP fetch is a function the caller passes (the
service answers its own URLs from the registry, and fetches others' over the network).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence
from urllib.parse import quote

from bridge.edc.report import iso

if TYPE_CHECKING:
    from cryptography import x509

    from bridge.edc.report import VerificationReport
    from hsm.signer import SealKey

STATEMENT_TYPE = "EDCCredentialStatus"
MEDIA_TYPE = "application/jose+json"
MAX_AGE_SECONDS = 300  # how long a verifier may keep a statement (Cache-Control), and how often we re-seal
VALID_FOR = dt.timedelta(days=1)  # an older statement is no answer: a revocation is known within a day
CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_BYTES = 64 * 1024  # a statement is ~3 KB (mostly the certificate chain)
TIMEOUT_SECONDS = 3.0
CATEGORIES = ("superseded", "issued-in-error", "withdrawn", "unspecified")
XSD_ANY_URI = "xsd:anyURI"


def status_url(base_url: str, credential_id: str) -> str:
    """The status resource of a credential: <EDC_PUBLIC_URL>/status/<uuid>."""
    return f"{base_url.rstrip('/')}/status/{quote(credential_id.rpartition(':')[2], safe='')}"


def credential_status_value(url: str) -> dict[str, str]:
    """What the ELM v3 credential writes: the URI as an xsd:anyURI literal, which is what the EDC shapes
    ask for (a plain string would be read as a link, since the W3C context types credentialStatus @id)."""
    return {"@value": url, "@type": XSD_ANY_URI}


def status_url_of(doc: Mapping[str, Any]) -> str | None:
    """The status URI a credential names: ours ({"@value": ...}), a plain string, or {"id": ...} (W3C)."""
    value = doc.get("credentialStatus") if isinstance(doc, Mapping) else None
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, Mapping):
        value = value.get("@value") or value.get("id")
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None


# --- the statement ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """What the registry knows of a credential, nothing personal: the input of a statement."""

    credential_id: str
    revoked_at: dt.datetime | None = None
    category: str | None = None
    superseded_by: str | None = None

    @property
    def key(self) -> tuple:
        """What a statement depends on: a new one is sealed when it changes."""
        return (self.credential_id, self.revoked_at, self.category, self.superseded_by)


def statement(standing: Standing, made_at: dt.datetime) -> bytes:
    """The statement's bytes (compact JSON, sorted keys): the payload that is sealed."""
    body: dict[str, Any] = {"type": STATEMENT_TYPE, "credential": standing.credential_id,
                            "status": "revoked" if standing.revoked_at else "active",
                            "issued": iso(made_at), "validUntil": iso(made_at + VALID_FOR)}
    if standing.revoked_at:
        category = standing.category if standing.category in CATEGORIES else (
            "superseded" if standing.superseded_by else "unspecified")
        body["revoked"] = {"at": iso(standing.revoked_at), "reason": category}
    if standing.superseded_by:
        body["supersededBy"] = standing.superseded_by
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sealed_statement(standing: Standing, seal: "SealKey", made_at: dt.datetime | None = None) -> bytes:
    """The statement sealed on the HSM (JAdES, level B-B: its freshness window is what makes it safe)."""
    from bridge.edc.jades import seal_jades

    moment = (made_at or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)
    return seal_jades(statement(standing, moment), seal, signing_time=moment)


# --- looking it up --------------------------------------------------------------------------------


Fetch = Callable[[str], bytes]  # the statement's bytes, or an exception when there is no answer


@dataclass
class StatusCheck:
    revocation: str  # checked | unreachable | not-offered
    said: dict[str, Any] | None = None  # the statement, when checked
    notes: list[str] = field(default_factory=list)


def http_fetch(url: str, timeout: float = TIMEOUT_SECONDS, max_bytes: int = MAX_BYTES) -> bytes:
    """GET the statement: http(s) only, no redirects, at most `max_bytes`, `timeout` for the whole answer."""
    import time

    import requests

    if not url.startswith(("https://", "http://")):
        raise ValueError("the status URI is not an http(s) URL")
    deadline = time.monotonic() + timeout
    with requests.get(url, timeout=timeout, stream=True, allow_redirects=False,
                      headers={"Accept": MEDIA_TYPE}) as answer:
        if answer.status_code != 200:
            raise ValueError(f"the status resource answered HTTP {answer.status_code}")
        data = b""
        for chunk in answer.iter_content(8192):
            data += chunk
            if len(data) > max_bytes:
                raise ValueError("the status resource's answer is too large to be a statement")
            if time.monotonic() > deadline:
                raise TimeoutError("the status resource did not answer in time")
        return data


def look_up(credential_id: str, url: str, fetch: Fetch, *, trust_anchors: Sequence["x509.Certificate"],
            sealer: str | None, now: dt.datetime) -> StatusCheck:
    """Fetch and judge the statement at `url` about `credential_id`; `sealer` is the credential's seal
    certificate subject (trust.describe), which the statement's seal must share."""
    try:
        data = fetch(url)
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, there is no answer
        return StatusCheck("unreachable", notes=[f"the issuer's status resource gave no answer ({_why(exc)})"])
    said, problem = judge(data, credential_id, trust_anchors=trust_anchors, sealer=sealer, now=now)
    if problem:
        return StatusCheck("unreachable", notes=[f"the issuer's status resource gave no answer to believe: {problem}"])
    return StatusCheck("checked", said)


def _why(exc: BaseException) -> str:
    text = str(exc).split("\n")[0][:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def judge(data: bytes, credential_id: str, *, trust_anchors: Sequence["x509.Certificate"], sealer: str | None,
          now: dt.datetime) -> tuple[dict[str, Any] | None, str | None]:
    """(the statement, None) when it is believable; (None, why not) otherwise."""
    from bridge.edc import trust
    from bridge.edc.jades import JadesDocument, JadesError, check_seal

    try:
        document = JadesDocument.parse(data)
    except JadesError as exc:
        return None, str(exc)
    check = check_seal(document)
    if not check.intact or check.certificate is None:
        return None, "its seal does not hold" + (f" ({check.problems[0]})" if check.problems else "")
    if sealer is not None and trust.describe(check.certificate) != sealer:
        return None, "it is sealed by someone other than the credential's sealer"
    verdict = trust.assess_certificate(check.certificate, check.chain, trust_anchors, now, now=now)
    if not verdict.trusted:
        return None, "its seal is not trusted" + (f" ({verdict.problems[0]})" if verdict.problems else "")
    try:
        said = json.loads(document.payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None, "it is not a JSON statement"
    if not isinstance(said, dict) or said.get("type") != STATEMENT_TYPE or said.get("credential") != credential_id:
        return None, "it is not a statement about this credential"
    if said.get("status") not in ("active", "revoked"):
        return None, "it states no status"
    issued, until = _moment(said.get("issued")), _moment(said.get("validUntil"))
    if issued is None or until is None or issued > now + CLOCK_SKEW:
        return None, "it does not say when it was made, or was made in the future"
    if until < now:
        return None, f"it is stale (valid until {iso(until)})"
    return said, None


def _moment(text: Any) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


# --- in the verdict -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """How a verifier looks statements up: `fetch` (bounded in time and size) and whether to at all."""

    fetch: Fetch = http_fetch


def apply(report: "VerificationReport", url: str | None, carries_status: bool, lookup: Lookup | None,
          trust_anchors: Sequence["x509.Certificate"], now: dt.datetime) -> None:
    """Fill in `report.revocation` (and the statement): checked | unreachable | not-offered."""
    if not carries_status:
        report.revocation = "not-offered"
        report.notes.append("this format has no status field (credentialStatus): only the issuer's registry can "
                            "say whether the credential was revoked")
        return
    if url is None:
        report.revocation = "not-offered"
        report.notes.append("the credential names no status resource (credentialStatus)")
        return
    if lookup is None:
        report.notes.append(f"the issuer's status resource was not looked up ({url})")
        return
    if not (report.signature_intact and report.trusted and report.credential_id):
        report.notes.append("the issuer's status resource was not looked up: the credential's seal is not trusted")
        return
    check = look_up(report.credential_id, url, lookup.fetch, trust_anchors=trust_anchors, sealer=report.signer,
                    now=now)
    report.revocation = check.revocation
    report.credential_status = check.said
    report.notes.extend(check.notes)
    if check.said and check.said.get("status") == "revoked":  # a problem: the verdict is "not valid"
        revoked = check.said.get("revoked") if isinstance(check.said.get("revoked"), dict) else {}
        successor = check.said.get("supersededBy")
        report.problem(f"the issuer's status resource says this credential was revoked"
                       f"{' on ' + str(revoked.get('at')) if revoked.get('at') else ''}"
                       f" ({revoked.get('reason', 'unspecified')})"
                       + (f"; it was superseded by {successor}" if successor else ""))
    elif check.said:
        report.notes.append(f"the issuer's status resource says the credential is active (as of {check.said.get('issued')})")
