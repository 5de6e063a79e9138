"""The ELM v3 JSON-LD credential (`EuropeanDigitalCredential`) of one credential, from the internal model.

The second serialization of the same `Credential` the EDC v1 XML builder reads; the mapping choices
are the same (xml_builder.py explains them), only the vocabulary of the output differs. The shape was
read off the EU's own Annex I micro-credential sample (Sample-MC-Annex1-unsigned.jsonld) and is
checked against the EU's SHACL shapes (shacl_check.py):

    EuropeanDigitalCredential  id=urn:credential:<uuid>  issued  validFrom  [validUntil]
      credentialProfiles (Generic)  credentialSchema (edc-generic-full)  displayParameter (images)
      issuer -> Organisation (legalName, eIDASIdentifier, location/address/countryCode, ...)
      credentialSubject -> Person (names, e-mail, Moodle id)
        hasClaim -> LearningAchievement
          specifiedBy -> Qualification (ECTS creditPoint, eqfLevel, learningOutcome, volumeOfLearning,
                         mode, entryRequirement, ISCED-F, notes: QA, stackability, ...)
          provenBy    -> LearningAssessment (grade, idVerification) -> LearningAssessmentSpecification
          awardedBy   -> AwardingProcess (awardingBody -> Organisation and its country, awardingDate)

Nodes are written out in full wherever they are referred to (as the EU sample does), not as bare
ids, because wallets read the JSON as a tree. Node ids are local (urn:epass:<kind>:<n>), as in the
sample. The output is deterministic: the same Credential gives the same document and, through
`serialize_elm3`, the same bytes — the seal covers exactly those bytes.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Mapping

from bridge.edc import vocabularies as vocab
from bridge.edc.elm3_image import course_png_base64
from bridge.edc.status import credential_status_value
from bridge.edc.annex_notes import annex_notes, in_languages
from bridge.edc.model import Credential, CourseSpec, Learner, Organisation

CONTEXT = ["https://www.w3.org/2018/credentials/v1", "http://data.europa.eu/snb/model/context/edc-ap"]
TYPES = ["VerifiableCredential", "EuropeanDigitalCredential"]
# What the EU builder writes; we check the no-cv shapes and (when present) the full ones offline.
CREDENTIAL_SCHEMA = {"id": "http://data.europa.eu/snb/model/ap/edc-generic-full", "type": "ShaclValidator2017"}

PERSON_ID = "urn:epass:person:1"
ACHIEVEMENT_ID = "urn:epass:learningAchievement:1"
QUALIFICATION_ID = "urn:epass:qualification:1"
ASSESSMENT_ID = "urn:epass:learningAssessment:1"
ASSESSMENT_SPEC_ID = "urn:epass:learningAssessmentSpec:1"
AWARDING_PROCESS_ID = "urn:epass:awardingProcess:1"
ISSUER_ID = "urn:epass:org:1"
AWARDING_BODY_ID = "urn:epass:org:2"
LEARNER_ID_SCHEME = "moodle-user-id"  # the same scheme name the XML builder writes
COURSE_CODE_SCHEME = "course-code"

# Concepts the v3 sample shows and vocabularies.py (written for v1) has no table for.
ECTS = vocab.ECTS
BASE64 = vocab.Concept(vocab.Scheme(f"{vocab.SNB}/encoding/25831c2", {"en": "Encoding"}),
                       f"{vocab.SNB}/encoding/6146cde7dd", {"en": "base64"})
PNG = vocab.Concept(vocab.Scheme(f"{vocab.AUTHORITY}/file-type", {"en": "File type"}, notation="file-type"),
                    f"{vocab.AUTHORITY}/file-type/PNG", {"en": "PNG"})
ESCO_SKILLS_SCHEME = "http://data.europa.eu/esco/concept-scheme/skills"
# Our own small list for the subjects of notes (ELM v3 wants a Concept there, not a string).
NOTE_SUBJECT_SCHEME = vocab.Scheme("urn:epass:conceptScheme:edc-bridge-note-subjects", {"en": "Note subjects"})

DISPLAY_TITLE = {"en": "Micro-credential", "lt": "Mikrokredencialas"}
DISPLAY_DESCRIPTION = {"en": "has successfully completed a micro-credential",
                       "lt": "sėkmingai įgijo mikrokredencialą"}


class Elm3MappingError(ValueError):
    """The model holds a value ELM v3 as we write it cannot express (e.g. a language we have no code for)."""


def _timestamp(value: dt.datetime, what: str) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise Elm3MappingError(f"{what} has no time zone; credential dates must say which moment they mean")
    return value.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class _Writer:
    """Knows the credential's languages, so every label comes out in the same languages."""

    def __init__(self, spec: CourseSpec):
        self.primary = spec.primary_language
        self.languages = spec.languages_primary_first
        unknown = [l for l in self.languages if l not in vocab.LANGUAGES]
        if unknown:
            raise Elm3MappingError(f"language(s) {', '.join(unknown)} have no code in the EU language list we know")

    def labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """A vocabulary's labels in the credential's languages (English when it has none of them)."""
        return in_languages(labels, self.languages)

    def plain(self, words: str) -> dict[str, str]:
        """A text that is the same in every language (a name): written once, in the primary language."""
        return {self.primary: words}

    def concept(self, concept: vocab.Concept) -> dict[str, Any]:
        node: dict[str, Any] = {
            "id": concept.uri, "type": "Concept",
            "inScheme": {"id": concept.scheme.url, "type": "ConceptScheme"},
            "prefLabel": self.labels(concept.labels),
        }
        if concept.scheme.notation:
            node["notation"] = concept.scheme.notation
        return node

    def note(self, node_id: str, text: Mapping[str, str], subject_key: str | None = None) -> dict[str, Any]:
        note: dict[str, Any] = {"id": node_id, "type": "Note", "noteLiteral": dict(text)}
        if subject_key:
            subject = vocab.Concept(NOTE_SUBJECT_SCHEME, f"urn:epass:concept:note-subject:{subject_key}",
                                    {"en": vocab.NOTE_SUBJECTS[subject_key]})
            note["subject"] = self.concept(subject)
        return note

    def language(self, lang: str) -> dict[str, Any]:
        return self.concept(vocab.LANGUAGES[lang])


