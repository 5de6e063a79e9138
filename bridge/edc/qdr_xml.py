"""Course descriptions as a QDR learning-opportunity document (`<Courses>`, loq.xsd), and back.

Europass registers courses from this XML. One document holds any number of courses; organisations
and places shared by several courses are written once. The shape, read off loq.xsd and its sample
loq.xml, for each course:

    learningOpportunity id=<course>:learning-opportunity
      identifier (course code)  title  description  type  additionalNote (participation, admission,
      schedule)  homepage  temporal (start, end)  duration  mode  learningSchedule  scheduleInformation
      admissionProcedure  applicationDeadline  priceDetail  providedBy -> provider (else the issuer)
      location -> where it is taught   learningAchievementSpecification -> the specification
      defaultLanguage (primary)  modified  publisher -> the issuer
    learningAchievementSpecification: title, notes (quality assurance, stackability, QF-EHEA cycle,
      further information, prerequisites, validity), QA document, ISCEDFCode, volumeOfLearning (hours),
      creditPoint (ECTS), educationLevel (EQF), language (primary), mode, learningSetting,
      entryRequirement, learningOutcome ->, provenBy -> assessment, awardingOpportunity (awardingBody)
    learningOutcome (title, type or a note, relatedESCOSkill)   learningAssessmentSpecification (type,
      description, grading scheme ->, supervision note)   organisation (legalName, eidasLegalIdentifier,
      vatIdentifier, homepage, location ->, contactPoint e-mail)   location (address, NUTS region)

A QDR note holds one text in one language, so a multilingual text with no multilingual element of
its own travels as one note per language with the same subject; a note's subject is a concept of
our own list whose `skos:notation` carries a coded value (the stackability kind, the supervision
method, the QF-EHEA cycle, the validity). That is what lets `read_qdr` give back every element of
the description, except `format` (which format this sidecar seals in: a setting, not a fact about
the course) and `schema_version`.

What Europass would refuse is refused first (`europass_problems`), naming the description's element
and the QDR element it is needed for; the document built is then checked against loq.xsd when a
schema folder is configured (qdr_schema.py). The output is deterministic.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping, Sequence
from urllib.parse import quote, unquote

from lxml import etree

from bridge.edc import vocabularies as vocab
from bridge.edc.annex_notes import in_languages
from bridge.edc.exports import CourseExport, ExportChecks, ExportRefused, refuse_on
from bridge.edc.model import CourseSpec, Organisation, Problem, Text

LOQ = "http://data.europa.eu/snb/model/ap/loq-constraints/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DC = "http://purl.org/dc/terms/"
NSMAP = {None: LOQ, "skos": SKOS, "dc": DC}
XSD_VERSION = "3.1.0"
COURSE_CODE_SCHEME = "course-code"
NOTE_SUBJECT = "urn:epass:concept:note-subject:"
ID_PREFIX = "urn:edc-bridge:"
SUPERVISION_UNLISTED = "urn:epass:concept:supervision:"
GRADING_FIELDS = ("grading-scheme", "assessment-grading-scheme")  # grading.scheme, assessment.grading_scheme


class QdrError(ValueError):
    """A QDR document we cannot read back (not ours, or broken)."""


@dataclass(frozen=True)
class CourseEntry:
    """One course to export: a key naming it (`site/course`, or a file's name) and its description."""

    key: str
    spec: CourseSpec
    modified: dt.datetime | None = None


# --- what Europass needs -------------------------------------------------------------------------

REQUIRED = (
    ("homepage", "/homepage", "the course's homepage (QDR learningOpportunity/homepage; ELM homepage)"),
    ("isced_f", "/isced_f", "the ISCED-F field of education (QDR learningAchievementSpecification/ISCEDFCode)"),
)


def europass_problems(spec: CourseSpec) -> list[Problem]:
    """What a description lacks for Europass (elements optional for a credential, required in the QDR)."""
    problems = [Problem(pointer, f"missing element Europass requires: {words}")
                for attribute, pointer, words in REQUIRED if not getattr(spec, attribute)]
    unknown = [lang for lang in spec.languages_primary_first if lang not in vocab.LANGUAGES]
    if unknown:
        problems.append(Problem("/languages", f"language(s) {', '.join(unknown)} have no code in the EU language "
                                              "list (QDR language, defaultLanguage)"))
    return problems


def refuse_incomplete(entries: Sequence[CourseEntry]) -> None:
    """Raise ExportRefused naming, per course, every element Europass would miss (and an empty export,
    or a course given twice, which no register takes either)."""
    if not entries:
        raise ExportRefused({"": [Problem("", "no course description to export")]})
    keys = [entry.key for entry in entries]
    if len(set(keys)) != len(keys):
        raise ExportRefused({"": [Problem("", "a course is given twice; each course is exported once")]})
    problems = {entry.key: found for entry in entries if (found := europass_problems(entry.spec))}
    if problems:
        raise ExportRefused(problems)


# --- writing -------------------------------------------------------------------------------------


def _q(tag: str, ns: str = LOQ) -> str:
    return f"{{{ns}}}{tag}"


def _ordered(text: Mapping[str, str], languages: Sequence[str]) -> list[tuple[str, str]]:
    rank = {lang: i for i, lang in enumerate(languages)}
    return sorted(text.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0]))


