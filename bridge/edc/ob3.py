"""The micro-credential as an Open Badges 3.0 `OpenBadgeCredential` (1EdTech), secured as a VC-JWT on the HSM.

Outside Europe, learners and employers keep badges, not EDCs; Open Badges 3.0 is the W3C VC data model
2.0 (`validFrom`) with an `achievement` the badge stands for. Our mapping of the Annex I elements:

- issuer: a Profile with the university's name, its legal identifier and VAT number (`otherIdentifier`),
  homepage, e-mail and address; the awarding body, when it is another organisation, is the
  achievement's `creator`;
- achievement (achievementType `MicroCredential`): name, description, `criteria.narrative` (the
  learning outcomes, then the assessment, participation, supervision and quality assurance in words),
  `creditsAvailable` (the ECTS credits), `alignment` to the EQF level (and to each ESCO skill an outcome
  names), `inLanguage`, `humanCode` (the course code), `fieldOfStudy` (ISCED-F);
- credentialSubject: the learner as two IdentityObjects (the name in clear, the e-mail address hashed
  with a per-credential salt, as OB3 recommends for personal data), `creditsEarned`, the grade as a
  `result`; with a wallet, the holder's key as a `did:jwk` subject id;
- `awardedDate`, `validFrom` (issue time), `validUntil` (when the course says how long it is valid),
  `credentialStatus` when the service names a status resource.

VC-JWT (OB3 §8.2, VC-JOSE-COSE): the JWT payload is the credential itself plus the registered claims
`iss` (issuer id), `jti` (credential id), `sub` (subject id, when there is one), `nbf` (validFrom), `exp`
(validUntil) and `iat` (sealing time); the header carries alg (RS256 or ES256, from the token's key),
`typ` JWT, the seal certificate chain (`x5c`) and its public key (`jwk`) for OB3 verifiers that look
there. There is no place for a time-stamp, so an Open Badge is always at level B-B.

Pure: no Flask, no database, no environment.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import TYPE_CHECKING, Any, Mapping, Sequence
from urllib.parse import quote

from bridge.edc import jws, vocabularies
from bridge.edc.jws import CompactJws, JwsError
from bridge.edc.report import VerificationReport

if TYPE_CHECKING:
    from cryptography import x509

    from bridge.edc.model import Credential, Organisation
    from bridge.edc.ob3_schema import Ob3Schema
    from hsm.signer import SealKey

FORMAT = "ob3-vcjwt"
CONTEXTS = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
CREDENTIAL_TYPES = ("OpenBadgeCredential", "AchievementCredential")
TYP = "JWT"
EQF_FRAMEWORK = "European Qualifications Framework"
LEGAL_IDENTIFIER_TYPE = "ext:eIDASLegalIdentifier"
VAT_IDENTIFIER_TYPE = "ext:VATIdentifier"

# The words of the criteria narrative, en and lt; other languages read the English headings.
HEADINGS = {
    "en": {"outcomes": "Learning outcomes", "assessment": "Assessment", "participation": "Form of participation",
           "supervision": "Supervision and identity verification", "quality": "Quality assurance",
           "prerequisites": "Prerequisites", "workload": "Workload"},
    "lt": {"outcomes": "Mokymosi rezultatai", "assessment": "Vertinimas", "participation": "Dalyvavimo forma",
           "supervision": "Priežiūra ir tapatybės patikra", "quality": "Kokybės užtikrinimas",
           "prerequisites": "Būtinos sąlygos", "workload": "Darbo krūvis"},
}


class Ob3Error(ValueError):
    """An Open Badges credential that cannot be read; the message says why."""


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def organisation_id(org: "Organisation") -> str:
    """A stable URI for an organisation: its homepage when it has one, else its legal identifier as a URN."""
    return org.homepage or f"urn:edc:organisation:{quote(org.legal_identifier, safe='')}"


def _profile(org: "Organisation", lang: str) -> dict[str, Any]:
    identifiers = [{"type": "IdentifierEntry", "identifier": org.legal_identifier,
                    "identifierType": LEGAL_IDENTIFIER_TYPE}]
    if org.vat_identifier:
        identifiers.append({"type": "IdentifierEntry", "identifier": org.vat_identifier,
                            "identifierType": VAT_IDENTIFIER_TYPE})
    profile: dict[str, Any] = {"id": organisation_id(org), "type": ["Profile"], "name": org.name.get_in(lang),
                               "otherIdentifier": identifiers}
    if org.homepage:
        profile["url"] = org.homepage
    if org.email:
        profile["email"] = org.email
    if org.address:
        profile["address"] = {"type": ["Address"], "addressCountryCode": _alpha2(org.country),
                              "streetAddress": org.address.get_in(lang)}
    else:
        profile["address"] = {"type": ["Address"], "addressCountryCode": _alpha2(org.country)}
    return profile


def _alpha2(alpha3: str) -> str:
    from bridge.edc.sd_jwt_vc import ALPHA2

    return ALPHA2.get(alpha3, alpha3)


def _label(table: Mapping[str, Any], key: str | None, lang: str) -> str | None:
    value = table.get(key) if key else None
    if value is None:
        return None
    labels = getattr(value, "labels", value)
    return labels.get(lang) or labels.get("en")


def criteria_narrative(credential: "Credential") -> str:
    """The learning outcomes and how the achievement was assessed, as Markdown (OB3 criteria are Markdown)."""
    spec, lang = credential.spec, credential.spec.primary_language
    words = HEADINGS.get(lang, HEADINGS["en"])
    lines = [f"**{words['outcomes']}**", ""] + [f"- {o.text.get_in(lang)}" for o in spec.learning_outcomes]
    workload = f"{spec.ects_text} ECTS" + (f" ({spec.hours} h)" if spec.hours else "")
    facts = [
        ("workload", workload),
        ("assessment", _label(vocabularies.ASSESSMENT_TYPES, spec.assessment_type, lang)),
        ("participation", _label(vocabularies.LEARNING_MODES, spec.participation_mode, lang)),
        ("supervision", _label(vocabularies.SUPERVISION, spec.supervision, lang)
         or _label(vocabularies.SUPERVISION_WITHOUT_CODE, spec.supervision, lang)),
        ("quality", spec.quality_assurance.get_in(lang)),
        ("prerequisites", spec.prerequisites.get_in(lang) if spec.prerequisites else None),
    ]
    for key, value in facts:
        if value:
            lines += ["", f"**{words[key]}**: {value}"]
    return "\n".join(lines)


def _achievement(credential: "Credential") -> dict[str, Any]:
    spec, lang = credential.spec, credential.spec.primary_language
    key = spec.code or hashlib.sha256(json.dumps(dict(spec.title), sort_keys=True).encode()).hexdigest()[:16]
    alignment = [{"type": ["Alignment"], "targetName": f"EQF level {spec.eqf_level}",
                  "targetUrl": vocabularies.EQF_LEVELS[str(spec.eqf_level)].uri,
                  "targetFramework": EQF_FRAMEWORK, "targetCode": str(spec.eqf_level), "targetType": "ext:EQF"}]
    for outcome in spec.learning_outcomes:
        if outcome.esco_skill:
            alignment.append({"type": ["Alignment"], "targetName": outcome.text.get_in(lang),
                              "targetUrl": outcome.esco_skill, "targetFramework": "ESCO",
                              "targetType": "ext:ESCOSkill"})
    achievement: dict[str, Any] = {
        "id": f"urn:edc:achievement:{quote(spec.issuer.legal_identifier, safe='')}:{quote(key, safe='')}",
        "type": ["Achievement"], "achievementType": "MicroCredential",
        "name": spec.title.get_in(lang),
        "description": (spec.description or spec.title).get_in(lang),
        "criteria": {"narrative": criteria_narrative(credential)},
        "creditsAvailable": float(spec.ects),
        "alignment": alignment,
        "inLanguage": lang,
    }
    if spec.code:
        achievement["humanCode"] = spec.code
    if spec.isced_f:
        achievement["fieldOfStudy"] = f"ISCED-F {spec.isced_f}"
    if spec.awarding_body.legal_identifier != spec.issuer.legal_identifier:
        achievement["creator"] = _profile(spec.awarding_body, lang)
    return achievement


def did_jwk(jwk: Mapping[str, Any]) -> str:
    """did:jwk of a public key: the holder's identifier when a wallet proved it holds the key."""
    return "did:jwk:" + jws.b64url(jws.canonical_json(jws.public_jwk(jwk)))