_country, _isced = vocab.country, vocab.isced_f  # a code we have no label for is labelled by itself


# --- who: organisations and the learner ---------------------------------------------------------


def _same_organisation(a: Organisation, b: Organisation) -> bool:
    return a == b


def _awarding_body_id(spec: CourseSpec) -> str:
    return ISSUER_ID if _same_organisation(spec.issuer, spec.awarding_body) else AWARDING_BODY_ID


def _organisation(w: _Writer, org: Organisation, org_id: str) -> dict[str, Any]:
    n = org_id.rsplit(":", 1)[1]
    country = w.concept(_country(org.country))
    address: dict[str, Any] = {"id": f"urn:epass:address:{n}", "type": "Address", "countryCode": country}
    if org.address:
        address["fullAddress"] = w.note(f"urn:epass:note:address-{n}", org.address)
    location: dict[str, Any] = {"id": f"urn:epass:location:{n}", "type": "Location", "address": address}
    if org.region:
        location["spatialCode"] = w.concept(vocab.nuts_region(org.region))
    node: dict[str, Any] = {
        "id": org_id, "type": "Organisation",
        "legalName": dict(org.name),
        # The issuer must carry one eIDAS legal identifier (the EDC shapes insist); it is also the
        # organisation's registration, as the v1 XML says it.
        "eIDASIdentifier": {"id": f"urn:epass:legalIdentifier:{n}", "type": "LegalIdentifier",
                            "notation": org.legal_identifier, "spatial": country},
        "location": location,
    }
    if org.vat_identifier:
        node["vatIdentifier"] = {"id": f"urn:epass:legalIdentifier:vat-{n}", "type": "LegalIdentifier",
                                 "notation": org.vat_identifier, "spatial": country}
    if org.homepage:
        node["homepage"] = {"id": f"urn:epass:webResource:org-{n}", "type": "WebResource", "contentURL": org.homepage}
    if org.email:
        node["contactPoint"] = {"id": f"urn:epass:contactPoint:org-{n}", "type": "ContactPoint",
                                "emailAddress": {"id": f"mailto:{org.email}", "type": "Mailbox"}}
    return node


