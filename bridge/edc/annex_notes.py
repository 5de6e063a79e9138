"""The Annex I facts that neither EDC v1 XML nor ELM v3 has a field for, worded once for both.

Participation details, quality assurance, stackability, the QF-EHEA cycle, further information and
the learning-outcome types the skill-type list cannot name all travel as notes with fixed subjects
(readers match on the subject). Both serializers call this, so the two formats of one credential
always say the same thing in the same words.
"""
from __future__ import annotations

from typing import Iterator, Mapping, Sequence

from bridge.edc import vocabularies as vocab
from bridge.edc.model import CourseSpec


def in_languages(labels: Mapping[str, str], languages: Sequence[str]) -> dict[str, str]:
    """Fixed wording in the credential's languages (English when it has none of them)."""
    chosen = {lang: labels[lang] for lang in languages if lang in labels}
    return chosen or {"en": labels["en"]}


def outcomes_without_code(spec: CourseSpec, languages: Sequence[str], primary: str) -> dict[str, str]:
    """Outcomes whose type the skill-type list cannot name (responsibility and autonomy), in words."""
    texts: dict[str, list[str]] = {}
    for lo in spec.learning_outcomes:
        words = vocab.OUTCOME_TYPES_WITHOUT_CODE.get(lo.type or "")
        if not words:
            continue
        for lang in languages:
            texts.setdefault(lang, []).append(f"{words.get(lang, words['en'])}: {lo.text.get_in(lang, primary)}")
    return {lang: "\n".join(lines) for lang, lines in texts.items()}


def annex_notes(spec: CourseSpec, languages: Sequence[str], primary: str) -> Iterator[tuple[Mapping[str, str], str]]:
    """(multilingual text, note subject) pairs, in a fixed order."""
    if spec.participation_description:
        yield spec.participation_description, "participation"
    yield spec.quality_assurance, "quality_assurance"
    if spec.quality_assurance_body:
        yield spec.quality_assurance_body, "quality_assurance_body"
    if spec.stackability:
        kind = in_languages(vocab.STACKABILITY[spec.stackability], languages)
        towards = spec.stackability_towards or {}
        yield {lang: f"{label}. {towards[lang]}" if lang in towards else label
               for lang, label in kind.items()}, "stackability"
    if spec.qf_ehea_cycle:
        yield in_languages(vocab.QF_EHEA_CYCLES[spec.qf_ehea_cycle], languages), "qf_ehea_cycle"
    if spec.further_information:
        yield spec.further_information, "further_information"
    untyped = outcomes_without_code(spec, languages, primary)
    if untyped:
        yield untyped, "outcome_types"
