"""The micro-credential as an SD-JWT VC (`dc+sd-jwt`) for EU Digital Identity wallets.

The type is the EUDI reference issuer's learning credential, `urn:eu.europa.ec.eudi:learning:credential:1`
(eu-digital-identity-wallet/eudi-srv-pid-issuer, adapter/out/learningcredential: SdJwtVcClaims.kt,
EncodeLearningCredential.kt). Of the three EU types looked at it is the one whose claims *are* the
Annex I elements, flat and typed: issuing_authority, issuing_country, date_of_issuance, family_name,
given_name, achievement_title, learning_outcomes, language_of_classes, learner_identification,
expected_study_time, level_of_learning_experience (the EQF level, a number), form_of_participation,
types_of_quality_assurance, prerequisites_to_enroll, evaluator_verification (supervision and identity
checks), integration_stackability_options, assessment_grade. The EUDI reference wallet knows it.
DC4EU's `urn:eudi:micro_credential:1` (dc4eu/vc metadata/vctm_microcredential.json) is an Open Badges
document put in an SD-JWT, with five display claims and nothing selectively disclosable — our Open
Badges 3.0 format covers those wallets; DC4EU's `urn:eudi:elm:1` (vctm_elm.json) declares no claims at
all (the whole ELM JSON-LD as one payload), which no wallet can show or disclose in parts.

Where Annex I has an element the type lacks, one claim of ours is added beside the type's (a verifier
ignores claims it does not know): `ects_credits` (the workload as a number), `type_of_assessment`,
`awarding_body` (when it is not the issuer), and `credential_id` (the sealed credential this is a copy
of, so a verifier can ask the issuer's registry about it). The learner's claims (names, learner
identification, grade) are selectively disclosable; the achievement's are not, as in the reference
issuer. `status` names the credential's public status resource when the service gives one.

Pure: no Flask, no database, no environment.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from bridge.edc import jws, sd_jwt, vocabularies
from bridge.edc.report import VerificationReport
from bridge.edc.sd_jwt import SdJwtError

if TYPE_CHECKING:
    from cryptography import x509

    from bridge.edc.model import Credential
    from hsm.signer import SealKey

VCT = "urn:eu.europa.ec.eudi:learning:credential:1"
TYP = "dc+sd-jwt"
OLD_TYP = "vc+sd-jwt"  # drafts before SD-JWT VC -09; read, with a note
FORMAT = "sd-jwt-vc"
PERSONAL_CLAIMS = ("family_name", "given_name", "learner_identification", "assessment_grade")

# ISO 3166-1 alpha-3 (the course description) -> alpha-2 (what the type's issuing_country holds).
ALPHA2 = {
    "AND": "AD", "AUT": "AT", "BEL": "BE", "BGR": "BG", "CYP": "CY", "CZE": "CZ", "DEU": "DE", "DNK": "DK",
    "ESP": "ES", "EST": "EE", "FIN": "FI", "FRA": "FR", "GRC": "GR", "HRV": "HR", "HUN": "HU", "IRL": "IE",
    "ISL": "IS", "ITA": "IT", "LIE": "LI", "LTU": "LT", "LUX": "LU", "LVA": "LV", "MLT": "MT", "NLD": "NL",
    "NOR": "NO", "POL": "PL", "PRT": "PT", "ROU": "RO", "SVK": "SK", "SVN": "SI", "SWE": "SE", "UKR": "UA",
    "GBR": "GB", "USA": "US",
}

# How wallets label the claims (credential metadata); en and lt, like every text people read here.
CLAIM_LABELS: dict[str, tuple[str, str]] = {
    "issuing_authority": ("Issuing authority", "Išdavusi institucija"),
    "issuing_country": ("Issuing country", "Išdavimo šalis"),
    "date_of_issuance": ("Date of issuance", "Išdavimo data"),
    "date_of_expiry": ("Date of expiry", "Galiojimo pabaiga"),
    "family_name": ("Family name(s)", "Pavardė"),
    "given_name": ("Given name(s)", "Vardas"),
    "achievement_title": ("Achievement title", "Pasiekimo pavadinimas"),
    "achievement_description": ("Achievement description", "Pasiekimo aprašymas"),
    "learning_outcomes": ("Learning outcomes", "Mokymosi rezultatai"),
    "assessment_grade": ("Assessment grade", "Įvertinimas"),
    "language_of_classes": ("Language of classes", "Mokymo kalba"),
    "learner_identification": ("Learner identification", "Besimokančiojo identifikatorius"),
    "expected_study_time": ("Expected study time", "Numatyta mokymosi trukmė"),
    "level_of_learning_experience": ("Level of learning experience (EQF)", "Mokymosi lygis (EKS)"),
    "form_of_participation": ("Form of participation", "Dalyvavimo forma"),
    "types_of_quality_assurance": ("Types of quality assurance", "Kokybės užtikrinimo rūšys"),
    "prerequisites_to_enroll": ("Prerequisites to enrol", "Būtinos sąlygos"),
    "evaluator_verification": ("Supervision and identity verification", "Priežiūra ir tapatybės patikra"),
    "integration_stackability_options": ("Integration or stackability options", "Integravimo ar kaupimo galimybės"),
    "ects_credits": ("ECTS credits", "ECTS kreditai"),
    "type_of_assessment": ("Type of assessment", "Vertinimo būdas"),
    "awarding_body": ("Awarding body", "Suteikusi institucija"),
    "credential_id": ("Credential identifier", "Kredencialo identifikatorius"),
}


def _label(table: Mapping[str, Any], key: str | None, lang: str) -> str | None:
    concept = table.get(key) if key else None
    if concept is None:
        return None
    labels = concept.labels if hasattr(concept, "labels") else concept
    return labels.get(lang) or labels.get("en")


def _date(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).date().isoformat()


def claims_of(credential: "Credential") -> tuple[dict[str, Any], dict[str, Any]]:
    """(claims shown to every verifier, claims the holder discloses as they choose), in the credential's
    primary language (the language the sealed credential is read in)."""
    spec, learner, issuance = credential.spec, credential.learner, credential.issuance
    lang = spec.primary_language

    def text(value) -> str | None:
        return value.get_in(lang) if value else None

    workload = f"{spec.ects_text} ECTS" + (f" ({spec.hours} h)" if spec.hours else "")
    supervision = _label(vocabularies.SUPERVISION, spec.supervision, lang) or _label(
        vocabularies.SUPERVISION_WITHOUT_CODE, spec.supervision, lang)
    visible: dict[str, Any] = {
        "issuing_authority": text(spec.issuer.name),
        "issuing_country": ALPHA2.get(spec.issuer.country, spec.issuer.country),
        "date_of_issuance": _date(issuance.issued_at),
        "date_of_expiry": _date(issuance.valid_until) if issuance.valid_until else None,
        "achievement_title": text(spec.title),
        "achievement_description": text(spec.description),
        "learning_outcomes": [outcome.text.get_in(lang) for outcome in spec.learning_outcomes],
        "language_of_classes": lang,
        "expected_study_time": workload,
        "level_of_learning_experience": spec.eqf_level,
        "form_of_participation": _label(vocabularies.LEARNING_MODES, spec.participation_mode, lang),
        "types_of_quality_assurance": [text(spec.quality_assurance)],
        "prerequisites_to_enroll": [text(spec.prerequisites)] if spec.prerequisites else None,
        "evaluator_verification": [supervision] if supervision else None,
        "integration_stackability_options": (spec.stackability in ("integrated", "stackable")
                                             if spec.stackability else None),
        "ects_credits": float(spec.ects) if spec.ects != int(spec.ects) else int(spec.ects),
        "type_of_assessment": _label(vocabularies.ASSESSMENT_TYPES, spec.assessment_type, lang),
        "awarding_body": (text(spec.awarding_body.name)
                          if spec.awarding_body.legal_identifier != spec.issuer.legal_identifier else None),
        "credential_id": issuance.credential_id,
    }
    personal: dict[str, Any] = {
        "family_name": learner.family_name,
        "given_name": learner.given_names,
        "learner_identification": learner.id,
        "assessment_grade": issuance.grade,
    }
    return ({k: v for k, v in visible.items() if v is not None},
            {k: v for k, v in personal.items() if v is not None})


def issue_sd_jwt_vc(credential: "Credential", seal: "SealKey", *, issuer: str, holder_jwk: Mapping[str, Any],
                    status: Mapping[str, Any] | None = None, now: dt.datetime | None = None,
                    decoys: int = 2) -> str:
    """The SD-JWT VC of `credential`, bound to the holder's public key (`cnf`), sealed on the token with
    the seal certificate chain in `x5c`. `issuer` is the credential issuer identifier (an https URL)."""
    now = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)
    visible, personal = claims_of(credential)
    registered: dict[str, Any] = {
        "iss": issuer, "iat": int(now.timestamp()), "nbf": int(credential.issuance.issued_at.timestamp()),
        "vct": VCT, "jti": f"urn:uuid:{uuid.uuid4()}", "cnf": {"jwk": jws.public_jwk(holder_jwk)},
    }
    if credential.issuance.valid_until:
        registered["exp"] = int(credential.issuance.valid_until.timestamp())
    if status:
        registered["status"] = dict(status)
    return sd_jwt.issue({**registered, **visible}, personal, seal, typ=TYP, decoys=decoys)


def summarize(claims: Mapping[str, Any]) -> dict[str, Any]:
    """Learner, title, issuer, ids and dates as a person reads them; missing or odd values become None."""
    def string(name: str) -> str | None:
        value = claims.get(name)
        return value if isinstance(value, str) else None

    names = [string("given_name"), string("family_name")]
    ects = claims.get("ects_credits")
    eqf = claims.get("level_of_learning_experience")
    return {
        "credential_id": string("credential_id"),
        "learner": " ".join(n for n in names if n) or None,
        "title": string("achievement_title"),
        "issuer": string("issuing_authority"),
        "issued": string("date_of_issuance"),
        "ects": float(ects) if isinstance(ects, (int, float)) and not isinstance(ects, bool) else None,
        "eqf_level": eqf if isinstance(eqf, int) and not isinstance(eqf, bool) and 1 <= eqf <= 8 else None,
    }


def verify_sd_jwt_vc(text: Any, *, trust_anchors: Sequence["x509.Certificate"], now: dt.datetime | None = None,
                     audience: str | None = None, nonce: str | None = None) -> VerificationReport:
    """Is this SD-JWT VC intact (seal and every disclosure), sealed by a trusted issuer, of our type, and
    in date? With `audience` and `nonce`, its key-binding JWT must prove the holder too."""
    now = now or dt.datetime.now(dt.timezone.utc)
    report = VerificationReport(format=FORMAT)
    try:
        presentation = sd_jwt.Presentation.parse(text)
    except SdJwtError as exc:
        report.problem(str(exc))
        return report
    token = presentation.issuer_jwt
    typ = token.header.get("typ")
    if typ == OLD_TYP:
        report.notes.append(f"the credential uses the older media type {OLD_TYP}")
    elif typ != TYP:
        report.problem(f"the credential's type header (typ) is {typ!r}, not {TYP!r}")
    disclosed = None
    with report.checking("disclosures"):
        try:
            disclosed = sd_jwt.disclose(presentation)
        except SdJwtError as exc:
            report.problem(str(exc))
    claims = disclosed.claims if disclosed else {}
    issued_at = None
    if disclosed:
        with report.checking("credential's content"):
            for name, value in summarize(claims).items():
                setattr(report, name, value)
            if claims.get("vct") != VCT:
                report.problem(f"the credential's type (vct) is {claims.get('vct')!r}, not {VCT}")
            issued_at = jws.check_times(claims, report, now)
    with report.checking("seal"):
        jws.check_issuer_seal(token, report, trust_anchors, now, issued_at)
    if audience is not None and nonce is not None and disclosed:
        with report.checking("holder's key binding"):
            try:
                sd_jwt.check_key_binding(presentation, claims, audience=audience, nonce=nonce, now=now)
            except SdJwtError as exc:
                report.problem(str(exc))
    report.schema_outcome(None, against="", skipped="an SD-JWT VC has no schema to check here; its claims were read")
    return report


def metadata_claims() -> list[dict[str, Any]]:
    """OpenID4VCI 1.0 `credential_metadata.claims`: every claim's path and its en/lt labels."""
    return [{"path": [name], "display": [{"locale": "en", "name": en}, {"locale": "lt", "name": lt}]}
            for name, (en, lt) in CLAIM_LABELS.items()]