def _subject(credential: "Credential", holder_jwk: Mapping[str, Any] | None) -> dict[str, Any]:
    learner, issuance = credential.learner, credential.issuance
    salt = hashlib.sha256(issuance.credential_id.encode()).hexdigest()[:16]  # per credential, reproducible
    email_hash = hashlib.sha256((learner.email.strip().lower() + salt).encode("utf-8")).hexdigest()
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": [
            {"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": learner.full_name},
            {"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
             "identityHash": f"sha256${email_hash}", "salt": salt},
        ],
        "achievement": _achievement(credential),
        "creditsEarned": float(credential.spec.ects),
        "activityEndDate": _iso(issuance.awarded_at),
    }
    if holder_jwk is not None:
        subject = {"id": did_jwk(holder_jwk), **subject}
    if issuance.grade:
        subject["result"] = [{"type": ["Result"], "value": issuance.grade}]
    return subject


def build_ob3(credential: "Credential", *, holder_jwk: Mapping[str, Any] | None = None,
              status_url: str | None = None) -> dict[str, Any]:
    """The OpenBadgeCredential of `credential` (a JSON object, not yet secured)."""
    spec, issuance, lang = credential.spec, credential.issuance, credential.spec.primary_language
    doc: dict[str, Any] = {
        "@context": list(CONTEXTS),
        "id": issuance.credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": spec.title.get_in(lang),
        "description": (spec.description or spec.title).get_in(lang),
        "issuer": _profile(spec.issuer, lang),
        "validFrom": _iso(issuance.issued_at),
        "awardedDate": _iso(issuance.awarded_at),
        "credentialSubject": _subject(credential, holder_jwk),
    }
    if issuance.valid_until:
        doc["validUntil"] = _iso(issuance.valid_until)
    status_url = status_url or issuance.status_url  # the service names it on the issuance, as for ELM v3
    if status_url:
        doc["credentialStatus"] = {"id": status_url, "type": "EdcCredentialStatus"}
    return doc


