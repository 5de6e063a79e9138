"""The one internal model of a micro-credential, independent of any serialization.

Every output format (EDC v1 XML, ELM v3 JSON-LD, the PDF, the public page) is built from these
objects, so a platform change means one more serializer, never a change here. The course
description arrives as JSON (schemas/course-credential.schema.json); it is validated against that
schema *and* for the cross-field rules a schema cannot say (every text in the primary language),
and every problem is reported with the JSON pointer of the element at fault.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import jsonschema

from bridge.edc import inputs

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
COURSE_SCHEMA_FILE = SCHEMA_DIR / "course-credential.schema.json"
LEARNER_SCHEMA_FILE = SCHEMA_DIR / "learner.schema.json"

# Annex I names of the mandatory elements, so a refusal can say which one is missing in the
# words of the Recommendation and not only as a JSON pointer.
ANNEX_I_NAMES = {
    "title": "title of the micro-credential",
    "issuer": "country/region of the issuer and the issuer's identification",
    "awarding_body": "awarding body",
    "learning_outcomes": "learning outcomes",
    "workload": "notional workload (ECTS)",
    "eqf_level": "EQF level",
    "assessment": "type of assessment",
    "participation": "form of participation in the learning activity",
    "quality_assurance": "type of quality assurance",
    "primary_language": "language of the credential",
    "schema_version": "description format version",
}


@dataclass(frozen=True)
class Problem:
    """One reason a document was refused: where (JSON pointer) and why (plain words)."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


class ModelError(ValueError):
    """A course description or learner that cannot become a credential; carries every problem found."""

    def __init__(self, what: str, problems: list[Problem]):
        self.what = what
        self.problems = problems
        super().__init__(f"{what} refused: " + "; ".join(str(p) for p in problems))

    def as_json(self) -> list[dict[str, str]]:
        return [{"pointer": p.pointer, "message": p.message} for p in self.problems]


class Text(dict):
    """A multilingual text: language code -> text. `get_in(lang)` falls back to the primary."""

    def get_in(self, lang: str, fallback: str | None = None) -> str:
        if lang in self:
            return self[lang]
        if fallback and fallback in self:
            return self[fallback]
        return next(iter(self.values()))


@dataclass(frozen=True)
class Organisation:
    name: Text
    legal_identifier: str
    country: str  # ISO 3166-1 alpha-3
    vat_identifier: str | None = None
    region: str | None = None
    homepage: str | None = None
    email: str | None = None
    address: Text | None = None


@dataclass(frozen=True)
class LearningOutcome:
    text: Text
    type: str | None = None  # knowledge | skill | responsibility-autonomy
    esco_skill: str | None = None


@dataclass(frozen=True)
class Place:
    """Where a course takes place (its country, and the address and NUTS region when known)."""

    country: str  # ISO 3166-1 alpha-3
    address: Text | None = None
    region: str | None = None


@dataclass(frozen=True)
class Price:
    amount: Decimal
    currency: str  # ISO 4217
    description: Text | None = None

    @property
    def amount_text(self) -> str:
        """12.50 -> "12.5", 0 -> "0": the shortest exact decimal, as credit points are written."""
        return format(self.amount.normalize(), "f")


@dataclass(frozen=True)
class Opportunity:
    """What a course catalogue (Europass) says about taking the course; no credential uses it."""

    type: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    application_deadline: dt.date | None = None
    duration: str | None = None  # ISO 8601, e.g. P6W
    schedule: str | None = None
    setting: str | None = None
    price: Price | None = None
    admission_procedure: Text | None = None
    schedule_information: Text | None = None
    location: Place | None = None


@dataclass(frozen=True)
class CourseSpec:
    """A course's credential description (everything but the learner and the date)."""

    primary_language: str
    languages: tuple[str, ...]
    title: Text
    issuer: Organisation
    awarding_body: Organisation
    learning_outcomes: tuple[LearningOutcome, ...]
    ects: float
    eqf_level: int
    assessment_type: str
    participation_mode: str
    quality_assurance: Text
    code: str | None = None
    description: Text | None = None
    hours: int | None = None
    qf_ehea_cycle: str | None = None
    isced_f: str | None = None
    assessment_description: Text | None = None
    grading_scheme: Text | None = None
    participation_description: Text | None = None
    quality_assurance_body: Text | None = None
    quality_assurance_url: str | None = None
    prerequisites: Text | None = None
    supervision: str | None = None
    stackability: str | None = None
    stackability_towards: Text | None = None
    further_information: Text | None = None
    homepage: str | None = None
    valid_for: str | None = None
    provider: Organisation | None = None  # who teaches it, when not the issuer (Europass)
    opportunity: Opportunity | None = None  # the course catalogue's facts (Europass)
    source: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def course_provider(self) -> Organisation:
        """The organisation a course catalogue lists the course under: the provider, else the issuer."""
        return self.provider or self.issuer

    @property
    def languages_primary_first(self) -> tuple[str, ...]:
        """Every language of the credential, the primary one first: the order both formats write texts in."""
        return (self.primary_language,) + tuple(l for l in self.languages if l != self.primary_language)

    @property
    def ects_text(self) -> str:
        """6.0 -> "6", 2.5 -> "2.5": the shortest exact decimal, never scientific notation (both formats)."""
        return format(Decimal(str(self.ects)).normalize(), "f")


