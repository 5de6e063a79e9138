"""A credential in plain words, as a person reads it (the way the Europass viewer shows one).

Two sources give the same view: the internal model (`bridge.edc.model.Credential`, what the
worker has in hand when it issues) and the sealed EDC v1 XML (what the registry keeps and what a
visitor uploads). A sealed file of another format (ELM v3) shows what its format's summary reads
(`view_from_document`). The public page and the PDF both render a `CredentialView`, never the sources
themselves, so they cannot drift apart. The verdict is attached separately because the same
credential can be valid today and revoked tomorrow.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from lxml import etree

from bridge.edc import formats
from bridge.edc.format_edc_xml import FORMAT as EDC_XML
from bridge.presentation import wording

if TYPE_CHECKING:
    from bridge.edc.model import Credential, Text
    from bridge.edc.report import VerificationReport

SNB = "http://data.europa.eu/snb"
CRED = "http://data.europa.eu/europass/model/credentials/w3c#"


@dataclass(frozen=True)
class Verdict:
    """What the checks concluded: `state` is valid | not_valid | revoked | unchecked."""

    state: str
    headline: str
    problems: tuple[str, ...] = ()
    sealed_at: str | None = None
    sealed_by: str | None = None
    revoked_at: str | None = None
    revocation_reason: str | None = None
    qualified: str | None = None  # "qualified" | "not_qualified" per the EU trusted lists; None: not known
    qualified_text: str | None = None  # in words, with the provider and its country


@dataclass(frozen=True)
class CredentialView:
    """Every field a person may read, already in the chosen language; None means "not stated"."""

    lang: str
    credential_id: str | None
    title: str | None
    learner: str | None
    issuer: str | None
    awarding_body: str | None = None
    issued: str | None = None
    awarded: str | None = None
    valid_until: str | None = None
    description: str | None = None
    learning_outcomes: tuple[str, ...] = ()
    ects: str | None = None
    hours: str | None = None
    eqf_level: str | None = None
    assessment: str | None = None
    grade: str | None = None
    participation: str | None = None
    supervision: str | None = None
    quality_assurance: str | None = None
    quality_assurance_body: str | None = None
    stackability: str | None = None
    further_information: str | None = None
    verdict: Verdict | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def label(self, key: str) -> str:
        return wording.label(key, self.lang)

    def rows(self) -> list[tuple[str, str]]:
        """The facts as (label, value) pairs in reading order; the page and the PDF both use this."""
        keys = ("learner", "title", "issuer", "awarding_body", "issued", "awarded", "valid_until", "ects",
                "hours", "eqf_level", "assessment", "grade", "participation", "supervision",
                "quality_assurance", "quality_assurance_body", "stackability", "credential_id")
        rows = []
        for key in keys:
            value = getattr(self, key)
            if value is None and key in ("awarded", "valid_until", "hours", "grade", "supervision",
                                         "quality_assurance_body", "stackability", "awarding_body"):
                continue  # optional elements: absent is normal, not worth a "not stated"
            rows.append((self.label(key), value if value is not None else self.label("not_stated")))
        return rows

    def with_verdict(self, verdict: Verdict | None) -> "CredentialView":
        return replace(self, verdict=verdict)


# --- shared formatting ---------------------------------------------------------------------------


def format_date(value: dt.datetime | dt.date | str | None) -> str | None:
    """ISO dates (YYYY-MM-DD) read the same in every language and cannot be misread as US order."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value.date().isoformat() if isinstance(value, dt.datetime) else value.isoformat()


def format_ects(ects: float | str | None, lang: str) -> str | None:
    if ects is None or ects == "":
        return None
    number = float(ects)
    shown = str(int(number)) if number.is_integer() else (f"{number:g}".replace(".", ",") if lang == "lt" else f"{number:g}")
    return wording.label("ects_value", lang).format(ects=shown)


def format_eqf(level: int | str | None, lang: str) -> str | None:
    if level is None or level == "":
        return None
    return wording.label("eqf_value", lang).format(level=level)


def verdict_from_report(report: "VerificationReport | None", lang: str, *, revoked_at: str | None = None,
                        revocation_reason: str | None = None) -> Verdict:
    """Turn the verifier's report (and the registry's revocation, if any) into words."""
    lang = wording.language(lang)
    if revoked_at or (report is not None and report.revoked):
        state = "revoked"
    elif report is None:
        state = "unchecked"
    else:
        state = "valid" if report.valid else "not_valid"
    headline = wording.verdict_text(state, lang)
    if state == "not_valid" and report is not None and report.problems:
        headline = f"{headline.split(':')[0]}: {report.problems[0]}"
    return Verdict(
        state=state, headline=headline, problems=tuple(report.problems) if report else (),
        sealed_at=format_date(report.sealed_at) if report and report.sealed_at else None,
        sealed_by=report.signer if report else None,
        revoked_at=format_date(revoked_at), revocation_reason=revocation_reason,
        **_qualified(report, lang),
    )


