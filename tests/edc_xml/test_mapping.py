"""Each element of the course description lands where the EDC samples put it (XPath checks)."""
from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from bridge.edc import vocabularies as vocab
from bridge.edc.xml_builder import XmlMappingError, build_edc_xml

from .helpers import AWARDED, COURSES, ISSUED, course_doc, credential, learner_doc, xpath

SNB = "http://data.europa.eu/snb"
QUAL = "/s:europassCredential/s:learningSpecificationReferences/s:qualification"
ACHIEVEMENT = "/s:europassCredential/s:credentialSubject/s:achievements/s:learningAchievement"
ASSESSMENT = f"{ACHIEVEMENT}/s:wasDerivedFrom"


def _root(course="green310", learner="ona-jonaite", **kw) -> etree._Element:
    return etree.fromstring(build_edc_xml(credential(course, learner, **kw)))


def _one(root, path):
    found = xpath(root, path)
    assert len(found) == 1, f"{path}: expected one match, found {len(found)}"
    return found[0]


def _texts(root, path) -> dict[str, str]:
    return {t.get("lang"): t.text for t in xpath(root, f"{path}/s:text")}


def _by_id(root, id_: str) -> etree._Element:
    return _one(root, f"//*[@id='{id_}']")


# --- the credential and the learner ---------------------------------------------------------------


def test_head_type_languages_and_dates():
    root = _root()
    assert _one(root, "/s:europassCredential/s:type/@uri") == "http://data.europa.eu/snb/credential/e34929035b"
    assert _one(root, "/s:europassCredential/s:type/s:targetName/s:text[@lang='en']/text()") == "Generic"
    assert _one(root, "/s:europassCredential/s:primaryLanguage/text()") == "en"
    assert xpath(root, "/s:europassCredential/s:availableLanguages/s:language/text()") == ["en", "lt"]
    assert _one(root, "/s:europassCredential/cred:issued/text()") == ISSUED.isoformat()
    assert _one(root, "/s:europassCredential/cred:validFrom/text()") == AWARDED.isoformat()
    doc = course_doc("green310")
    assert _texts(root, "/s:europassCredential/s:title") == doc["title"]
    assert _texts(root, "/s:europassCredential/s:description") == doc["description"]


def test_valid_until_follows_valid_for_and_is_absent_otherwise():
    green = _root("green310")  # valid_for P10Y
    assert _one(green, "/s:europassCredential/cred:validUntil/text()") == ISSUED.replace(year=2036).isoformat()
    for course in sorted(set(COURSES) - {"green310"}):
        assert "valid_for" not in course_doc(course)
        assert xpath(_root(course), "/s:europassCredential/cred:validUntil") == []


@pytest.mark.parametrize("learner", ["ona-jonaite", "liam-obrien", "ruta-zemaitiene", "maria-garcia"])
def test_learner_names_email_and_moodle_id(learner):
    person = learner_doc(learner)
    root = _root("cyber201", learner)
    subject = "/s:europassCredential/s:credentialSubject"
    assert _one(root, f"{subject}/s:givenNames/s:text/text()") == person["given_names"]
    assert _one(root, f"{subject}/s:familyName/s:text/text()") == person["family_name"]
    assert _one(root, f"{subject}/s:fullName/s:text/text()") == f"{person['given_names']} {person['family_name']}"
    assert _one(root, f"{subject}/s:contactPoint/s:mailBox/@uri") == f"mailto:{person['email']}"
    identifier = _one(root, f"{subject}/s:identifier")
    assert identifier.get("schemeID") == "moodle-user-id" and identifier.text == str(person["id"])


def test_non_ascii_and_apostrophe_names_survive_byte_for_byte():
    assert "Jonaitė".encode() in build_edc_xml(credential("green310", "ona-jonaite"))
    assert b">O'Brien<" in build_edc_xml(credential("green310", "liam-obrien"))
    assert "Žemaitienė".encode() in build_edc_xml(credential("green310", "ruta-zemaitiene"))


# --- what was learned -----------------------------------------------------------------------------


@pytest.mark.parametrize("course", sorted(COURSES))
def test_workload_level_field_and_outcomes(course):
    doc = course_doc(course)
    root = _root(course)
    assert float(_one(root, f"{QUAL}/s:hasECTSCreditPoints/text()")) == doc["workload"]["ects"]
    assert _one(root, f"{QUAL}/s:volumeOfLearning/text()") == f"PT{doc['workload']['hours']}H"
    assert _one(root, f"{QUAL}/s:eqfLevel/@uri") == f"http://data.europa.eu/snb/eqf/{doc['eqf_level']}"
    assert _one(root, f"{QUAL}/s:eqfLevel/@targetFrameworkUrl") == "http://data.europa.eu/snb/eqf/25831c2"
    assert _one(root, f"{QUAL}/s:hasISCED-FCode/@uri") == f"http://data.europa.eu/snb/isced-f/{doc['isced_f']}"
    assert _one(root, f"{QUAL}/s:identifier[@schemeID='course-code']/text()") == doc["code"]
    assert _one(root, f"{QUAL}/s:homepage/@uri") == doc["homepage"]
    assert _texts(root, f"{QUAL}/s:title") == doc["title"]
    # every outcome, in both languages, reachable from the specification by idref
    refs = xpath(root, f"{QUAL}/s:learningOutcomes/s:learningOutcome/@idref")
    assert len(refs) == len(doc["learning_outcomes"])
    for ref, lo in zip(refs, doc["learning_outcomes"]):
        outcome = _by_id(root, ref)
        assert {t.get("lang"): t.text for t in outcome.findall(f"{{{SNB}}}prefLabel/{{{SNB}}}text")} == lo["text"]
        type_uris = outcome.xpath("s:learningOutcomeType/@uri", namespaces={"s": SNB})
        if lo["type"] in ("knowledge", "skill"):
            assert type_uris == [f"http://data.europa.eu/snb/skill-type/{lo['type']}"]
        else:
            assert type_uris == []