@dataclass(frozen=True)
class Learner:
    """The learner as Moodle identifies them (the event's `learner` object)."""

    id: str
    email: str
    given_names: str
    family_name: str
    lang: str = "en"

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.family_name}"


@dataclass(frozen=True)
class Issuance:
    """What one issuing act adds: the credential's identity and dates, and the learner's result."""

    credential_id: str
    issued_at: dt.datetime
    awarded_at: dt.datetime
    valid_until: dt.datetime | None = None
    grade: str | None = None
    status_url: str | None = None  # the public status resource it names (ELM v3 credentialStatus)

    @staticmethod
    def new(awarded_at: dt.datetime | None = None, *, now: dt.datetime | None = None,
            grade: str | None = None, valid_for: str | None = None,
            credential_id: str | None = None) -> "Issuance":
        now = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)
        awarded = (awarded_at or now).replace(microsecond=0)
        until = add_iso_duration(now, valid_for) if valid_for else None
        return Issuance(credential_id or f"urn:credential:{uuid.uuid4()}", now, awarded, until, grade)


@dataclass(frozen=True)
class Part:
    """A credential a larger one is made of (a programme's micro-credential), as the larger one names it."""

    credential_id: str  # urn:credential:<uuid> of the part
    title: Text
    awarded_at: dt.datetime
    awarding_body: Organisation
    ects: float | None = None

    @property
    def ects_text(self) -> str | None:
        return format(Decimal(str(self.ects)).normalize(), "f") if self.ects is not None else None


@dataclass(frozen=True)
class Credential:
    """The whole of what a credential states; the input of every serializer."""

    spec: CourseSpec
    learner: Learner
    issuance: Issuance
    parts: tuple[Part, ...] = ()  # what a programme credential is made of (hasPart); () for a course's


# --- loading and validation ---------------------------------------------------------------------


@lru_cache(maxsize=None)
def _validator(path: Path) -> jsonschema.Draft202012Validator:
    return inputs.schema_validator(json.loads(path.read_text(encoding="utf-8")))