def _datetime(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00"


def _course_base(key: str) -> str:
    return f"{ID_PREFIX}course:{quote(key, safe='')}"


class _Document:
    """The `<Courses>` tree being built, with its shared organisations and places."""

    def __init__(self) -> None:
        self.root = etree.Element(_q("Courses"), nsmap=NSMAP)
        self.root.set("xsdVersion", XSD_VERSION)
        self.sections = {name: etree.SubElement(self.root, _q(name)) for name in (
            "learningOpportunityReferences", "learningAchievementSpecificationReferences",
            "learningOutcomeReferences", "learningAssessmentSpecificationReferences", "agentReferences",
            "gradingSchemeReferences", "locationReferences")}
        self.organisations: dict[str, str] = {}  # canonical JSON of an organisation -> its id
        self.taken_ids: set[str] = set()

    def finish(self) -> etree._Element:
        for section in list(self.sections.values()):
            if len(section) == 0:
                self.root.remove(section)
        return self.root

    def organisation_id(self, org: Organisation, languages: Sequence[str]) -> str:
        """The id of `org` in this document, written on first use (same data, same record)."""
        canonical = json.dumps(org.__dict__, sort_keys=True, ensure_ascii=False, default=dict)
        known = self.organisations.get(canonical)
        if known:
            return known
        org_id = f"{ID_PREFIX}organisation:{org.country}:{quote(org.legal_identifier, safe='')}"
        if org_id in self.taken_ids:  # the same organisation described differently by another course
            org_id += ":" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8]
        self.taken_ids.add(org_id)
        self.organisations[canonical] = org_id
        _organisation(self, org, org_id, languages)
        return org_id