def test_responsibility_autonomy_outcome_is_named_in_a_note():
    root = _root("green310")
    note = _one(root, f"{QUAL}/s:additionalNote[s:subject='Learning outcome type']")
    texts = {t.get("lang"): t.text for t in note.findall(f"{{{SNB}}}text")}
    assert texts["en"].startswith("responsibility and autonomy: Work in a multidisciplinary design team")
    assert texts["lt"].startswith("atsakomybė ir savarankiškumas: Dirba tarpdalykinėje")


@pytest.mark.parametrize("course", sorted(COURSES))
def test_assessment_participation_and_supervision(course):
    doc = course_doc(course)
    root = _root(course)
    spec_id = _one(root, f"{ASSESSMENT}/s:specifiedBy/@idref")
    spec = _by_id(root, spec_id)
    assert spec.tag == f"{{{SNB}}}assessmentSpecification"
    assert spec.xpath("s:type/@uri", namespaces={"s": SNB}) == [vocab.ASSESSMENT_TYPES[doc["assessment"]["type"]].uri]
    assert _one(root, f"{QUAL}/s:mode/@uri") == vocab.LEARNING_MODES[doc["participation"]["mode"]].uri
    supervision = doc["supervision_and_identity_verification"]
    method = xpath(root, f"{ASSESSMENT}/s:idVerificationMethod/@uri")
    if supervision == "supervised-no-id-verification":
        assert method == []
        assert _one(root, f"{ASSESSMENT}/s:additionalNote[s:subject='Supervision and identity verification']"
                          "/s:text[@lang='en']/text()") == "Supervised, without identity verification"
    else:
        assert method == [vocab.SUPERVISION[supervision].uri]
    assert _one(root, f"{ASSESSMENT}/s:grade/text()") == "passed"


def test_known_vocabulary_uris_of_the_pilots():
    """Spot checks against the codes read from the EU samples, independent of vocabularies.py."""
    assert _one(_root("green310"), f"{QUAL}/s:mode/@uri") == "http://data.europa.eu/snb/learning-assessment/9191af2ed9"
    assert _one(_root("data101"), f"{QUAL}/s:mode/@uri") == "http://data.europa.eu/snb/learning-assessment/920fbb3cbe"
    assert _one(_root("cyber201"), f"{QUAL}/s:mode/@uri") == "http://data.europa.eu/snb/learning-assessment/e92d221e4d"
    practical = _one(_root("green310"), "//s:assessmentSpecification/s:type/@uri")
    assert practical == "http://data.europa.eu/snb/assessment/6a4db9f11d"
    assert _one(_root("cyber201"), "//s:assessmentSpecification/s:type/@uri") == \
        "http://data.europa.eu/snb/assessment/6e6cb2cc78"
    assert _one(_root("green310"), f"{ASSESSMENT}/s:idVerificationMethod/@uri") == \
        "http://data.europa.eu/snb/supervision-verification/70be69aaf9"
    assert _one(_root("data101"), f"{ASSESSMENT}/s:idVerificationMethod/@uri") == \
        "http://data.europa.eu/snb/supervision-verification/c598449d64"


def test_grade_prerequisites_grading_scheme_and_notes():
    doc = course_doc("green310")
    root = _root("green310", grade="9")
    assert _one(root, f"{ASSESSMENT}/s:grade/text()") == "9"
    assert _texts(root, f"{QUAL}/s:entryRequirementsNote") == doc["prerequisites"]
    scheme_id = _one(root, "//s:assessmentSpecification/s:gradingScheme/@idref")
    scheme = _by_id(root, scheme_id)
    assert {t.get("lang"): t.text for t in scheme.iter(f"{{{SNB}}}text")} == doc["assessment"]["grading_scheme"]
    notes = {n.findtext(f"{{{SNB}}}subject"): {t.get("lang"): t.text for t in n.findall(f"{{{SNB}}}text")}
             for n in xpath(root, f"{QUAL}/s:additionalNote")}
    assert notes["Quality assurance"] == doc["quality_assurance"]["type"]
    assert notes["Quality assurance body"] == doc["quality_assurance"]["body"]
    assert notes["Further information"] == doc["further_information"]
    assert notes["Form of participation"] == doc["participation"]["description"]
    assert notes["QF-EHEA cycle"]["en"] == "Second cycle"
    assert notes["Stackability"]["en"] == ("Stackable towards a larger credential. "
                                           + doc["stackability"]["towards"]["en"])
    assert _one(root, f"{QUAL}/s:supplementaryDoc/@uri") == doc["quality_assurance"]["url"]


