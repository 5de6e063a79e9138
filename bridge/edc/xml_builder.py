"""The unsealed EDC v1 XML (`europassCredential`) of one credential, built from the internal model.

Where each model element goes was read off the EU's own samples (EDC_SampleDegree_AA.xml and the
Credentials_Learning_Model.md beside it) and checked against genericschema_1.2.xsd. Everything the
schema has a dedicated element for goes there; what it has none for (quality assurance,
stackability, further information, QF-EHEA cycle, the form of participation) travels as an
`additionalNote` with a fixed English `subject`, which is how the samples carry such facts.

Shape of the document (ids are local to the file, as in the samples):

    europassCredential cred:id=urn:credential:<uuid>
      type (Generic) primaryLanguage availableLanguages cred:validFrom cred:issued [cred:validUntil]
      cred:issuer -> org:1      title  [description]
      credentialSubject (learner)
        achievements/learningAchievement
          wasDerivedFrom (the assessment: grade, idVerificationMethod) -> assessmentSpec:1
          wasAwardedBy -> awardingProcess:1        specifiedBy -> qualification:1
      learningSpecificationReferences/qualification (ECTS, hours, EQF, ISCED-F, outcomes, notes)
      learningOutcomeReferences      assessmentSpecificationReferences
      agentReferences (issuer org:1, awarding body org:2 when it is another organisation)
      awardingProcessReferences      scoringSchemeReferences (grading scheme)

The sealer appends `<proof>` afterwards. In the schema's sequence `proof` follows
`displayParameters` and `attachmentList` and precedes `childCredentials`; we emit none of those
three, so `proof` is the last child. The output is deterministic: the same Credential gives the
same bytes, which the registry's hashes and the tests rely on.
"""
from __future__ import annotations

import datetime as dt
from typing import Mapping

from lxml import etree

from bridge.edc import vocabularies as vocab
from bridge.edc.annex_notes import annex_notes, in_languages
from bridge.edc.model import Credential, CourseSpec, Learner, Organisation

SNB_NS = "http://data.europa.eu/snb"
CRED_NS = "http://data.europa.eu/europass/model/credentials/w3c#"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {None: SNB_NS, "cred": CRED_NS, "xsi": XSI_NS}
SCHEMA_LOCATION = f"{SNB_NS} http://publications.europa.eu/resource/schema/credential/genericschema_1.2.xsd"
XSD_VERSION = "0.10.0"

PERSON_ID = "urn:epass:person:1"
ACHIEVEMENT_ID = "urn:epass:learningAchievement:1"
ASSESSMENT_ID = "urn:epass:assessment:1"
QUALIFICATION_ID = "urn:epass:qualification:1"
ASSESSMENT_SPEC_ID = "urn:epass:assessmentSpec:1"
AWARDING_PROCESS_ID = "urn:epass:awardingProcess:1"
SCORING_SCHEME_ID = "urn:epass:scoringScheme:1"
ISSUER_ID = "urn:epass:org:1"
AWARDING_BODY_ID = "urn:epass:org:2"
LEARNER_ID_SCHEME = "moodle-user-id"
COURSE_CODE_SCHEME = "course-code"


class XmlMappingError(ValueError):
    """The model holds a value EDC v1 cannot express (e.g. a language outside its 29)."""


def _snb(tag: str) -> str:
    return f"{{{SNB_NS}}}{tag}"


def _cred(tag: str) -> str:
    return f"{{{CRED_NS}}}{tag}"


def _timestamp(value: dt.datetime, what: str) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise XmlMappingError(f"{what} has no time zone; EDC dates must say which moment they mean")
    return value.replace(microsecond=0).isoformat()