class _Course:
    """Writes one course's elements into the document."""

    def __init__(self, doc: _Document, entry: CourseEntry) -> None:
        self.doc, self.entry, self.spec = doc, entry, entry.spec
        self.base = _course_base(entry.key)
        self.languages = self.spec.languages_primary_first
        self.primary = self.spec.primary_language

    # small pieces

    def texts(self, parent: etree._Element, tag: str, text: Mapping[str, str], ns: str = LOQ) -> None:
        for lang, words in _ordered(text, self.languages):
            etree.SubElement(parent, _q(tag, ns), language=lang).text = words

    def concept(self, parent: etree._Element, tag: str, concept: vocab.Concept, *, labelled: bool = False,
                ns: str = LOQ) -> etree._Element:
        """A concept: only its URI where loq.xsd restricts the list, else labelled with its scheme too."""
        element = etree.SubElement(parent, _q(tag, ns), uri=concept.uri)
        if labelled:
            self.texts(element, "prefLabel", in_languages(concept.labels, self.languages), SKOS)
            etree.SubElement(element, _q("inScheme", SKOS)).text = concept.scheme.url
        return element

    def notes(self, parent: etree._Element, key: str, text: Mapping[str, str], value: str | None = None,
              tag: str = "additionalNote") -> None:
        """One note per language, each with the subject `key` (and the coded `value` as its notation)."""
        for lang, words in _ordered(text, self.languages):
            note = etree.SubElement(parent, _q(tag))
            subject = etree.SubElement(note, _q("subject", DC), uri=NOTE_SUBJECT + key)
            etree.SubElement(subject, _q("prefLabel", SKOS), language="en").text = vocab.NOTE_SUBJECTS_EXPORT[key]
            if value is not None:
                etree.SubElement(subject, _q("notation", SKOS)).text = value
            etree.SubElement(note, _q("noteLiteral"), language=lang).text = words

    def single_note(self, parent: etree._Element, tag: str, text: Mapping[str, str]) -> None:
        """A note element loq.xsd allows once (one language): the primary language's text."""
        note = etree.SubElement(parent, _q(tag))
        etree.SubElement(note, _q("noteLiteral"), language=self.primary).text = Text(text).get_in(self.primary)

    def labels(self, table: Mapping[str, str]) -> dict[str, str]:
        return in_languages(table, self.languages)

    # the parts

    def write(self) -> None:
        spec = self.spec
        provider = self.doc.organisation_id(spec.course_provider, self.languages)
        issuer = self.doc.organisation_id(spec.issuer, self.languages)
        awarding = self.doc.organisation_id(spec.awarding_body, self.languages)
        self._opportunity(provider, issuer)
        self._specification(awarding)
        self._outcomes()
        self._assessment()
        self._grading()

    def _opportunity(self, provider: str, issuer: str) -> None:
        spec, extra = self.spec, self.spec.opportunity
        lo = etree.SubElement(self.doc.sections["learningOpportunityReferences"], _q("learningOpportunity"),
                              id=f"{self.base}:learning-opportunity")
        if spec.code:
            identifier = etree.SubElement(lo, _q("identifier"))
            etree.SubElement(identifier, _q("notation", SKOS)).text = spec.code
            etree.SubElement(identifier, _q("schemeName")).text = COURSE_CODE_SCHEME
        self.texts(lo, "title", spec.title)
        if spec.description:
            self.texts(lo, "description", spec.description)
        if extra and extra.type:
            self.concept(lo, "type", vocab.LEARNING_OPPORTUNITY_TYPES[extra.type])
        if spec.participation_description:
            self.notes(lo, "participation", spec.participation_description)
        if extra and extra.admission_procedure:
            self.notes(lo, "admission_procedure", extra.admission_procedure)
        if extra and extra.schedule_information:
            self.notes(lo, "schedule_information", extra.schedule_information)
        homepage = etree.SubElement(lo, _q("homepage"))
        etree.SubElement(homepage, _q("contentUrl")).text = spec.homepage
        if extra and (extra.start_date or extra.end_date):
            temporal = etree.SubElement(lo, _q("temporal"))
            if extra.start_date:
                etree.SubElement(temporal, _q("startDate")).text = _datetime(extra.start_date)
            if extra.end_date:
                etree.SubElement(temporal, _q("endDate")).text = _datetime(extra.end_date)
        if extra and extra.duration:
            etree.SubElement(lo, _q("duration")).text = extra.duration
        self.concept(lo, "mode", vocab.LEARNING_MODES[spec.participation_mode])
        if extra and extra.schedule:
            self.concept(lo, "learningSchedule", vocab.LEARNING_SCHEDULES[extra.schedule])
        if extra and extra.schedule_information:
            self.single_note(lo, "scheduleInformation", extra.schedule_information)
        if extra and extra.admission_procedure:
            self.single_note(lo, "admissionProcedure", extra.admission_procedure)
        if extra and extra.application_deadline:
            etree.SubElement(lo, _q("applicationDeadline")).text = _datetime(extra.application_deadline)
        if extra and extra.price:
            self._price(lo, extra.price)
        etree.SubElement(lo, _q("providedBy"), idref=provider)
        if extra and extra.location:
            location_id = f"{self.base}:location"
            _location(self.doc, location_id, extra.location.country, extra.location.region, extra.location.address,
                      self.languages)
            etree.SubElement(lo, _q("location"), idref=location_id)
        etree.SubElement(lo, _q("learningAchievementSpecification"), idref=f"{self.base}:specification")
        self.concept(lo, "defaultLanguage", vocab.LANGUAGES[self.primary])
        if self.entry.modified:
            stamp = self.entry.modified.astimezone(dt.timezone.utc).replace(microsecond=0)
            etree.SubElement(lo, _q("modified")).text = stamp.isoformat().replace("+00:00", "Z")
        etree.SubElement(lo, _q("publisher"), idref=issuer)

    def _price(self, lo: etree._Element, price) -> None:
        detail = etree.SubElement(lo, _q("priceDetail"))
        amount = etree.SubElement(detail, _q("amount"))
        etree.SubElement(amount, _q("unit"), uri=vocab.currency(price.currency).uri)
        etree.SubElement(amount, _q("value")).text = price.amount_text
        if price.description:
            self.texts(detail, "description", price.description)

    def _specification(self, awarding: str) -> None:
        spec, extra = self.spec, self.spec.opportunity
        las = etree.SubElement(self.doc.sections["learningAchievementSpecificationReferences"],
                               _q("learningAchievementSpecification"), id=f"{self.base}:specification")
        self.texts(las, "title", spec.title)
        self._specification_notes(las)
        if spec.quality_assurance_url:
            document = etree.SubElement(las, _q("supplementaryDocument"))
            self.texts(document, "title", spec.quality_assurance_body or self.labels(
                {"en": "Quality assurance", "lt": "Kokybės užtikrinimas"}))
            etree.SubElement(document, _q("contentUrl")).text = spec.quality_assurance_url
        self.concept(las, "ISCEDFCode", vocab.isced_f(spec.isced_f))
        if spec.hours:
            etree.SubElement(las, _q("volumeOfLearning")).text = f"PT{spec.hours}H"
        credit = etree.SubElement(las, _q("creditPoint"))
        etree.SubElement(credit, _q("framework"), uri=vocab.ECTS.uri)
        etree.SubElement(credit, _q("point")).text = spec.ects_text
        self.concept(las, "educationLevel", vocab.EQF_LEVELS[str(spec.eqf_level)], labelled=True)
        # The description has no separate language of instruction; the primary language stands for it.
        self.concept(las, "language", vocab.LANGUAGES[self.primary])
        self.concept(las, "mode", vocab.LEARNING_MODES[spec.participation_mode])
        if extra and extra.setting:
            self.concept(las, "learningSetting", vocab.LEARNING_SETTINGS[extra.setting])
        if spec.prerequisites:
            self.single_note(las, "entryRequirement", spec.prerequisites)
        for n, _ in enumerate(spec.learning_outcomes, start=1):
            etree.SubElement(las, _q("learningOutcome"), idref=f"{self.base}:outcome:{n}")
        etree.SubElement(las, _q("provenBy"), idref=f"{self.base}:assessment")
        opportunity = etree.SubElement(las, _q("awardingOpportunity"))
        etree.SubElement(opportunity, _q("awardingBody"), idref=awarding)
        etree.SubElement(opportunity, _q("learningAchievementSpecification"), idref=f"{self.base}:specification")

    def _specification_notes(self, las: etree._Element) -> None:
        spec = self.spec
        self.notes(las, "quality_assurance", spec.quality_assurance)
        if spec.quality_assurance_body:
            self.notes(las, "quality_assurance_body", spec.quality_assurance_body)
        if spec.stackability:
            self.notes(las, "stackability", self.labels(vocab.STACKABILITY[spec.stackability]), spec.stackability)
        if spec.stackability_towards:
            self.notes(las, "stackability_towards", spec.stackability_towards)
        if spec.qf_ehea_cycle:
            self.notes(las, "qf_ehea_cycle", self.labels(vocab.QF_EHEA_CYCLES[spec.qf_ehea_cycle]), spec.qf_ehea_cycle)
        if spec.further_information:
            self.notes(las, "further_information", spec.further_information)
        if spec.prerequisites:
            self.notes(las, "prerequisites", spec.prerequisites)
        if spec.valid_for:
            words = {lang: text.format(duration=spec.valid_for) for lang, text in vocab.VALID_FOR_WORDS.items()}
            self.notes(las, "valid_for", self.labels(words), spec.valid_for)

    def _outcomes(self) -> None:
        for n, outcome in enumerate(self.spec.learning_outcomes, start=1):
            element = etree.SubElement(self.doc.sections["learningOutcomeReferences"], _q("learningOutcome"),
                                       id=f"{self.base}:outcome:{n}")
            self.texts(element, "title", outcome.text)
            if outcome.type in vocab.SKILL_TYPES:
                self.concept(element, "type", vocab.SKILL_TYPES[outcome.type])
            elif outcome.type:
                self.notes(element, "outcome_types", self.labels(vocab.OUTCOME_TYPES_WITHOUT_CODE[outcome.type]),
                           outcome.type)
            if outcome.esco_skill:
                etree.SubElement(element, _q("relatedESCOSkill"), uri=outcome.esco_skill)

    def _assessment(self) -> None:
        spec = self.spec
        kind = vocab.ASSESSMENT_TYPES[spec.assessment_type]
        element = etree.SubElement(self.doc.sections["learningAssessmentSpecificationReferences"],
                                   _q("learningAssessmentSpecification"), id=f"{self.base}:assessment")
        self.texts(element, "title", self.labels(kind.labels))
        if spec.assessment_description:
            self.texts(element, "description", spec.assessment_description)
        if spec.supervision:
            words = vocab.SUPERVISION[spec.supervision].labels if spec.supervision in vocab.SUPERVISION \
                else vocab.SUPERVISION_WITHOUT_CODE[spec.supervision]
            self.notes(element, "supervision", self.labels(words), spec.supervision)
        self.concept(element, "type", kind)
        self.concept(element, "language", vocab.LANGUAGES[self.primary])
        if spec.grading_scheme:
            etree.SubElement(element, _q("gradingScheme"), idref=f"{self.base}:{self._grading_field()}")
        etree.SubElement(element, _q("proves"), idref=f"{self.base}:specification")

    def _grading_field(self) -> str:
        """Which element of the description the grading scheme came from (both mean the same)."""
        source = self.spec.source
        return GRADING_FIELDS[1] if (source.get("assessment") or {}).get("grading_scheme") else GRADING_FIELDS[0]

    def _grading(self) -> None:
        source = self.spec.source
        texts = {GRADING_FIELDS[0]: (source.get("grading") or {}).get("scheme"),
                 GRADING_FIELDS[1]: (source.get("assessment") or {}).get("grading_scheme")}
        for field in GRADING_FIELDS:
            if texts[field]:
                element = etree.SubElement(self.doc.sections["gradingSchemeReferences"], _q("gradingScheme"),
                                           id=f"{self.base}:{field}")
                self.texts(element, "title", texts[field])


