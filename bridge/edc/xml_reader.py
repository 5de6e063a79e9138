"""The few facts a person checks first, read back from any EDC v1 credential (ours or anyone's).

The verifier prints these next to its verdict, so they must come from the file itself and never
from our registry, and they must work on credentials other issuers built: the EU's samples put
the same facts in the same places, but with more achievements, out-of-line specifications and
texts in more languages. A fact that is not there is None, never an exception.
"""
from __future__ import annotations

from typing import Any

from lxml import etree

SNB_NS = "http://data.europa.eu/snb"
CRED_NS = "http://data.europa.eu/europass/model/credentials/w3c#"


def _snb(tag: str) -> str:
    return f"{{{SNB_NS}}}{tag}"


def _cred(tag: str) -> str:
    return f"{{{CRED_NS}}}{tag}"


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


class _Doc:
    def __init__(self, root: etree._Element):
        self.root = root
        self.primary = _clean(root.findtext(_snb("primaryLanguage")))
        self.by_id = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}

    def text(self, element: etree._Element | None) -> str | None:
        """A multilingual element's text in the primary language (else its first text)."""
        if element is None:
            return None
        texts = element.findall(_snb("text"))
        chosen = next((t for t in texts if t.get("lang") == self.primary), texts[0] if texts else None)
        return _clean("".join(chosen.itertext())) if chosen is not None else None

    def child_text(self, element: etree._Element | None, tag: str) -> str | None:
        return self.text(element.find(_snb(tag))) if element is not None else None

    def follow(self, element: etree._Element | None) -> etree._Element | None:
        """The element an `idref` points to; an element without idref is its own target."""
        if element is None:
            return None
        target = element.get("idref")
        return self.by_id.get(target) if target else element


def _learner(doc: _Doc, subject: etree._Element | None) -> str | None:
    if subject is None:
        return None
    full = doc.child_text(subject, "fullName")
    if full:
        return full
    parts = [doc.child_text(subject, "givenNames"), doc.child_text(subject, "familyName")]
    return " ".join(p for p in parts if p) or None


def _main_specification(doc: _Doc, subject: etree._Element | None) -> etree._Element | None:
    """The specification of the credential's first top-level achievement (where ECTS and EQF live)."""
    if subject is None:
        return None
    achievements = subject.find(_snb("achievements"))
    if achievements is None or not len(achievements):
        return None
    return doc.follow(achievements[0].find(_snb("specifiedBy")))


def _ects(spec: etree._Element | None) -> float | None:
    text = _clean(spec.findtext(_snb("hasECTSCreditPoints"))) if spec is not None else None
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _eqf(spec: etree._Element | None) -> int | None:
    element = spec.find(_snb("eqfLevel")) if spec is not None else None
    uri = (element.get("uri") or "").strip().rstrip("/") if element is not None else ""
    level = uri.rsplit("/", 1)[-1]
    return int(level) if level.isdigit() else None


def summarize(tree: etree._ElementTree | etree._Element) -> dict[str, Any]:
    """learner, title, issuer, ects, eqf_level, issued, valid_until, credential_id, primary_language."""
    root = tree.getroot() if isinstance(tree, etree._ElementTree) else tree
    doc = _Doc(root)
    subject = root.find(_snb("credentialSubject"))
    spec = _main_specification(doc, subject)
    issuer = doc.follow(root.find(_cred("issuer")))
    return {
        "learner": _learner(doc, subject),
        "title": doc.child_text(root, "title"),
        "issuer": doc.child_text(issuer, "prefLabel") if issuer is not None and issuer.get("id") else None,
        "ects": _ects(spec),
        "eqf_level": _eqf(spec),
        "issued": _clean(root.findtext(_cred("issued"))),
        "valid_until": _clean(root.findtext(_cred("validUntil"))),
        "credential_id": root.get(_cred("id")),
        "primary_language": doc.primary,
    }