def _awarding_process(w: _Writer, c: Credential) -> dict[str, Any]:
    body_id = _awarding_body_id(c.spec)
    body = c.spec.issuer if body_id == ISSUER_ID else c.spec.awarding_body
    return {"id": AWARDING_PROCESS_ID, "type": "AwardingProcess",
            "awardingBody": _organisation(w, body, body_id),
            "awardingDate": _timestamp(c.issuance.awarded_at, "the award date")}


def _person(w: _Writer, c: Credential) -> dict[str, Any]:
    learner: Learner = c.learner
    return {
        "id": PERSON_ID, "type": "Person",
        # The Moodle user id is unique only within the issuer's site, hence the issuer as scheme agency.
        "identifier": {"id": "urn:epass:identifier:learner", "type": "Identifier", "notation": learner.id,
                       "schemeName": LEARNER_ID_SCHEME,
                       "schemeAgency": {w.primary: c.spec.issuer.name.get_in(w.primary)}},
        "contactPoint": {"id": "urn:epass:contactPoint:learner", "type": "ContactPoint",
                         "emailAddress": {"id": f"mailto:{learner.email}", "type": "Mailbox"}},
        "fullName": w.plain(learner.full_name),
        "givenName": w.plain(learner.given_names),
        "familyName": w.plain(learner.family_name),
        "hasClaim": _achievement(w, c),
    }


# --- what: the achievement, its specification and its assessment --------------------------------


def _achievement(w: _Writer, c: Credential) -> dict[str, Any]:
    node = {
        "id": ACHIEVEMENT_ID, "type": "LearningAchievement",
        "title": dict(c.spec.title),
        "awardedBy": _awarding_process(w, c),
        "provenBy": _assessment(w, c),
        "specifiedBy": _qualification(w, c.spec),
    }
    if c.parts:
        node["hasPart"] = [_part(w, c, n, part) for n, part in enumerate(c.parts, start=1)]
    return node


PART_ID_SCHEME = "credential-id"  # the same scheme name the XML builder writes


def _part(w: _Writer, c: Credential, n: int, part) -> dict[str, Any]:
    """One micro-credential a programme credential is made of, named by its credential id."""
    body = part.awarding_body
    # "part-<n>", not "part:<n>": _organisation names its nodes after the last segment of the id.
    body_id = ISSUER_ID if _same_organisation(body, c.spec.issuer) else f"urn:epass:org:part-{n}"
    specification: dict[str, Any] = {"id": f"urn:epass:learningAchievementSpec:part:{n}",
                                     "type": "LearningAchievementSpecification", "title": dict(part.title)}
    if part.ects_text:
        specification["creditPoint"] = [{"id": f"urn:epass:creditPoint:part:{n}", "type": "CreditPoint",
                                         "framework": w.concept(ECTS), "point": part.ects_text}]
    return {
        "id": f"urn:epass:learningAchievement:part:{n}", "type": "LearningAchievement",
        "identifier": [{"id": f"urn:epass:identifier:part:{n}", "type": "Identifier", "notation": part.credential_id,
                        "schemeName": PART_ID_SCHEME}],
        "title": dict(part.title),
        "awardedBy": {"id": f"urn:epass:awardingProcess:part:{n}", "type": "AwardingProcess",
                      "awardingBody": _organisation(w, body, body_id),
                      "awardingDate": _timestamp(part.awarded_at, "a part's award date")},
        "specifiedBy": specification,
    }