def _organisation(doc: _Document, org: Organisation, org_id: str, languages: Sequence[str]) -> None:
    element = etree.SubElement(doc.sections["agentReferences"], _q("organisation"), id=org_id)
    for lang, words in _ordered(org.name, languages):
        etree.SubElement(element, _q("legalName"), language=lang).text = words
    country = vocab.country(org.country).uri
    _legal_identifier(element, "eidasLegalIdentifier", org.legal_identifier, country)
    if org.vat_identifier:
        _legal_identifier(element, "vatIdentifier", org.vat_identifier, country)
    if org.homepage:
        etree.SubElement(etree.SubElement(element, _q("homepage")), _q("contentUrl")).text = org.homepage
    location_id = f"{org_id}:location"
    _location(doc, location_id, org.country, org.region, org.address, languages)
    etree.SubElement(element, _q("location"), idref=location_id)
    if org.email:
        etree.SubElement(etree.SubElement(element, _q("contactPoint")), _q("emailAddress")).text = f"mailto:{org.email}"


def _legal_identifier(parent: etree._Element, tag: str, notation: str, country_uri: str) -> None:
    element = etree.SubElement(parent, _q(tag))
    etree.SubElement(element, _q("notation", SKOS)).text = notation
    etree.SubElement(element, _q("spatial"), uri=country_uri)