def _claims(doc: Mapping[str, Any], signed_at: dt.datetime) -> dict[str, Any]:
    """The JWT registered claims OB3 §8.2 asks beside the credential's own members."""
    claims: dict[str, Any] = {"iss": doc["issuer"]["id"], "jti": doc["id"],
                              "nbf": int(_parse_iso(doc["validFrom"]).timestamp()),
                              "iat": int(signed_at.timestamp())}
    subject_id = doc["credentialSubject"].get("id")
    if subject_id:
        claims["sub"] = subject_id
    if "validUntil" in doc:
        claims["exp"] = int(_parse_iso(doc["validUntil"]).timestamp())
    return claims


def seal_ob3(doc: Mapping[str, Any], seal: "SealKey", *, signing_time: dt.datetime | None = None) -> bytes:
    """The VC-JWT (compact JWS, ASCII bytes) of an OpenBadgeCredential, signed on the token."""
    moment = (signing_time or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)
    header = jws.seal_header(seal, TYP, jwk=jws.jwk_of(seal.certificate.public_key()))
    payload = {**doc, **_claims(doc, moment)}
    return jws.sign_compact(header, jws.canonical_json(payload), seal).encode("ascii")


def issue_ob3(credential: "Credential", seal: "SealKey", *, holder_jwk: Mapping[str, Any] | None = None,
              status_url: str | None = None, signing_time: dt.datetime | None = None,
              schema: "Ob3Schema | None" = None) -> bytes:
    """Build, check against 1EdTech's schema when one is configured (Ob3SchemaViolation before anything
    touches the token), and sign."""
    doc = build_ob3(credential, holder_jwk=holder_jwk, status_url=status_url)
    if schema is not None:
        schema.require_valid(doc)
    return seal_ob3(doc, seal, signing_time=signing_time or credential.issuance.issued_at)


# --- reading ---------------------------------------------------------------------------------------