def _assessment(w: _Writer, c: Credential) -> dict[str, Any]:
    spec = c.spec
    kind = vocab.ASSESSMENT_TYPES[spec.assessment_type]
    # An assessment must carry a grade; a course that reports none was passed, so we say that.
    grade = w.plain(c.issuance.grade) if c.issuance.grade else w.labels(vocab.PASSED)
    node: dict[str, Any] = {
        "id": ASSESSMENT_ID, "type": "LearningAssessment",
        "title": w.labels(kind.labels),
        "grade": w.note("urn:epass:note:grade", grade),
        "dateIssued": _timestamp(c.issuance.awarded_at, "the award date"),
        "awardedBy": _awarding_process(w, c),
        "specifiedBy": _assessment_spec(w, spec),
    }
    if spec.supervision in vocab.SUPERVISION:
        node["idVerification"] = w.concept(vocab.SUPERVISION[spec.supervision])
    unlisted = vocab.SUPERVISION_WITHOUT_CODE.get(spec.supervision or "")
    if unlisted:
        # No concept in the list says "supervised, no ID check": stated in words, as in the XML.
        node["additionalNote"] = [w.note("urn:epass:note:supervision", w.labels(unlisted), "supervision")]
    return node


def _assessment_spec(w: _Writer, spec: CourseSpec) -> dict[str, Any]:
    kind = vocab.ASSESSMENT_TYPES[spec.assessment_type]
    node: dict[str, Any] = {
        "id": ASSESSMENT_SPEC_ID, "type": "LearningAssessmentSpecification",
        "title": w.labels(kind.labels),
        "dcType": w.concept(kind),
        "language": [w.language(w.primary)],
    }
    if spec.assessment_description:
        node["description"] = dict(spec.assessment_description)
    if spec.grading_scheme:
        node["gradingScheme"] = {"id": "urn:epass:gradingScheme:1", "type": "GradingScheme",
                                 "title": dict(spec.grading_scheme)}
    return node


def _qualification(w: _Writer, spec: CourseSpec) -> dict[str, Any]:
    # A Qualification, not a plain LearningAchievementSpecification: only it has eqfLevel, and the
    # EQF level is a mandatory Annex I element (the EU's micro-credential sample does the same).
    level = vocab.EQF_LEVELS.get(str(spec.eqf_level))
    if level is None:
        raise Elm3MappingError(f"EQF level {spec.eqf_level} does not exist (levels are 1 to 8)")
    node: dict[str, Any] = {
        "id": QUALIFICATION_ID, "type": "Qualification",
        "title": dict(spec.title),
        "creditPoint": {"id": "urn:epass:creditPoint:1", "type": "CreditPoint",
                        "framework": w.concept(ECTS), "point": spec.ects_text},
        "eqfLevel": w.concept(level),
        "learningOutcome": [_outcome(w, n, lo) for n, lo in enumerate(spec.learning_outcomes, start=1)],
        "mode": [w.concept(vocab.LEARNING_MODES[spec.participation_mode])],
        # The model has no separate language of instruction; the primary language stands for it.
        "language": [w.language(w.primary)],
        "provenBy": [_assessment_spec(w, spec)],
    }
    if spec.code:
        node["identifier"] = {"id": "urn:epass:identifier:course", "type": "Identifier",
                              "notation": spec.code, "schemeName": COURSE_CODE_SCHEME}
    if spec.description:
        node["description"] = dict(spec.description)
    if spec.hours:
        node["volumeOfLearning"] = f"PT{spec.hours}H"
    if spec.prerequisites:
        node["entryRequirement"] = w.note("urn:epass:note:entry-requirement", spec.prerequisites)
    if spec.isced_f:
        node["thematicArea"] = [w.concept(_isced(spec.isced_f))]
    if spec.homepage:
        node["homepage"] = [{"id": "urn:epass:webResource:course", "type": "WebResource", "contentURL": spec.homepage}]
    if spec.quality_assurance_url:
        title = spec.quality_assurance_body or w.labels({"en": "Quality assurance", "lt": "Kokybės užtikrinimas"})
        node["supplementaryDocument"] = [{"id": "urn:epass:webResource:quality-assurance", "type": "WebResource",
                                          "contentURL": spec.quality_assurance_url, "title": dict(title)}]
    notes = [w.note(f"urn:epass:note:{key.replace('_', '-')}", text, key) for text, key in annex_notes(spec, w.languages, w.primary)]
    if notes:
        node["additionalNote"] = notes
    return node


