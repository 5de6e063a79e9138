"""Course descriptions as ELM v3 `LearningOpportunity` JSON-LD, checked by the EU's EDC shapes.

The same course facts the QDR export writes (qdr_xml.py), in the vocabulary of ELM v3. The
specification of the course is the very `Qualification` node a credential of the course carries
(elm3_builder.py), so a course in the catalogue and a credential of it describe the same thing in
the same words; the learning opportunity adds what a catalogue needs:

    LearningOpportunity  title  description  dcType  identifier (course code)  homepage  mode
      additionalNote (participation, admission, schedule)  temporal  duration  learningSchedule
      scheduleInformation  admissionProcedure  applicationDeadline  priceDetail (Amount)
      providedBy -> Organisation   location -> Location
      learningAchievementSpecification -> Qualification (+ awardingOpportunity -> awarding body)

One course is one JSON-LD object; several are one `@graph`. Node ids carry the course's key, so the
courses of one file never share a node by accident (in RDF two nodes with one id are one node).
"""
from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from bridge.edc import elm3_builder as elm
from bridge.edc import vocabularies as vocab
from bridge.edc.model import CourseSpec, Opportunity, Price
from bridge.edc.exports import CourseExport, ExportChecks, refuse_on
from bridge.edc.qdr_xml import CourseEntry, _course_base, refuse_incomplete

CONTEXT = elm.CONTEXT  # the W3C context gives `id` and `type` their JSON-LD meaning, as in a credential
SHARED_IDS = ("urn:epass:concept:", "urn:epass:conceptScheme:")  # the same concept everywhere


class _Writer(elm._Writer):
    """The credential builder's writer, knowing the notes a catalogue adds."""

    def note(self, node_id: str, text: Mapping[str, str], subject_key: str | None = None) -> dict[str, Any]:
        note: dict[str, Any] = {"id": node_id, "type": "Note", "noteLiteral": dict(text)}
        if subject_key:
            subject = vocab.Concept(elm.NOTE_SUBJECT_SCHEME, f"urn:epass:concept:note-subject:{subject_key}",
                                    {"en": vocab.NOTE_SUBJECTS_EXPORT[subject_key]})
            note["subject"] = self.concept(subject)
        return note


def _day(value) -> str:
    return f"{value.isoformat()}T00:00:00Z"


def _price(w: _Writer, price: Price) -> dict[str, Any]:
    node: dict[str, Any] = {"id": "urn:epass:priceDetail:1", "type": "PriceDetail",
                            "amount": {"id": "urn:epass:amount:1", "type": "Amount",
                                       "unit": w.concept(vocab.currency(price.currency)), "value": price.amount_text}}
    if price.description:
        node["description"] = dict(price.description)
    return node


def _place(w: _Writer, opportunity: Opportunity) -> dict[str, Any]:
    place = opportunity.location
    address: dict[str, Any] = {"id": "urn:epass:address:course", "type": "Address",
                               "countryCode": w.concept(vocab.country(place.country))}
    if place.address:
        address["fullAddress"] = w.note("urn:epass:note:address-course", place.address)
    node: dict[str, Any] = {"id": "urn:epass:location:course", "type": "Location", "address": address}
    if place.region:
        node["spatialCode"] = w.concept(vocab.nuts_region(place.region))
    return node


def _catalogue_facts(w: _Writer, spec: CourseSpec, node: dict[str, Any]) -> None:
    extra = spec.opportunity
    notes = []
    if spec.participation_description:
        notes.append(w.note("urn:epass:note:participation", spec.participation_description, "participation"))
    if extra is None:
        if notes:
            node["additionalNote"] = notes
        return
    if extra.type:
        node["dcType"] = [w.concept(vocab.LEARNING_OPPORTUNITY_TYPES[extra.type])]
    if extra.start_date or extra.end_date:
        period: dict[str, Any] = {"id": "urn:epass:periodOfTime:1", "type": "PeriodOfTime"}
        if extra.start_date:
            period["startDate"] = _day(extra.start_date)
        if extra.end_date:
            period["endDate"] = _day(extra.end_date)
        node["temporal"] = period
    if extra.duration:
        node["duration"] = extra.duration
    if extra.schedule:
        node["learningSchedule"] = w.concept(vocab.LEARNING_SCHEDULES[extra.schedule])
    if extra.schedule_information:
        node["scheduleInformation"] = w.note("urn:epass:note:schedule", extra.schedule_information)
    if extra.admission_procedure:
        node["admissionProcedure"] = w.note("urn:epass:note:admission", extra.admission_procedure)
    if extra.application_deadline:
        node["applicationDeadline"] = [_day(extra.application_deadline)]
    if extra.price:
        node["priceDetail"] = [_price(w, extra.price)]
    if extra.location:
        node["location"] = [_place(w, extra)]
    if notes:
        node["additionalNote"] = notes