# --- who issued and awarded -----------------------------------------------------------------------


def test_issuer_organisation():
    doc = course_doc("green310")["issuer"]
    root = _root("green310")
    issuer = _by_id(root, _one(root, "/s:europassCredential/cred:issuer/@idref"))
    ns = {"s": SNB}
    assert issuer.xpath("s:registration/text()", namespaces=ns) == [doc["legal_identifier"]]
    vat = issuer.xpath("s:vatIdentifier", namespaces=ns)
    assert [(v.text, v.get("spatialID")) for v in vat] == [(doc["vat_identifier"], "LT")]
    assert {t.get("lang"): t.text for t in issuer.xpath("s:prefLabel/s:text", namespaces=ns)} == doc["name"]
    assert issuer.xpath("s:homepage/@uri", namespaces=ns) == [doc["homepage"]]
    assert issuer.xpath("s:contactPoint/s:mailBox/@uri", namespaces=ns) == [f"mailto:{doc['email']}"]
    country = issuer.xpath("s:hasLocation/s:hasAddress/s:country", namespaces=ns)[0]
    assert country.get("uri") == "http://publications.europa.eu/resource/authority/country/LTU"
    assert country.xpath("s:targetName/s:text[@lang='lt']/text()", namespaces=ns) == ["Lietuva"]
    address = issuer.xpath("s:hasLocation/s:hasAddress/s:fullAddress/s:text", namespaces=ns)
    assert {t.get("lang"): t.text for t in address} == doc["address"]
    assert issuer.xpath("s:hasLocation/s:spatialCode/@uri", namespaces=ns) == [
        "http://data.europa.eu/nuts/code/LT011"]


def test_awarding_body_same_as_issuer_is_written_once():
    root = _root("green310")
    assert len(xpath(root, "//s:agentReferences/s:organization")) == 1
    process = _by_id(root, _one(root, f"{ACHIEVEMENT}/s:wasAwardedBy/@idref"))
    assert process.xpath("s:awardingBody/@idref", namespaces={"s": SNB}) == ["urn:epass:org:1"]
    assert process.xpath("s:date/text()", namespaces={"s": SNB}) == [AWARDED.isoformat()]


def test_a_different_awarding_body_gets_its_own_organisation(schema):
    doc = course_doc("cyber201")
    doc["awarding_body"] = {
        "name": {"en": "Baltic Security Academy", "lt": "Baltijos saugumo akademija"},
        "legal_identifier": "LV-40003000000", "country": "LVA", "vat_identifier": "LV40003000000",
    }
    data = build_edc_xml(credential(doc))
    assert schema.problems(data) == []
    root = etree.fromstring(data)
    assert len(xpath(root, "//s:agentReferences/s:organization")) == 2
    body = _by_id(root, _one(root, "//s:awardingProcess/s:awardingBody/@idref"))
    ns = {"s": SNB}
    assert body.get("id") == "urn:epass:org:2"
    assert body.xpath("s:registration/text()", namespaces=ns) == ["LV-40003000000"]
    assert body.xpath("s:vatIdentifier/@spatialID", namespaces=ns) == ["LV"]
    assert body.xpath("s:hasLocation/s:hasAddress/s:country/@uri", namespaces=ns) == [
        "http://publications.europa.eu/resource/authority/country/LVA"]
    assert _one(root, f"{ASSESSMENT}/s:assessedBy/@idref") == "urn:epass:org:2"
    assert _one(root, "/s:europassCredential/cred:issuer/@idref") == "urn:epass:org:1"


# --- languages ------------------------------------------------------------------------------------


def test_every_multilingual_text_starts_with_the_primary_language():
    for primary in ("en", "lt"):
        doc = course_doc("green310")
        doc["primary_language"] = primary
        root = etree.fromstring(build_edc_xml(credential(doc)))
        holders = {t.getparent() for t in root.iter(f"{{{SNB}}}text")}
        assert holders
        for holder in holders:
            first = holder.find(f"{{{SNB}}}text").get("lang")
            assert first == primary, f"{etree.QName(holder).localname} starts with {first}, not {primary}"
        assert _one(root, "/s:europassCredential/s:primaryLanguage/text()") == primary
        assert xpath(root, "/s:europassCredential/s:availableLanguages/s:language/text()")[0] == primary


def test_a_language_edc_cannot_write_is_refused_by_name():
    doc = course_doc("data101")
    doc["languages"] = ["en", "lt", "ja"]
    with pytest.raises(XmlMappingError, match="ja"):
        build_edc_xml(credential(doc))


def test_naive_dates_are_refused():
    cred = credential("data101")
    naive = cred.issuance.__class__(cred.issuance.credential_id, dt.datetime(2026, 1, 1), AWARDED)
    with pytest.raises(XmlMappingError, match="time zone"):
        build_edc_xml(cred.__class__(cred.spec, cred.learner, naive))