def _qualified(report: "VerificationReport | None", lang: str) -> dict[str, str | None]:
    """The qualified-seal line: shown only when the EU trusted lists gave an answer (unknown stays in the checks)."""
    if report is None or report.qualified is None:
        return {}
    state = "qualified" if report.qualified else "not_qualified"
    text = wording.verdict_text(state, lang)
    if report.qualified and report.provider:
        text = f"{text}: {report.provider} ({report.provider_country})"
    return {"qualified": state, "qualified_text": text}


# --- from the internal model ---------------------------------------------------------------------


def _in(text: "Text | None", lang: str, primary: str) -> str | None:
    return text.get_in(lang, primary) if text else None


def _joined_sentence(head: str | None, more: str | None) -> str | None:
    return f"{head}. {more}" if head and more else head


def view_from_credential(credential: "Credential", lang: str | None = None) -> CredentialView:
    """The view of a credential we are issuing (or re-rendering) from the model; `lang` defaults to the learner's."""
    spec, person, issuance = credential.spec, credential.learner, credential.issuance
    lang = wording.language(lang or person.lang)
    primary = spec.primary_language
    assessment = wording.term("assessment", spec.assessment_type, lang)
    detail = _in(spec.assessment_description, lang, primary)
    participation = wording.term("participation", spec.participation_mode, lang)
    participation_detail = _in(spec.participation_description, lang, primary)
    return CredentialView(
        lang=lang,
        credential_id=issuance.credential_id,
        title=_in(spec.title, lang, primary),
        learner=person.full_name,
        issuer=_in(spec.issuer.name, lang, primary),
        awarding_body=_in(spec.awarding_body.name, lang, primary),
        issued=format_date(issuance.issued_at),
        awarded=format_date(issuance.awarded_at) if issuance.awarded_at.date() != issuance.issued_at.date() else None,
        valid_until=format_date(issuance.valid_until),
        description=_in(spec.description, lang, primary),
        learning_outcomes=tuple(lo.text.get_in(lang, primary) for lo in spec.learning_outcomes),
        ects=format_ects(spec.ects, lang),
        hours=str(spec.hours) if spec.hours else None,
        eqf_level=format_eqf(spec.eqf_level, lang),
        assessment=f"{assessment} — {detail}" if detail else assessment,
        grade=issuance.grade,
        participation=f"{participation} — {participation_detail}" if participation_detail else participation,
        supervision=wording.term("supervision", spec.supervision, lang),
        quality_assurance=_in(spec.quality_assurance, lang, primary),
        quality_assurance_body=_in(spec.quality_assurance_body, lang, primary),
        stackability=_joined_sentence(wording.term("stackability", spec.stackability, lang),
                                      _in(spec.stackability_towards, lang, primary) if spec.stackability_towards
                                      and lang in spec.stackability_towards else None),
        further_information=_in(spec.further_information, lang, primary),
    )


# --- from the sealed EDC v1 XML ------------------------------------------------------------------


def _q(tag: str) -> str:
    return f"{{{SNB}}}{tag}"


class _XmlCredential:
    """Just enough of the EDC v1 structure to read it aloud: texts by language and idref lookups."""

    def __init__(self, root: etree._Element, lang: str):
        self.root = root
        self.lang = lang
        primary = root.findtext(_q("primaryLanguage"))
        self.primary = (primary or "en").strip()
        self.by_id = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}

    def text(self, element: etree._Element | None) -> str | None:
        """The element's <text> in our language, else the primary language, else the first."""
        if element is None:
            return None
        texts = element.findall(_q("text"))
        if not texts:
            value = (element.text or "").strip()
            return value or None
        for wanted in (self.lang, self.primary):
            for t in texts:
                if t.get("lang") == wanted and (t.text or "").strip():
                    return _plain(t)
        return _plain(texts[0])

    def child_text(self, element: etree._Element | None, tag: str) -> str | None:
        return self.text(element.find(_q(tag))) if element is not None else None

    def ref(self, element: etree._Element | None) -> etree._Element | None:
        """Follow an `idref` to the element it names (EDC v1 keeps specifications out of line)."""
        if element is None:
            return None
        target = element.get("idref")
        return self.by_id.get(target) if target else element

    def concept(self, element: etree._Element | None) -> str | None:
        """A controlled-vocabulary value (e.g. mode, eqfLevel) by its target name."""
        return self.child_text(element, "targetName") if element is not None else None