class _Writer:
    """Knows the credential's languages, so every multilingual text comes out in the same order."""

    def __init__(self, spec: CourseSpec):
        self.primary = spec.primary_language
        self.languages = spec.languages_primary_first
        unknown = [l for l in self.languages if l not in vocab.EDC_LANGUAGES]
        if unknown:
            raise XmlMappingError(
                f"language(s) {', '.join(unknown)} cannot be written in EDC v1, which allows only: "
                + ", ".join(sorted(vocab.EDC_LANGUAGES))
            )

    def _ordered(self, text: Mapping[str, str], where: str) -> list[tuple[str, str]]:
        rank = {lang: i for i, lang in enumerate(self.languages)}
        for lang in text:
            if lang not in vocab.EDC_LANGUAGES:
                raise XmlMappingError(f"{where}: language '{lang}' cannot be written in EDC v1")
        return sorted(text.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0]))

    def text(self, parent: etree._Element, tag: str, text: Mapping[str, str]) -> etree._Element:
        """A TextType/NoteType element: one <text> per language, the primary language first."""
        element = etree.SubElement(parent, _snb(tag))
        for lang, words in self._ordered(text, tag):
            item = etree.SubElement(element, _snb("text"), lang=lang)
            item.set("content-type", "text/plain")
            try:
                item.text = words
            except ValueError as exc:  # control characters XML 1.0 cannot hold
                raise XmlMappingError(f"{tag} ({lang}): the text cannot be written in XML: {exc}") from None
        return element

    def plain(self, parent: etree._Element, tag: str, words: str) -> etree._Element:
        """A text that is the same in every language (a name): written once, in the primary language."""
        return self.text(parent, tag, {self.primary: words})

    def note(self, parent: etree._Element, text: Mapping[str, str], subject_key: str) -> etree._Element:
        element = self.text(parent, "additionalNote", text)
        etree.SubElement(element, _snb("subject")).text = vocab.NOTE_SUBJECTS[subject_key]
        return element

    def labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """A vocabulary's labels in the credential's languages (English when it has none of them)."""
        return in_languages(labels, self.languages)

    def code(self, parent: etree._Element, tag: str, concept: vocab.Concept) -> etree._Element:
        element = etree.SubElement(parent, _snb(tag))
        element.set("targetFrameworkUrl", concept.scheme.url)
        if concept.scheme.notation:
            element.set("targetNotation", concept.scheme.notation)
        element.set("uri", concept.uri)
        self.text(element, "targetName", self.labels(concept.labels))
        self.text(element, "targetFrameworkName", self.labels(concept.scheme.name))
        return element

    def in_languages(self, table: Mapping[str, str]) -> dict[str, str]:
        """Our own fixed wording (vocabularies.py) in the credential's languages."""
        return self.labels(table)


def _idref(parent: etree._Element, tag: str, target: str) -> etree._Element:
    return etree.SubElement(parent, _snb(tag), idref=target)


# --- the credential subject ----------------------------------------------------------------------


def _subject(w: _Writer, root: etree._Element, c: Credential) -> None:
    learner: Learner = c.learner
    subject = etree.SubElement(root, _snb("credentialSubject"), id=PERSON_ID)
    # The Moodle user id is unique only within the issuer's site, hence the issuer as scheme agency.
    identifier = etree.SubElement(subject, _snb("identifier"), schemeID=LEARNER_ID_SCHEME)
    identifier.set("schemeAgencyName", c.spec.issuer.name.get_in(w.primary))
    identifier.text = learner.id
    contact = etree.SubElement(subject, _snb("contactPoint"))
    etree.SubElement(contact, _snb("mailBox"), uri=f"mailto:{learner.email}")
    w.plain(subject, "fullName", learner.full_name)
    w.plain(subject, "givenNames", learner.given_names)
    w.plain(subject, "familyName", learner.family_name)
    _achievement(w, etree.SubElement(subject, _snb("achievements")), c)


def _achievement(w: _Writer, achievements: etree._Element, c: Credential) -> None:
    spec = c.spec
    achievement = etree.SubElement(achievements, _snb("learningAchievement"), id=ACHIEVEMENT_ID)
    w.text(achievement, "title", spec.title)
    _assessment(w, achievement, c)
    _idref(achievement, "wasAwardedBy", AWARDING_PROCESS_ID)
    if c.parts:
        _part_achievements(w, achievement, c)
    _idref(achievement, "specifiedBy", QUALIFICATION_ID)


# --- the parts of a programme credential (its micro-credentials) ---------------------------------
PART_ID_SCHEME = "credential-id"