def _pointer(path: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _schema_problems(validator: jsonschema.Draft202012Validator, doc: Any) -> list[Problem]:
    surrogate = inputs.first_surrogate(doc)
    if surrogate is not None:  # json.loads admits "\ud800"; no UTF-8 document can carry it
        return [Problem(surrogate, "contains a lone UTF-16 surrogate, which is not a character")]
    problems = []
    for err in sorted(validator.iter_errors(doc), key=lambda e: (list(map(str, e.path)), e.message)):
        pointer = _pointer(err.absolute_path)
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else ""
            pointer = f"{pointer}/{missing}"
            name = ANNEX_I_NAMES.get(missing) if not err.absolute_path else None
            message = f"missing mandatory element ({name})" if name else "missing mandatory element"
        elif err.validator == "additionalProperties":
            message = f"unknown element: {err.message}"
        else:
            message = inputs.schema_message(err)
        problems.append(Problem(pointer, message))
    return problems


def _language_problems(doc: Mapping[str, Any]) -> list[Problem]:
    """Every multilingual text must exist in the primary language (a rule JSON Schema can't state)."""
    primary = doc.get("primary_language")
    problems: list[Problem] = []

    def walk(node: Any, path: list[Any]) -> None:
        if isinstance(node, dict):
            if node and all(isinstance(k, str) and len(k) == 2 and k.islower() for k in node) and all(
                isinstance(v, str) for v in node.values()
            ):
                if primary not in node:
                    problems.append(Problem(_pointer(path), f"no text in the primary language '{primary}'"))
                return
            for k, v in node.items():
                walk(v, path + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + [i])

    if isinstance(primary, str):
        walk({k: v for k, v in doc.items() if k not in ("primary_language", "languages")}, [])
    return problems


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def _opportunity_problems(doc: Mapping[str, Any]) -> list[Problem]:
    """The dates of `learning_opportunity` are real days, in order (rules JSON Schema cannot state)."""
    opportunity = doc.get("learning_opportunity") or {}
    problems = [Problem(f"/learning_opportunity/{name}", f"{opportunity[name]!r} is not a day of the calendar")
                for name in ("start_date", "end_date", "application_deadline")
                if name in opportunity and _date(opportunity[name]) is None]
    if problems:
        return problems
    start, end = _date(opportunity.get("start_date")), _date(opportunity.get("end_date"))
    deadline = _date(opportunity.get("application_deadline"))
    if start and end and end < start:
        problems.append(Problem("/learning_opportunity/end_date", "is before the start date"))
    if deadline and end and deadline > end:
        problems.append(Problem("/learning_opportunity/application_deadline", "is after the end date"))
    return problems


def validate_course_spec(doc: Any) -> list[Problem]:
    """All the problems of a course description; empty when a credential can be built from it."""
    problems = _schema_problems(_validator(COURSE_SCHEMA_FILE), doc)
    if not problems and isinstance(doc, dict):
        problems = _language_problems(doc) + _opportunity_problems(doc)
    return problems


def _text(value: Mapping[str, str] | None) -> Text | None:
    return Text(value) if value else None


def _organisation(d: Mapping[str, Any]) -> Organisation:
    return Organisation(
        name=Text(d["name"]), legal_identifier=d["legal_identifier"], country=d["country"],
        vat_identifier=d.get("vat_identifier"), region=d.get("region"), homepage=d.get("homepage"),
        email=d.get("email"), address=_text(d.get("address")),
    )


def load_organisation(d: Mapping[str, Any]) -> Organisation:
    """An organisation of a description already validated (a programme's record of a part's awarding body)."""
    return _organisation(d)


def _opportunity(d: Mapping[str, Any] | None) -> Opportunity | None:
    if not d:
        return None
    price = d.get("price")
    place = d.get("location")
    return Opportunity(
        type=d.get("type"), start_date=_date(d.get("start_date")), end_date=_date(d.get("end_date")),
        application_deadline=_date(d.get("application_deadline")), duration=d.get("duration"),
        schedule=d.get("schedule"), setting=d.get("setting"),
        price=Price(Decimal(str(price["amount"])), price["currency"], _text(price.get("description"))) if price else None,
        admission_procedure=_text(d.get("admission_procedure")),
        schedule_information=_text(d.get("schedule_information")),
        location=Place(place["country"], _text(place.get("address")), place.get("region")) if place else None,
    )


def load_course_spec(doc: Any) -> CourseSpec:
    """Validate a course description and turn it into the model; raises ModelError naming each problem."""
    problems = validate_course_spec(doc)
    if problems:
        raise ModelError("course credential description", problems)
    title = Text(doc["title"])
    qa = doc["quality_assurance"]
    return CourseSpec(
        primary_language=doc["primary_language"],
        languages=tuple(doc.get("languages") or title.keys()),
        title=title,
        issuer=_organisation(doc["issuer"]),
        awarding_body=_organisation(doc["awarding_body"]),
        learning_outcomes=tuple(
            LearningOutcome(Text(lo["text"]), lo.get("type"), lo.get("esco_skill")) for lo in doc["learning_outcomes"]
        ),
        ects=float(doc["workload"]["ects"]),
        hours=doc["workload"].get("hours"),
        eqf_level=int(doc["eqf_level"]),
        assessment_type=doc["assessment"]["type"],
        assessment_description=_text(doc["assessment"].get("description")),
        grading_scheme=_text(doc["assessment"].get("grading_scheme") or (doc.get("grading") or {}).get("scheme")),
        participation_mode=doc["participation"]["mode"],
        participation_description=_text(doc["participation"].get("description")),
        quality_assurance=Text(qa["type"]),
        quality_assurance_body=_text(qa.get("body")),
        quality_assurance_url=qa.get("url"),
        code=doc.get("code"),
        description=_text(doc.get("description")),
        qf_ehea_cycle=doc.get("qf_ehea_cycle"),
        isced_f=doc.get("isced_f"),
        prerequisites=_text(doc.get("prerequisites")),
        supervision=doc.get("supervision_and_identity_verification"),
        stackability=(doc.get("stackability") or {}).get("kind"),
        stackability_towards=_text((doc.get("stackability") or {}).get("towards")),
        further_information=_text(doc.get("further_information")),
        homepage=doc.get("homepage"),
        valid_for=doc.get("valid_for"),
        provider=_organisation(doc["provider"]) if doc.get("provider") else None,
        opportunity=_opportunity(doc.get("learning_opportunity")),
        source=doc,
    )


def load_learner(doc: Any) -> Learner:
    """Validate the event's `learner` object (schemas/learner.schema.json) and build the model."""
    problems = _schema_problems(_validator(LEARNER_SCHEMA_FILE), doc)
    if problems:
        raise ModelError("learner", problems)
    return Learner(
        id=str(doc["id"]), email=doc["email"], given_names=doc["given_names"].strip(),
        family_name=doc["family_name"].strip(), lang=doc.get("lang") or "en",
    )


def add_iso_duration(start: dt.datetime, duration: str) -> dt.datetime:
    """Add a calendar ISO 8601 duration (PnYnMnD) to a date, clamping the day to the month's end."""
    import re

    m = re.fullmatch(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?", duration)
    if not m or duration == "P":
        raise ValueError(f"not a PnYnMnD duration: {duration!r}")
    years, months, days = (int(g or 0) for g in m.groups())
    month_index = start.month - 1 + months
    year = start.year + years + month_index // 12
    month = month_index % 12 + 1
    import calendar

    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day) + dt.timedelta(days=days)