def _specification(w: _Writer, spec: CourseSpec) -> dict[str, Any]:
    qualification = elm._qualification(w, spec)
    body_id = elm._awarding_body_id(spec)
    body = spec.issuer if body_id == elm.ISSUER_ID else spec.awarding_body
    qualification["awardingOpportunity"] = [{"id": "urn:epass:awardingOpportunity:1", "type": "AwardingOpportunity",
                                             "awardingBody": [elm._organisation(w, body, body_id)]}]
    if spec.opportunity and spec.opportunity.setting:
        qualification["learningSetting"] = w.concept(vocab.LEARNING_SETTINGS[spec.opportunity.setting])
    return qualification


def learning_opportunity(entry: CourseEntry) -> dict[str, Any]:
    """One course as a LearningOpportunity node (no @context), its node ids made the course's own."""
    spec = entry.spec
    w = _Writer(spec)
    base = _course_base(entry.key)
    provider_id = elm.ISSUER_ID if spec.provider is None else "urn:epass:org:provider"
    node: dict[str, Any] = {
        "id": "urn:epass:learningOpportunity:1", "type": "LearningOpportunity",
        "title": dict(spec.title),
        "homepage": [{"id": "urn:epass:webResource:course", "type": "WebResource", "contentURL": spec.homepage}],
        "mode": [w.concept(vocab.LEARNING_MODES[spec.participation_mode])],
        "providedBy": [elm._organisation(w, spec.course_provider, provider_id)],
        "learningAchievementSpecification": _specification(w, spec),
    }
    if spec.code:
        node["identifier"] = [{"id": "urn:epass:identifier:course", "type": "Identifier", "notation": spec.code,
                               "schemeName": elm.COURSE_CODE_SCHEME}]
    if spec.description:
        node["description"] = dict(spec.description)
    _catalogue_facts(w, spec, node)
    node = _own_ids(node, base)
    node["id"] = f"{base}:learning-opportunity"  # the id the QDR export gives the same course
    return node


def _own_ids(node: Any, base: str) -> Any:
    """Every local node id (urn:epass:...) rewritten under the course's base; shared concepts kept."""
    if isinstance(node, dict):
        out = {key: _own_ids(value, base) for key, value in node.items()}
        node_id = out.get("id")
        if isinstance(node_id, str) and node_id.startswith("urn:epass:") and not node_id.startswith(SHARED_IDS):
            out["id"] = f"{base}:{node_id[len('urn:epass:'):]}"
        return out
    if isinstance(node, list):
        return [_own_ids(item, base) for item in node]
    return node


def build_elm3_opportunities_doc(entries: Sequence[CourseEntry]) -> dict[str, Any]:
    """The JSON-LD document of the entries (refused first when Europass would refuse one)."""
    refuse_incomplete(entries)
    nodes = [learning_opportunity(entry) for entry in entries]
    if len(nodes) == 1:
        return {"@context": list(CONTEXT), **nodes[0]}
    return {"@context": list(CONTEXT), "@graph": nodes}


def serialize(doc: Mapping[str, Any]) -> bytes:
    """Readable, deterministic JSON (a catalogue file is read by people too; nothing seals it)."""
    return (json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=1, allow_nan=False) + "\n").encode("utf-8")


class Elm3OpportunityExport(CourseExport):
    name = "elm3-jsonld"
    label = "ELM v3 LearningOpportunity JSON-LD"
    media_type = "application/ld+json"
    extension = "jsonld"

    def build(self, entries: Sequence[CourseEntry], checks: ExportChecks) -> bytes:
        doc = build_elm3_opportunities_doc(entries)
        if checks.shapes is not None:
            refuse_on(checks.shapes.problems(doc), "the EU's EDC shapes")
        return serialize(doc)

    def skipped_check(self, checks: ExportChecks) -> str | None:
        return None if checks.shapes is not None else \
            "not checked against the EU's EDC shapes (set EDC_SHACL_DIR to the v3_shacl folder)"


EXPORT = Elm3OpportunityExport()
