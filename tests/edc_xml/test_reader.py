"""The summary the verifier prints, read from our credentials and from the EU's own samples."""
from __future__ import annotations

import pytest

from bridge.edc.schema_check import safe_parse
from bridge.edc.xml_builder import build_edc_xml
from bridge.edc.xml_reader import summarize

from .helpers import COURSES, EDC_REFERENCE, FIXED_ID, ISSUED, course_doc, credential, learner_doc


@pytest.mark.parametrize("course", sorted(COURSES))
def test_summary_of_our_credential(course):
    doc = course_doc(course)
    person = learner_doc("ruta-zemaitiene")
    summary = summarize(safe_parse(build_edc_xml(credential(course, "ruta-zemaitiene"))))
    assert summary == {
        "learner": f"{person['given_names']} {person['family_name']}",
        "title": doc["title"]["en"],
        "issuer": doc["issuer"]["name"]["en"],
        "ects": doc["workload"]["ects"],
        "eqf_level": doc["eqf_level"],
        "issued": ISSUED.isoformat(),
        "valid_until": ISSUED.replace(year=2036).isoformat() if course == "green310" else None,
        "credential_id": FIXED_ID,
        "primary_language": "en",
    }


def test_summary_follows_the_primary_language():
    doc = course_doc("ltlang01")
    doc["primary_language"] = "lt"
    summary = summarize(safe_parse(build_edc_xml(credential(doc))))
    assert summary["title"] == doc["title"]["lt"]
    assert summary["issuer"] == doc["issuer"]["name"]["lt"]
    assert summary["primary_language"] == "lt"


EU_SAMPLES = {
    "v1_samples/EDC_SampleDegree_AA.xml": {
        "learner": "Ana Andromeda", "title": "Graduate University Study of Civil Engineering",
        "issuer": "University Great", "ects": 120.0, "eqf_level": 5, "issued": "2022-02-02T14:15:15+01:00",
        "valid_until": "2039-09-20T00:00:00+02:00",
        "credential_id": "urn:credential:ab962d58-9ffd-4197-be23-f9448df9c953", "primary_language": "en"},
    "v1_samples/EDC_WileECoyote_Simple.xml": {
        "learner": "Wile Coyote", "title": "Sample credential", "issuer": "Acme Corporation", "ects": None,
        "eqf_level": None, "issued": "2022-02-02T14:15:15+01:00", "valid_until": None,
        "credential_id": "urn:credential:a302d79e-34ac-4f68-b0c0-4042a93dfd5c", "primary_language": "en"},
    "v1_samples/EDC_SampleACT_AA.xml": {
        "learner": "Ana Andromeda", "title": "Certificate of Participation", "issuer": "Spanish Training Provider",
        "ects": None, "eqf_level": None, "issued": "2022-02-02T14:15:15+01:00", "valid_until": None,
        "credential_id": "urn:credential:a6ee6361-04e6-4bd5-b98b-223edcd3aa33", "primary_language": "en"},
    "v1_signed_samples/credential-generic-profile-xsd-signed.xml": {
        "learner": "Karolina OSTROWSKA", "title": "Master of Science: Climate Studies and Biofuture (version 1.3)",
        "issuer": "Green University and Research Center", "ects": None, "eqf_level": 6,
        "issued": "2021-01-28T13:20:16+01:00", "valid_until": None,
        "credential_id": "urn:credential:f66a53ac-bff5-4e8c-a126-3809242f787c", "primary_language": "en"},
}


@pytest.mark.parametrize("path", sorted(EU_SAMPLES))
def test_summary_of_the_eu_samples(path):
    assert summarize(safe_parse((EDC_REFERENCE / path).read_bytes())) == EU_SAMPLES[path]


def test_missing_parts_are_none_not_errors():
    bare = b"<europassCredential xmlns='http://data.europa.eu/snb'/>"
    summary = summarize(safe_parse(bare))
    assert set(summary.values()) == {None}