def _part_achievements(w: _Writer, achievement: etree._Element, c: Credential) -> None:
    """`hasPart`: one sub-achievement per micro-credential, naming it by its credential id."""
    holder = etree.SubElement(achievement, _snb("hasPart"))
    for n, part in enumerate(c.parts, start=1):
        sub = etree.SubElement(holder, _snb("learningAchievement"), id=f"urn:epass:learningAchievement:part:{n}")
        etree.SubElement(sub, _snb("identifier"), schemeID=PART_ID_SCHEME).text = part.credential_id
        w.text(sub, "title", part.title)
        _idref(sub, "wasAwardedBy", f"urn:epass:awardingProcess:part:{n}")
        _idref(sub, "specifiedBy", f"urn:epass:learningSpecification:part:{n}")


def _part_references(w: _Writer, root: etree._Element, c: Credential) -> None:
    """What the sub-achievements refer to: a learning specification (title, ECTS), an awarding process
    (date, awarding body) and the awarding body, written once when it is the issuer's or another's."""
    specifications = root.find(_snb("learningSpecificationReferences"))
    agents = root.find(_snb("agentReferences"))
    processes = root.find(_snb("awardingProcessReferences"))
    known = {(c.spec.issuer.legal_identifier, c.spec.issuer.country): ISSUER_ID,
             (c.spec.awarding_body.legal_identifier, c.spec.awarding_body.country): _awarding_body_id(c.spec)}
    for n, part in enumerate(c.parts, start=1):
        spec = etree.SubElement(specifications, _snb("learningSpecification"), id=f"urn:epass:learningSpecification:part:{n}")
        w.text(spec, "title", part.title)
        if part.ects_text:
            etree.SubElement(spec, _snb("hasECTSCreditPoints")).text = part.ects_text
        body = part.awarding_body
        body_id = known.get((body.legal_identifier, body.country))
        if body_id is None:
            body_id = known[(body.legal_identifier, body.country)] = f"urn:epass:org:part:{n}"
            _organisation(w, agents, body, body_id)
        process = etree.SubElement(processes, _snb("awardingProcess"), id=f"urn:epass:awardingProcess:part:{n}")
        _idref(process, "awardingBody", body_id)
        etree.SubElement(process, _snb("date")).text = _timestamp(part.awarded_at, "a part's award date")


def _assessment(w: _Writer, achievement: etree._Element, c: Credential) -> None:
    spec = c.spec
    assessment = etree.SubElement(achievement, _snb("wasDerivedFrom"), id=ASSESSMENT_ID)
    w.text(assessment, "title", w.labels(vocab.ASSESSMENT_TYPES[spec.assessment_type].labels))
    unlisted = vocab.SUPERVISION_WITHOUT_CODE.get(spec.supervision or "")
    if unlisted:
        # No concept in the samples' supervision list says "supervised, no ID check": stated in words.
        w.note(assessment, w.in_languages(unlisted), "supervision")
    # An EDC assessment must carry a grade; a course that reports none was passed, so we say that.
    etree.SubElement(assessment, _snb("grade")).text = c.issuance.grade or vocab.PASSED.get(w.primary, "passed")
    etree.SubElement(assessment, _snb("issuedDate")).text = _timestamp(c.issuance.awarded_at, "the award date")
    if spec.supervision in vocab.SUPERVISION:
        w.code(assessment, "idVerificationMethod", vocab.SUPERVISION[spec.supervision])
    _idref(assessment, "assessedBy", _awarding_body_id(spec))
    _idref(assessment, "specifiedBy", ASSESSMENT_SPEC_ID)


# --- the specification (what was learned) --------------------------------------------------------