def _plain(text_element: etree._Element) -> str:
    return " ".join("".join(text_element.itertext()).split())


def _first(elements: Iterable[etree._Element | None]) -> etree._Element | None:
    return next((e for e in elements if e is not None), None)


def _specification(doc: _XmlCredential, achievement: etree._Element | None) -> etree._Element | None:
    return doc.ref(achievement.find(_q("specifiedBy"))) if achievement is not None else None


def _notes(doc: _XmlCredential, *holders: etree._Element | None) -> dict[str, str]:
    """EDC v1 has no field for quality assurance, stackability and the like: they travel as
    additionalNote elements titled by their <subject>; the first note with a subject wins."""
    notes: dict[str, str] = {}
    for holder in holders:
        if holder is None:
            continue
        for note in holder.findall(_q("additionalNote")):
            subject = " ".join((note.findtext(_q("subject")) or "").lower().split())
            words = doc.text(note)
            if subject and words:
                notes.setdefault(subject, words)
    return notes


def _joined(head: str | None, detail: str | None) -> str | None:
    return f"{head} — {detail}" if head and detail else (head or detail)


def _assessment_element(achievement: etree._Element | None, tag: str) -> etree._Element | None:
    assessment = achievement.find(_q("wasDerivedFrom")) if achievement is not None else None
    return assessment.find(_q(tag)) if assessment is not None else None


def _note(notes: dict[str, str], key: str) -> str | None:
    """The note the builder titled with NOTE_SUBJECTS[key] (the subject words are the contract)."""
    from bridge.edc.vocabularies import NOTE_SUBJECTS

    return notes.get(" ".join(NOTE_SUBJECTS[key].lower().split()))


def _hours(spec: etree._Element | None) -> str | None:
    """Notional hours from volumeOfLearning (ISO 8601 duration such as PT54H)."""
    value = (spec.findtext(_q("volumeOfLearning")) or "").strip() if spec is not None else ""
    if value.startswith("PT") and value.endswith("H") and value[2:-1].isdigit():
        return value[2:-1]
    return None


def _capitalised(text: str | None) -> str | None:
    return text[:1].upper() + text[1:] if text else text


def _assessment(doc: _XmlCredential, achievement: etree._Element | None) -> str | None:
    if achievement is None:
        return None
    assessment = achievement.find(_q("wasDerivedFrom"))
    if assessment is None:
        return None
    spec = doc.ref(assessment.find(_q("specifiedBy")))
    kind = doc.concept(spec.find(_q("type"))) if spec is not None else None
    title = doc.child_text(assessment, "title") or (doc.child_text(spec, "title") if spec is not None else None)
    detail = doc.child_text(spec, "description") if spec is not None else None
    head = kind or title
    head = _capitalised(head)
    return f"{head} — {detail}" if head and detail and detail != head else (head or detail)


def _participation(doc: _XmlCredential, *specs: etree._Element | None) -> str | None:
    for spec in specs:
        if spec is None:
            continue
        modes = [doc.concept(m) for m in spec.findall(_q("mode"))]
        modes = [m for m in modes if m]
        if modes:
            return ", ".join(modes)
    return None


def _outcomes(doc: _XmlCredential, spec: etree._Element | None) -> tuple[str, ...]:
    if spec is None:
        return ()
    holder = spec.find(_q("learningOutcomes"))
    outcomes = []
    for ref in holder if holder is not None else ():
        outcome = doc.ref(ref)
        if outcome is None:
            continue
        words = doc.child_text(outcome, "description") or doc.child_text(outcome, "prefLabel")
        if words:
            outcomes.append(words)
    return tuple(outcomes)


def _eqf(doc: _XmlCredential, spec: etree._Element | None, lang: str) -> str | None:
    element = spec.find(_q("eqfLevel")) if spec is not None else None
    if element is None:
        return None
    uri = (element.get("uri") or "").strip().rstrip("/")
    level = uri.rsplit("/", 1)[-1] if uri else None
    return format_eqf(level, lang) if level and level.isdigit() else doc.concept(element)