def _location(doc: _Document, location_id: str, country: str, region: str | None, address: Mapping[str, str] | None,
              languages: Sequence[str]) -> None:
    """A place: the address in every language as its description (loq.xsd's address holds one), the
    primary language's in the address itself, the country code and the NUTS region."""
    element = etree.SubElement(doc.sections["locationReferences"], _q("location"), id=location_id)
    if region:
        etree.SubElement(element, _q("spatialCode"), uri=vocab.nuts_region(region).uri)
    for lang, words in _ordered(address or {}, languages):
        etree.SubElement(element, _q("description"), language=lang).text = words
    holder = etree.SubElement(element, _q("address"))
    if address:
        primary, words = _ordered(address, languages)[0]
        etree.SubElement(etree.SubElement(holder, _q("fullAddress")), _q("noteLiteral"), language=primary).text = words
    etree.SubElement(holder, _q("countryCode"), uri=vocab.country(country).uri)


def build_qdr_tree(entries: Sequence[CourseEntry]) -> etree._Element:
    """The `<Courses>` element of the entries (refused first when Europass would refuse one)."""
    refuse_incomplete(entries)
    doc = _Document()
    for entry in entries:
        _Course(doc, entry).write()
    return doc.finish()


def build_qdr(entries: Sequence[CourseEntry]) -> bytes:
    """The QDR document, UTF-8 with its XML declaration."""
    return etree.tostring(build_qdr_tree(entries), xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- reading back --------------------------------------------------------------------------------


def _after(uri: str | None, prefix: str) -> str | None:
    return uri[len(prefix):] if uri and uri.startswith(prefix) else None


def _by_uri(table: Mapping[str, vocab.Concept], uri: str | None) -> str | None:
    return next((key for key, concept in table.items() if concept.uri == uri), None)


class _Reader:
    def __init__(self, root: etree._Element) -> None:
        if root.tag != _q("Courses"):
            raise QdrError(f"the root element is {etree.QName(root).localname}, not a QDR <Courses> document")
        self.root = root
        self.ids = {element.get("id"): element for element in root.iter() if isinstance(element.tag, str)
                    and element.get("id")}

    def ref(self, element: etree._Element | None, tag: str) -> etree._Element | None:
        child = element.find(_q(tag)) if element is not None else None
        return self.ids.get(child.get("idref")) if child is not None else None

    @staticmethod
    def texts(element: etree._Element | None, tag: str, ns: str = LOQ) -> dict[str, str]:
        if element is None:
            return {}
        return {child.get("language"): child.text or "" for child in element.findall(_q(tag, ns))}

    @staticmethod
    def notes(element: etree._Element) -> dict[str, tuple[str | None, dict[str, str]]]:
        """subject key -> (coded value, {language: text}) of the element's additional notes."""
        found: dict[str, tuple[str | None, dict[str, str]]] = {}
        for note in element.findall(_q("additionalNote")):
            subject = note.find(_q("subject", DC))
            key = _after(subject.get("uri") if subject is not None else None, NOTE_SUBJECT)
            literal = note.find(_q("noteLiteral"))
            if key is None or literal is None:
                continue
            value = subject.findtext(_q("notation", SKOS))
            found.setdefault(key, (value, {}))[1][literal.get("language")] = literal.text or ""
        return found

    @staticmethod
    def uri(element: etree._Element | None, tag: str) -> str | None:
        child = element.find(_q(tag)) if element is not None else None
        return child.get("uri") if child is not None else None

    def organisation(self, element: etree._Element | None) -> dict[str, Any]:
        if element is None:
            raise QdrError("a learning opportunity refers to an organisation the document does not hold")
        org: dict[str, Any] = {"name": self.texts(element, "legalName"),
                               "legal_identifier": element.findtext(f"{_q('eidasLegalIdentifier')}/{_q('notation', SKOS)}")}
        vat = element.findtext(f"{_q('vatIdentifier')}/{_q('notation', SKOS)}")
        if vat:
            org["vat_identifier"] = vat
        place = self.place(self.ref(element, "location"))
        org["country"] = place["country"]
        if "region" in place:
            org["region"] = place["region"]
        homepage = element.findtext(f"{_q('homepage')}/{_q('contentUrl')}")
        if homepage:
            org["homepage"] = homepage
        email = element.findtext(f"{_q('contactPoint')}/{_q('emailAddress')}")
        if email:
            org["email"] = email.removeprefix("mailto:")
        if "address" in place:
            org["address"] = place["address"]
        return org

    def place(self, element: etree._Element | None) -> dict[str, Any]:
        if element is None:
            raise QdrError("an organisation or course refers to a location the document does not hold")
        country = _after(self.uri(element.find(_q("address")), "countryCode"), f"{vocab.AUTHORITY}/country/")
        place: dict[str, Any] = {"country": country}
        region = _after(self.uri(element, "spatialCode"), "http://data.europa.eu/nuts/code/")
        if region:
            place["region"] = region
        address = self.texts(element, "description")
        if address:
            place["address"] = address
        return place

    def course(self, lo: etree._Element) -> tuple[str, dict[str, Any]]:
        lo_id = lo.get("id") or ""
        base = lo_id.removesuffix(":learning-opportunity")
        key = unquote(_after(base, f"{ID_PREFIX}course:") or base)
        las = self.ref(lo, "learningAchievementSpecification")
        if las is None:
            raise QdrError(f"learning opportunity {lo_id} has no learning achievement specification")
        lo_notes, las_notes = self.notes(lo), self.notes(las)
        primary = _by_uri(vocab.LANGUAGES, self.uri(lo, "defaultLanguage"))
        title = self.texts(lo, "title")
        doc: dict[str, Any] = {"schema_version": 1, "primary_language": primary, "languages": list(title)}
        code = lo.findtext(f"{_q('identifier')}/{_q('notation', SKOS)}")
        if code:
            doc["code"] = code
        doc["title"] = title
        if lo.find(_q("description")) is not None:
            doc["description"] = self.texts(lo, "description")
        issuer = self.organisation(self.ref(lo, "publisher"))
        doc["issuer"] = issuer
        awarding = las.find(f"{_q('awardingOpportunity')}/{_q('awardingBody')}")
        doc["awarding_body"] = self.organisation(self.ids.get(awarding.get("idref")) if awarding is not None else None)
        provider = self.organisation(self.ref(lo, "providedBy"))
        if provider != issuer:
            doc["provider"] = provider
        doc["learning_outcomes"] = [self.outcome(self.ids.get(ref.get("idref")))
                                    for ref in las.findall(_q("learningOutcome"))]
        doc["workload"] = self.workload(las)
        eqf = _by_uri(vocab.EQF_LEVELS, self.uri(las, "educationLevel"))
        doc["eqf_level"] = int(eqf) if eqf else None
        if "qf_ehea_cycle" in las_notes:
            doc["qf_ehea_cycle"] = las_notes["qf_ehea_cycle"][0]
        isced = _after(self.uri(las, "ISCEDFCode"), f"{vocab.SNB}/isced-f/")
        if isced:
            doc["isced_f"] = isced
        self.assessment(doc, self.ref(las, "provenBy"))
        doc["participation"] = {"mode": _by_uri(vocab.LEARNING_MODES, self.uri(lo, "mode"))}
        if "participation" in lo_notes:
            doc["participation"]["description"] = lo_notes["participation"][1]
        doc["quality_assurance"] = self.quality_assurance(las, las_notes)
        self.optional_notes(doc, las_notes)
        homepage = lo.findtext(f"{_q('homepage')}/{_q('contentUrl')}")
        if homepage:
            doc["homepage"] = homepage
        opportunity = self.opportunity(lo, lo_notes, las)
        if opportunity:
            doc["learning_opportunity"] = opportunity
        return key, doc

    def outcome(self, element: etree._Element | None) -> dict[str, Any]:
        if element is None:
            raise QdrError("a specification refers to a learning outcome the document does not hold")
        outcome: dict[str, Any] = {}
        kind = _by_uri(vocab.SKILL_TYPES, self.uri(element, "type"))
        coded = self.notes(element).get("outcome_types")
        if kind or coded:
            outcome["type"] = kind or coded[0]
        outcome["text"] = self.texts(element, "title")
        esco = self.uri(element, "relatedESCOSkill")
        if esco:
            outcome["esco_skill"] = esco
        return outcome

    def workload(self, las: etree._Element) -> dict[str, Any]:
        point = las.findtext(f"{_q('creditPoint')}/{_q('point')}")
        ects = Decimal(point) if point else None
        workload: dict[str, Any] = {"ects": int(ects) if ects is not None and ects == ects.to_integral() else
                                    (float(ects) if ects is not None else None)}
        volume = las.findtext(_q("volumeOfLearning"))
        if volume and volume.startswith("PT") and volume.endswith("H") and volume[2:-1].isascii() \
                and volume[2:-1].isdigit():
            workload["hours"] = int(volume[2:-1])
        return workload

    def assessment(self, doc: dict[str, Any], element: etree._Element | None) -> None:
        if element is None:
            raise QdrError("a specification names no assessment")
        assessment: dict[str, Any] = {"type": _by_uri(vocab.ASSESSMENT_TYPES, self.uri(element, "type"))}
        if element.find(_q("description")) is not None:
            assessment["description"] = self.texts(element, "description")
        notes = self.notes(element)
        if "supervision" in notes:
            doc["supervision_and_identity_verification"] = notes["supervision"][0]
        for field in GRADING_FIELDS:
            scheme = self.ids.get(f"{element.get('id').removesuffix(':assessment')}:{field}")
            if scheme is not None and field == GRADING_FIELDS[1]:
                assessment["grading_scheme"] = self.texts(scheme, "title")
            elif scheme is not None:
                doc["grading"] = {"scheme": self.texts(scheme, "title")}
        doc["assessment"] = assessment

    def quality_assurance(self, las: etree._Element, notes: Mapping[str, tuple]) -> dict[str, Any]:
        qa: dict[str, Any] = {"type": notes.get("quality_assurance", (None, {}))[1]}
        if "quality_assurance_body" in notes:
            qa["body"] = notes["quality_assurance_body"][1]
        url = las.findtext(f"{_q('supplementaryDocument')}/{_q('contentUrl')}")
        if url:
            qa["url"] = url
        return qa

    @staticmethod
    def optional_notes(doc: dict[str, Any], notes: Mapping[str, tuple]) -> None:
        if "prerequisites" in notes:
            doc["prerequisites"] = notes["prerequisites"][1]
        if "stackability" in notes:
            doc["stackability"] = {"kind": notes["stackability"][0]}
            if "stackability_towards" in notes:
                doc["stackability"]["towards"] = notes["stackability_towards"][1]
        if "further_information" in notes:
            doc["further_information"] = notes["further_information"][1]
        if "valid_for" in notes:
            doc["valid_for"] = notes["valid_for"][0]

    def opportunity(self, lo: etree._Element, notes: Mapping[str, tuple], las: etree._Element) -> dict[str, Any]:
        found: dict[str, Any] = {}
        kind = _by_uri(vocab.LEARNING_OPPORTUNITY_TYPES, self.uri(lo, "type"))
        if kind:
            found["type"] = kind
        for tag, name in (("startDate", "start_date"), ("endDate", "end_date")):
            value = lo.findtext(f"{_q('temporal')}/{_q(tag)}")
            if value:
                found[name] = value[:10]
        deadline = lo.findtext(_q("applicationDeadline"))
        if deadline:
            found["application_deadline"] = deadline[:10]
        if lo.findtext(_q("duration")):
            found["duration"] = lo.findtext(_q("duration"))
        schedule = _by_uri(vocab.LEARNING_SCHEDULES, self.uri(lo, "learningSchedule"))
        if schedule:
            found["schedule"] = schedule
        setting = _by_uri(vocab.LEARNING_SETTINGS, self.uri(las, "learningSetting"))
        if setting:
            found["setting"] = setting
        price = lo.find(_q("priceDetail"))
        if price is not None:
            found["price"] = self.price(price)
        for name in ("admission_procedure", "schedule_information"):
            if name in notes:
                found[name] = notes[name][1]
        if lo.find(_q("location")) is not None:
            found["location"] = self.place(self.ref(lo, "location"))
        return found

    def price(self, element: etree._Element) -> dict[str, Any]:
        value = element.findtext(f"{_q('amount')}/{_q('value')}") or "0"
        amount = Decimal(value)
        price: dict[str, Any] = {"amount": int(amount) if amount == amount.to_integral() else float(amount),
                                 "currency": _after(self.uri(element.find(_q("amount")), "unit"),
                                                    f"{vocab.AUTHORITY}/currency/")}
        if element.find(_q("description")) is not None:
            price["description"] = self.texts(element, "description")
        return price


def read_qdr(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    """(key, course description) of every learning opportunity of a QDR document we wrote.

    The description is rebuilt element by element (load it with model.load_course_spec to check it);
    elements of a document we did not write are not guessed at.
    """
    from bridge.edc.schema_check import UnsafeXmlError, safe_parse

    try:
        root = safe_parse(data).getroot()
    except (UnsafeXmlError, etree.XMLSyntaxError) as exc:
        raise QdrError(f"not a well-formed, safe XML document: {exc}") from None
    reader = _Reader(root)
    return [reader.course(lo) for lo in root.iterfind(f"{_q('learningOpportunityReferences')}/{_q('learningOpportunity')}")]


class QdrExport(CourseExport):
    name = "qdr-xml"
    label = "QDR learning opportunities XML"
    media_type = "application/xml"
    extension = "xml"

    def build(self, entries: Sequence[CourseEntry], checks: ExportChecks) -> bytes:
        document = build_qdr(entries)
        if checks.qdr_schema is not None:
            refuse_on(checks.qdr_schema.problems(document), "loq.xsd")
        return document

    def skipped_check(self, checks: ExportChecks) -> str | None:
        return None if checks.qdr_schema is not None else \
            "not checked against loq.xsd (set EDC_QDR_SCHEMA_DIR to the folder holding it)"


EXPORT = QdrExport()