def _qualification(w: _Writer, root: etree._Element, spec: CourseSpec) -> None:
    # A `qualification`, not a plain `learningSpecification`: only the qualification variant has the
    # eqfLevel element, and the EQF level is a mandatory Annex I element of a micro-credential.
    holder = etree.SubElement(root, _snb("learningSpecificationReferences"))
    q = etree.SubElement(holder, _snb("qualification"), id=QUALIFICATION_ID)
    if spec.code:
        etree.SubElement(q, _snb("identifier"), schemeID=COURSE_CODE_SCHEME).text = spec.code
    w.text(q, "title", spec.title)
    if spec.description:
        w.text(q, "description", spec.description)
    for text, subject in annex_notes(spec, w.languages, w.primary):
        w.note(q, text, subject)
    if spec.homepage:
        etree.SubElement(q, _snb("homepage"), uri=spec.homepage)
    if spec.quality_assurance_url:
        doc = etree.SubElement(q, _snb("supplementaryDoc"), uri=spec.quality_assurance_url)
        w.text(doc, "title", spec.quality_assurance_body or w.in_languages(
            {"en": "Quality assurance", "lt": "Kokybės užtikrinimas"}))
    if spec.isced_f:
        w.code(q, "hasISCED-FCode", _isced(spec.isced_f))
    if spec.hours:
        etree.SubElement(q, _snb("volumeOfLearning")).text = f"PT{spec.hours}H"
    etree.SubElement(q, _snb("hasECTSCreditPoints")).text = spec.ects_text
    # The model has no separate language of instruction; the credential's primary language stands for it.
    w.code(q, "language", vocab.LANGUAGES[w.primary])
    w.code(q, "mode", vocab.LEARNING_MODES[spec.participation_mode])
    if spec.prerequisites:
        w.text(q, "entryRequirementsNote", spec.prerequisites)
    outcomes = etree.SubElement(q, _snb("learningOutcomes"))
    for n, _ in enumerate(spec.learning_outcomes, start=1):
        _idref(outcomes, "learningOutcome", _outcome_id(n))
    _idref(q, "assessmentSpecification", ASSESSMENT_SPEC_ID)
    level = vocab.EQF_LEVELS.get(str(spec.eqf_level))
    if level is None:
        raise XmlMappingError(f"EQF level {spec.eqf_level} does not exist (levels are 1 to 8)")
    w.code(q, "eqfLevel", level)


_isced = vocab.isced_f  # a code we have no label for is still a valid reference, labelled by itself


def _outcome_id(n: int) -> str:
    return f"urn:epass:learningOutcome:{n}"


def _outcomes(w: _Writer, root: etree._Element, spec: CourseSpec) -> None:
    holder = etree.SubElement(root, _snb("learningOutcomeReferences"))
    for n, lo in enumerate(spec.learning_outcomes, start=1):
        outcome = etree.SubElement(holder, _snb("learningOutcome"), id=_outcome_id(n))
        w.text(outcome, "prefLabel", lo.text)
        if lo.type in vocab.SKILL_TYPES:
            w.code(outcome, "learningOutcomeType", vocab.SKILL_TYPES[lo.type])
        if lo.esco_skill:
            # We know the ESCO skill's URI, not its label: targetName may hold no text (TextType 0..n).
            skill = etree.SubElement(outcome, _snb("relatedEscoSkill"))
            skill.set("targetFrameworkUrl", "http://data.europa.eu/esco/model#Skill")
            skill.set("targetNotation", "Skill")
            skill.set("uri", lo.esco_skill)
            etree.SubElement(skill, _snb("targetName"))


def _assessment_spec(w: _Writer, root: etree._Element, spec: CourseSpec) -> None:
    holder = etree.SubElement(root, _snb("assessmentSpecificationReferences"))
    a = etree.SubElement(holder, _snb("assessmentSpecification"), id=ASSESSMENT_SPEC_ID)
    if spec.assessment_description:
        w.text(a, "description", spec.assessment_description)
    w.code(a, "type", vocab.ASSESSMENT_TYPES[spec.assessment_type])
    if spec.grading_scheme:
        _idref(a, "gradingScheme", SCORING_SCHEME_ID)


# --- who: issuer, awarding body, awarding --------------------------------------------------------


def _same_organisation(a: Organisation, b: Organisation) -> bool:
    return a.legal_identifier == b.legal_identifier and a.country == b.country


def _awarding_body_id(spec: CourseSpec) -> str:
    return ISSUER_ID if _same_organisation(spec.issuer, spec.awarding_body) else AWARDING_BODY_ID