def view_from_xml(data: bytes | etree._Element, lang: str | None = None) -> CredentialView:
    """The view of a sealed EDC v1 XML credential, read defensively: a missing element is "not stated".

    Parsing is the caller's risk only when it passes an element; bytes are parsed here with
    entities and network access off, as everywhere untrusted XML enters.
    """
    root = data if isinstance(data, etree._Element) else _safe_root(data)
    lang = wording.language(lang or root.findtext(_q("primaryLanguage")))
    doc = _XmlCredential(root, lang)
    subject = root.find(_q("credentialSubject"))
    achievement = _first(
        subject.find(f"{_q('achievements')}/{tag}") for tag in (_q("learningAchievement"),)
    ) if subject is not None else None
    achievement = doc.ref(achievement)
    spec = _specification(doc, achievement)
    activity = doc.ref(achievement.find(_q("wasInfluencedBy"))) if achievement is not None else None
    activity_spec = _specification(doc, activity)
    issuer = doc.ref(root.find(f"{{{CRED}}}issuer"))
    awarding_process = doc.ref(achievement.find(_q("wasAwardedBy"))) if achievement is not None else None
    awarding = doc.ref(awarding_process.find(_q("awardingBody"))) if awarding_process is not None else None
    notes = _notes(doc, achievement, spec, achievement.find(_q("wasDerivedFrom")) if achievement is not None else None,
                   root)
    ects = spec.findtext(_q("hasECTSCreditPoints")) if spec is not None else None
    learner = doc.child_text(subject, "fullName") if subject is not None else None
    if learner is None and subject is not None:
        names = [doc.child_text(subject, "givenNames"), doc.child_text(subject, "familyName")]
        learner = " ".join(n for n in names if n) or None
    return CredentialView(
        lang=lang,
        credential_id=root.get(f"{{{CRED}}}id") or root.get("id"),
        title=doc.child_text(achievement, "title") or doc.child_text(root, "title"),
        learner=learner,
        issuer=doc.child_text(issuer, "prefLabel"),
        awarding_body=doc.child_text(awarding, "prefLabel"),
        issued=format_date(root.findtext(f"{{{CRED}}}issued")),
        valid_until=format_date(root.findtext(f"{{{CRED}}}validUntil")),
        description=doc.child_text(achievement, "description") or doc.child_text(spec, "description"),
        learning_outcomes=_outcomes(doc, spec),
        ects=format_ects(ects.strip(), lang) if ects and ects.strip() else None,
        eqf_level=_eqf(doc, spec, lang),
        assessment=_assessment(doc, achievement),
        grade=_grade(doc, achievement),
        participation=_joined(_participation(doc, spec, activity_spec), _note(notes, "participation")),
        hours=_hours(spec),
        supervision=_capitalised(doc.concept(_assessment_element(achievement, "idVerificationMethod")))
        or _note(notes, "supervision"),
        quality_assurance=_note(notes, "quality_assurance"),
        quality_assurance_body=_note(notes, "quality_assurance_body"),
        stackability=_note(notes, "stackability"),
        further_information=_note(notes, "further_information"),
    )


def _grade(doc: _XmlCredential, achievement: etree._Element | None) -> str | None:
    assessment = achievement.find(_q("wasDerivedFrom")) if achievement is not None else None
    return doc.child_text(assessment, "grade") if assessment is not None else None


def _safe_root(data: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    root = etree.fromstring(data, parser)
    if root.tag != _q("europassCredential"):
        raise ValueError(f"not an EDC v1 credential: the root element is {etree.QName(root).localname}")
    return root


# Formats whose sealed file has a full reader here (every Annex I element); any other format shows
# what its own summary reads (learner, title, issuer, dates, ECTS, EQF level).
FULL_READERS: dict[str, Callable[[bytes, str], CredentialView]] = {EDC_XML.name: view_from_xml}


def view_from_summary(summary: Mapping[str, Any], lang: str) -> CredentialView:
    """The facts every format's summary holds (bridge/edc/formats.py), in plain words."""
    lang = wording.language(lang)
    return CredentialView(lang=lang, credential_id=summary.get("credential_id"), title=summary.get("title"),
                          learner=summary.get("learner"), issuer=summary.get("issuer"),
                          issued=format_date(summary.get("issued")), ects=format_ects(summary.get("ects"), lang),
                          eqf_level=format_eqf(summary.get("eqf_level"), lang))


def view_from_document(document: bytes, lang: str, fmt: "formats.CredentialFormat | None" = None) -> CredentialView:
    """The view of a sealed file of any of our formats; what cannot be read is "not stated"."""
    fmt = fmt or formats.detect(document)
    if fmt is None:
        return view_from_summary({}, lang)
    reader = FULL_READERS.get(fmt.name)
    if reader is not None:
        try:
            return reader(document, lang)
        except (ValueError, etree.XMLSyntaxError):
            pass
    try:
        summary = fmt.summarise(document)
    except ValueError:
        summary = {}
    return view_from_summary(summary, lang)