def _outcome(w: _Writer, n: int, lo) -> dict[str, Any]:
    node: dict[str, Any] = {"id": f"urn:epass:learningOutcome:{n}", "type": "LearningOutcome", "title": dict(lo.text)}
    if lo.type in vocab.SKILL_TYPES:
        node["dcType"] = w.concept(vocab.SKILL_TYPES[lo.type])
    if lo.esco_skill:
        # We know the ESCO skill's URI, not its label, so the concept carries no prefLabel.
        node["relatedESCOSkill"] = [{"id": lo.esco_skill, "type": "Concept", "notation": "Skill",
                                     "inScheme": {"id": ESCO_SKILLS_SCHEME, "type": "ConceptScheme"}}]
    return node


# --- how it looks: the display parameter ----------------------------------------------------------


def _display(w: _Writer, c: Credential) -> dict[str, Any]:
    spec = c.spec
    individual = []
    for n, lang in enumerate(w.languages, start=1):
        # The course's picture: nothing personal on it, so drawn once per course and language (elm3_image).
        content = course_png_base64(lang, title=spec.title.get_in(lang, w.primary),
                                    issuer=spec.issuer.name.get_in(lang, w.primary), ects=spec.ects_text,
                                    eqf=str(spec.eqf_level))
        image = {"id": f"urn:epass:mediaObject:{n}", "type": "MediaObject", "content": content,
                 "contentEncoding": w.concept(BASE64), "contentType": w.concept(PNG)}
        individual.append({
            "id": f"urn:epass:individualDisplay:{n}", "type": "IndividualDisplay", "language": w.language(lang),
            "displayDetail": [{"id": f"urn:epass:displayDetail:{n}", "type": "DisplayDetail", "page": 1,
                               "image": image}],
        })
    return {
        "id": "urn:epass:displayParameter:1", "type": "DisplayParameter",
        "title": w.labels(DISPLAY_TITLE), "description": w.labels(DISPLAY_DESCRIPTION),
        "language": [w.language(lang) for lang in w.languages],
        "primaryLanguage": w.language(w.primary),
        "individualDisplay": individual,
    }


# --- the whole document --------------------------------------------------------------------------


def build_elm3(credential: Credential) -> dict[str, Any]:
    """The unsealed ELM v3 credential as a JSON-LD object (the sealer signs `serialize_elm3` of it)."""
    credential_id = credential.issuance.credential_id
    if not credential_id.startswith("urn:credential:"):
        raise Elm3MappingError(f"credential id {credential_id!r} is not of the form urn:credential:<uuid>")
    w = _Writer(credential.spec)
    issuance = credential.issuance
    doc: dict[str, Any] = {
        "@context": list(CONTEXT),
        "id": credential_id,
        "type": list(TYPES),
        "credentialProfiles": [w.concept(vocab.CREDENTIAL_TYPES["generic"])],
        "credentialSchema": [dict(CREDENTIAL_SCHEMA)],
        "issuer": _organisation(w, credential.spec.issuer, ISSUER_ID),
        "issued": _timestamp(issuance.issued_at, "the issue date"),
        "validFrom": _timestamp(issuance.awarded_at, "the award date"),
        "credentialSubject": _person(w, credential),
        "displayParameter": _display(w, credential),
    }
    if issuance.valid_until:
        doc["validUntil"] = _timestamp(issuance.valid_until, "the expiry date")
    if issuance.status_url:  # one URI, typed as the EDC shapes ask (bridge/edc/status.py)
        doc["credentialStatus"] = credential_status_value(issuance.status_url)
    return doc


def serialize_elm3(doc: Mapping[str, Any]) -> bytes:
    """The exact bytes that are sealed: compact UTF-8 JSON with sorted keys (same document, same bytes)."""
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")