def _organisation(w: _Writer, holder: etree._Element, org: Organisation, org_id: str) -> None:
    o = etree.SubElement(holder, _snb("organization"), id=org_id)
    if org.email:
        contact = etree.SubElement(o, _snb("contactPoint"))
        etree.SubElement(contact, _snb("mailBox"), uri=f"mailto:{org.email}")
    etree.SubElement(o, _snb("registration")).text = org.legal_identifier
    if org.vat_identifier:
        # LegalIdentifierType requires spatialID; a VAT number starts with its country's two letters.
        etree.SubElement(o, _snb("vatIdentifier"), spatialID=org.vat_identifier[:2]).text = org.vat_identifier
    w.text(o, "prefLabel", org.name)
    if org.homepage:
        etree.SubElement(o, _snb("homepage"), uri=org.homepage)
    location = etree.SubElement(o, _snb("hasLocation"))
    address = etree.SubElement(location, _snb("hasAddress"))
    if org.address:
        w.text(address, "fullAddress", org.address)
    w.code(address, "country", _country(org.country))
    if org.region:
        w.code(location, "spatialCode", vocab.nuts_region(org.region))


_country = vocab.country


def _agents(w: _Writer, root: etree._Element, spec: CourseSpec) -> None:
    holder = etree.SubElement(root, _snb("agentReferences"))
    _organisation(w, holder, spec.issuer, ISSUER_ID)
    if _awarding_body_id(spec) == AWARDING_BODY_ID:
        _organisation(w, holder, spec.awarding_body, AWARDING_BODY_ID)


def _awarding(root: etree._Element, c: Credential) -> None:
    holder = etree.SubElement(root, _snb("awardingProcessReferences"))
    process = etree.SubElement(holder, _snb("awardingProcess"), id=AWARDING_PROCESS_ID)
    _idref(process, "awardingBody", _awarding_body_id(c.spec))
    etree.SubElement(process, _snb("date")).text = _timestamp(c.issuance.awarded_at, "the award date")


def _scoring(w: _Writer, root: etree._Element, spec: CourseSpec) -> None:
    if not spec.grading_scheme:
        return
    holder = etree.SubElement(root, _snb("scoringSchemeReferences"))
    scheme = etree.SubElement(holder, _snb("scoringScheme"), id=SCORING_SCHEME_ID)
    w.text(scheme, "description", spec.grading_scheme)


# --- the whole document --------------------------------------------------------------------------


def _head(w: _Writer, root: etree._Element, c: Credential) -> None:
    w.code(root, "type", vocab.CREDENTIAL_TYPES["generic"])
    etree.SubElement(root, _snb("primaryLanguage")).text = w.primary
    available = etree.SubElement(root, _snb("availableLanguages"))
    for lang in w.languages:
        etree.SubElement(available, _snb("language")).text = lang
    issuance = c.issuance
    etree.SubElement(root, _cred("validFrom")).text = _timestamp(issuance.awarded_at, "the award date")
    etree.SubElement(root, _cred("issued")).text = _timestamp(issuance.issued_at, "the issue date")
    if issuance.valid_until:
        etree.SubElement(root, _cred("validUntil")).text = _timestamp(issuance.valid_until, "the expiry date")
    etree.SubElement(root, _cred("issuer"), idref=ISSUER_ID)
    w.text(root, "title", c.spec.title)
    if c.spec.description:
        w.text(root, "description", c.spec.description)


def build_edc_tree(credential: Credential) -> etree._Element:
    """The unsealed credential as an element tree (what the sealer and the tests work on)."""
    credential_id = credential.issuance.credential_id
    if not credential_id.startswith("urn:credential:"):
        raise XmlMappingError(f"credential id {credential_id!r} is not of the form urn:credential:<uuid>")
    w = _Writer(credential.spec)
    root = etree.Element(_snb("europassCredential"), nsmap=NSMAP)
    root.set(f"{{{XSI_NS}}}schemaLocation", SCHEMA_LOCATION)
    root.set("xsdVersion", XSD_VERSION)
    root.set(_cred("id"), credential_id)
    _head(w, root, credential)
    _subject(w, root, credential)
    _qualification(w, root, credential.spec)
    _outcomes(w, root, credential.spec)
    _assessment_spec(w, root, credential.spec)
    _agents(w, root, credential.spec)
    _awarding(root, credential)
    _scoring(w, root, credential.spec)
    if credential.parts:
        _part_references(w, root, credential)
    return root


def build_edc_xml(credential: Credential) -> bytes:
    """The unsealed EDC v1 XML document, UTF-8 with its XML declaration; no `<proof>` (the sealer adds it)."""
    return etree.tostring(build_edc_tree(credential), xml_declaration=True, encoding="UTF-8", pretty_print=True)
