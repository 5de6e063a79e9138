"""One home per format (bridge/edc/formats.py): one vocabulary, and every format-dependent step asked of it.

Each format is sealed on a real SoftHSM token, verified, summarised, and its compression seed checked;
the names are the same in the schema, the OpenAPI, the CLI and the plugin; no module outside the
format modules compares format names or sniffs bytes itself.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
import zstandard

from bridge.edc import formats, model
from bridge.edc.schema_check import EdcSchema
from bridge.edc.shacl_check import ElmShapes
from bridge.settings import Settings, SettingsError
from hsm.signer import open_seal
from tests.delivery.sinks import plugin_formats

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "reference"
COURSES = sorted((REPO / "examples" / "pilot" / "courses").glob("*.json"))
LEARNER = REPO / "examples" / "pilot" / "learners" / "ona-jonaite.json"


def _credential(course: Path = COURSES[0]) -> model.Credential:
    spec = model.load_course_spec(json.loads(course.read_text(encoding="utf-8")))
    learner = model.load_learner(json.loads(LEARNER.read_text(encoding="utf-8")))
    return model.Credential(spec, learner, model.Issuance.new(valid_for=spec.valid_for))


@pytest.fixture(scope="module")
def checks() -> formats.Checks:
    return formats.Checks(schema=EdcSchema(SHARED / "edc" / "v1_xsd"),
                          shapes=ElmShapes.from_dir(SHARED / "edc" / "v3_shacl"))


def test_one_vocabulary_and_the_old_names_are_read_as_aliases():
    assert formats.names() == ("edc-xml", "elm3-jsonld", "ob3-vcjwt")
    assert formats.canonical("edc-xml-v1") == "edc-xml" and formats.canonical("elm-v3-jsonld") == "elm3-jsonld"
    assert formats.canonical(" ELM3-JSONLD ") == "elm3-jsonld"
    assert formats.parse_list("elm-v3-jsonld, elm3-jsonld,edc-xml") == ("elm3-jsonld", "edc-xml")
    with pytest.raises(formats.UnknownFormat, match="'pdf' is not a credential format; known: edc-xml, elm3-jsonld, ob3-vcjwt"):
        formats.get("pdf")
    assert Settings.from_env({"EDC_FORMATS": "elm-v3-jsonld,edc-xml-v1"}).formats == ("elm3-jsonld", "edc-xml")
    with pytest.raises(SettingsError, match="EDC_FORMATS: 'pdf' is not a credential format"):
        Settings.from_env({"EDC_FORMATS": "pdf"})


def test_the_same_names_in_the_schema_the_openapi_the_cli_and_the_plugin():
    from bridge.commands.credential import register
    import argparse

    schema = json.loads((REPO / "schemas" / "course-credential.schema.json").read_text(encoding="utf-8"))
    openapi = yaml.safe_load((REPO / "schemas" / "openapi.yaml").read_text(encoding="utf-8"))
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    issue = parser._subparsers._group_actions[0].choices["issue"]
    cli = next(a for a in issue._actions if a.dest == "format").choices
    names = list(formats.names())
    assert schema["$defs"]["format_name"]["enum"] == names
    assert openapi["components"]["schemas"]["Credential"]["properties"]["format"]["enum"] == names
    assert list(cli) == names
    plugin = plugin_formats()  # moodle_plugin/classes/local/formats.php
    assert plugin["names"] == names
    assert plugin["aliases"] == {alias: f.name for f in formats.all_formats() for alias in f.aliases}
    assert plugin["extensions"] == {f.name: f.extension for f in formats.all_formats()}


def test_each_format_knows_its_own_files_and_the_eu_samples():
    samples = {"edc-xml": SHARED / "edc" / "v1_samples" / "EDC_SampleDegree_AA.xml",
               "elm3-jsonld": SHARED / "edc" / "v3_jsonld" / "Sample-MC-Annex1-signed.jsonld"}
    for fmt in formats.all_formats():
        if fmt.name in samples:  # an Open Badge's unsealed document is JSON: only the sealed VC-JWT is its own
            assert formats.detect(fmt.build(_credential())) is fmt
            assert formats.detect(samples[fmt.name].read_bytes()) is fmt
        assert fmt.filename("urn:credential:abc") == f"credential-abc.{fmt.extension}"
    assert formats.detect(b"%PDF-1.7") is None
    report = formats.verify(b"%PDF-1.7", trust_anchors=[])
    assert not report.valid and "none of the credential formats read here (EDC v1 XML, ELM v3 JSON-LD, Open Badges 3.0 (VC-JWT))" \
        in report.problems[0]


@pytest.mark.parametrize("name", ["edc-xml", "elm3-jsonld"])
def test_each_format_issues_verifies_summarises_and_seeds_its_dictionary(name, ec_token, checks):
    fmt = formats.get(name)
    credential = _credential(COURSES[1])
    sealed = fmt.issue(credential, open_seal(ec_token.config), checks=checks)
    report = formats.verify(sealed, trust_anchors=[ec_token.ca_cert], checks=checks)
    assert report.valid, report.problems
    assert report.format == fmt.name and report.schema_valid is True
    summary = fmt.summarise(sealed)
    assert summary["credential_id"] == credential.issuance.credential_id and summary["learner"] == "Ona Jonaitė"
    placeholder = model.Credential(credential.spec, model.Learner(id="0", email="p@placeholder.invalid",
                                                                  given_names="Placeholder", family_name="Learner",
                                                                  lang="en"), credential.issuance)
    seed = fmt.dictionary_seed(placeholder, sealed)
    assert "Jonait".encode() not in seed and credential.learner.email.encode() not in seed
    plain = len(zstandard.ZstdCompressor(level=3).compress(sealed))
    with_seed = len(zstandard.ZstdCompressor(level=3, dict_data=zstandard.ZstdCompressionDict(
        seed, dict_type=zstandard.DICT_TYPE_RAWCONTENT)).compress(sealed))
    assert with_seed < plain / 3, (with_seed, plain)
    with pytest.raises(ValueError):
        fmt.read(b"<not" if name == "edc-xml" else b"{not json")


def test_a_format_says_when_its_official_check_is_not_configured():
    for fmt in formats.all_formats():
        assert fmt.skipped_check(formats.Checks()) and "skipped" in fmt.skipped_check(formats.Checks())


# What the service used to do by hand, and must now ask bridge/edc/formats.py: compare format names,
# or look at the first byte of a document to guess its format.
_BY_HAND = re.compile(r"""[!=]=\s*["'](edc-xml|elm3-jsonld)["']|["'](edc-xml|elm3-jsonld)["']\s*[!=]=|"""
                      r"""lstrip\([^)]*\)\[:1\]\s*==""")
FORMAT_MODULES = {"formats.py", "format_edc_xml.py", "format_elm3.py"}
# Not about a credential's format: the Europass course export (commands/catalogue.py) chooses between its
# own export formats.
NOT_CREDENTIAL_FORMATS = {"catalogue.py"}


def by_hand(source: str) -> list[str]:
    return [line.strip() for line in source.splitlines() if _BY_HAND.search(line)]


def test_no_module_outside_the_format_modules_decides_a_format_by_hand():
    found = {}
    for path in sorted((REPO / "bridge").rglob("*.py")):
        if path.name in FORMAT_MODULES and path.parent.name == "edc":
            continue
        hits = by_hand(path.read_text(encoding="utf-8"))
        if hits and path.name not in NOT_CREDENTIAL_FORMATS:
            found[str(path.relative_to(REPO))] = hits
    assert found == {}
    # the check itself sees what the service used to write
    assert by_hand('        if fmt == "elm3-jsonld":') and by_hand('    if document.lstrip()[:1] == b"{":')