def _parse_iso(text: Any) -> dt.datetime:
    if not isinstance(text, str):
        raise Ob3Error("a date is not a text")
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Ob3Error(f"{text!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise Ob3Error(f"{text!r} has no time zone")
    return moment


def parse(data: bytes | str) -> tuple[CompactJws, dict[str, Any]]:
    """The VC-JWT and its credential (the payload); Ob3Error when it is not an Open Badges VC-JWT."""
    try:
        text = data.decode("ascii") if isinstance(data, bytes) else data
        token = CompactJws.parse(text, "the Open Badges credential")
        doc = token.claims("the Open Badges credential's payload")
    except UnicodeDecodeError:
        raise Ob3Error("the Open Badges credential is not ASCII text (a VC-JWT is)") from None
    except JwsError as exc:
        raise Ob3Error(str(exc)) from None
    types = doc.get("type")
    if not isinstance(types, list) or not any(t in types for t in CREDENTIAL_TYPES):
        raise Ob3Error("the token is not an Open Badges credential (its type names neither OpenBadgeCredential "
                       "nor AchievementCredential)")
    return token, doc


def _identity(subject: Mapping[str, Any], kind: str) -> str | None:
    for entry in subject.get("identifier") or []:
        if isinstance(entry, dict) and entry.get("identityType") == kind and entry.get("hashed") is False:
            value = entry.get("identityHash")
            return value if isinstance(value, str) else None
    return None


def summarize(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Learner, title, issuer, ids and dates as a person reads them; missing or odd values become None."""
    subject = doc.get("credentialSubject") if isinstance(doc.get("credentialSubject"), dict) else {}
    achievement = subject.get("achievement") if isinstance(subject.get("achievement"), dict) else {}
    issuer = doc.get("issuer")
    credits = achievement.get("creditsAvailable")
    eqf = None
    for item in achievement.get("alignment") or []:
        if isinstance(item, dict) and item.get("targetFramework") == EQF_FRAMEWORK:
            code = item.get("targetCode")
            eqf = int(code) if isinstance(code, str) and code.isdigit() and 1 <= int(code) <= 8 else None
    valid_from = doc.get("validFrom")
    return {
        "credential_id": doc.get("id") if isinstance(doc.get("id"), str) else None,
        "learner": _identity(subject, "name"),
        "title": achievement.get("name") if isinstance(achievement.get("name"), str) else (
            doc.get("name") if isinstance(doc.get("name"), str) else None),
        "issuer": issuer.get("name") if isinstance(issuer, dict) and isinstance(issuer.get("name"), str) else None,
        "issued": valid_from[:10] if isinstance(valid_from, str) else None,
        "ects": float(credits) if isinstance(credits, (int, float)) and not isinstance(credits, bool) else None,
        "eqf_level": eqf,
    }


def _consistent(doc: Mapping[str, Any], claims_report: VerificationReport) -> None:
    """The JWT's registered claims must say what the credential says (VC-JOSE-COSE): no two stories."""
    issuer = doc.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    checks = [("iss", issuer_id, "the issuer's id"), ("jti", doc.get("id"), "the credential's id")]
    subject = doc.get("credentialSubject")
    if isinstance(subject, dict) and subject.get("id"):
        checks.append(("sub", subject.get("id"), "the subject's id"))
    for claim, expected, what in checks:
        if claim in doc and doc[claim] != expected:
            claims_report.problem(f"the token's '{claim}' is not {what}")
    for claim, member in (("nbf", "validFrom"), ("exp", "validUntil")):
        if claim in doc and member in doc:
            try:
                same = int(_parse_iso(doc[member]).timestamp()) == doc[claim]
            except Ob3Error:
                same = False
            if not same:
                claims_report.problem(f"the token's '{claim}' is not the credential's {member}")


def verify_ob3(data: bytes, *, trust_anchors: Sequence["x509.Certificate"],
               now: dt.datetime | None = None, schema: Any = None) -> VerificationReport:
    """Is this Open Badges VC-JWT intact, sealed by someone we trust, in date, and (with `schema`,
    bridge.edc.ob3_schema.Ob3Schema from EDC_OB3_SCHEMA) does it follow 1EdTech's JSON Schema?"""
    now = now or dt.datetime.now(dt.timezone.utc)
    report = VerificationReport(format=FORMAT)
    try:
        token, doc = parse(data)
    except Ob3Error as exc:
        report.problem(str(exc))
        return report
    with report.checking("credential's content"):
        for name, value in summarize(doc).items():
            setattr(report, name, value)
        _consistent(doc, report)
    signed_at = None
    with report.checking("validity dates"):
        signed_at = jws.check_times(doc, report, now)
        for member in ("validFrom", "validUntil"):
            if member in doc:
                try:
                    moment = _parse_iso(doc[member])
                except Ob3Error as exc:
                    report.problem(f"{member}: {exc}")
                    continue
                if member == "validFrom" and moment > now + dt.timedelta(minutes=5):
                    report.problem(f"the credential is not valid before {doc[member]}")
                if member == "validUntil" and moment < now:
                    report.problem(f"the credential expired on {doc[member][:10]}")
    with report.checking("seal"):
        jws.check_issuer_seal(token, report, trust_anchors, now, signed_at)
    with report.checking("Open Badges 3.0 JSON Schema check"):
        from bridge.edc.ob3_schema import AGAINST

        report.schema_outcome(schema.problems(doc) if schema is not None else None, against=AGAINST,
                              skipped="the Open Badges 3.0 JSON Schema check was skipped: no schema is "
                                      "configured (EDC_OB3_SCHEMA)")
    return report


def header_and_signature(data: bytes) -> bytes:
    """The JWT's header and signature parts (no personal data): what a course's badges share."""
    text = data.decode("ascii", "replace")
    head, _, rest = text.partition(".")
    return (head + "." + rest.rpartition(".")[2]).encode("ascii", "replace")

