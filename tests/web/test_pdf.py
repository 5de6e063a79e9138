"""The PDF is checked the way a person and a phone would read it: its text, and its QR code."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
import io

from bridge.edc import model
from bridge.presentation.credential_view import Verdict, view_from_credential, view_from_xml
from bridge.presentation.pdf import render_pdf

REPO = Path(__file__).resolve().parents[2]
PILOT = REPO / "examples" / "pilot"
SAMPLES = REPO.parent / "shared" / "reference" / "edc" / "v1_samples"
OUTPUT = REPO / "test-output" / "pdf"
VERIFY_URL = "https://credentials.nemunas-tech.example/credentials/urn:credential:0f52?t=public"


def _credential(course: str, learner: str) -> model.Credential:
    spec = model.load_course_spec(json.loads((PILOT / "courses" / f"{course}.json").read_text()))
    person = model.load_learner(json.loads((PILOT / "learners" / f"{learner}.json").read_text()))
    return model.Credential(spec, person, model.Issuance.new(valid_for=spec.valid_for))


def _text(pdf: bytes) -> str:
    return " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages)


def _first_page_png(pdf: bytes, name: str) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", "-f", "1", "-l", "1",
                    str(OUTPUT / f"{name}.pdf"), str(OUTPUT / name)], check=True)
    return OUTPUT / f"{name}.png"


@pytest.mark.parametrize("course,learner,lang", [
    ("ltlang01", "ona-jonaite", "lt"),
    ("data101", "liam-obrien", "en"),
])
def test_pdf_text_names_title_and_learner_and_qr_leads_to_verification(course, learner, lang):
    credential = _credential(course, learner)
    view = view_from_credential(credential, lang)
    pdf = render_pdf(view, VERIFY_URL)
    assert pdf.startswith(b"%PDF-")

    text = " ".join(_text(pdf).split())
    assert credential.spec.title.get_in(lang) in text
    assert credential.learner.full_name in text  # Lithuanian letters survive: the font is embedded
    assert credential.issuance.credential_id in text

    barcodes = zxingcpp.read_barcodes(Image.open(_first_page_png(pdf, f"{course}-{lang}")))
    assert [b.text for b in barcodes if b.format == zxingcpp.BarcodeFormat.QRCode] == [VERIFY_URL]


def test_lithuanian_pdf_keeps_every_lithuanian_letter():
    view = view_from_credential(_credential("ltlang01", "ona-jonaite"), "lt")
    text = _text(render_pdf(view, VERIFY_URL))
    assert "Studijų rezultatai" in text and "Jonaitė" in text and "Lietuvių kalba" in text
    fonts = {f for page in PdfReader(io.BytesIO(render_pdf(view, VERIFY_URL))).pages
             for f in (page["/Resources"]["/Font"].values())}
    names = {str(font.get_object()["/BaseFont"]) for font in fonts}
    assert any("DejaVu" in n or "EDC-Sans" in n for n in names), names


def test_revoked_verdict_is_printed_with_its_reason():
    view = view_from_credential(_credential("data101", "maria-garcia"), "en").with_verdict(
        Verdict(state="revoked", headline="Revoked: the issuer has withdrawn this credential.",
                revoked_at="2026-11-28", revocation_reason="issued to the wrong learner"))
    text = " ".join(_text(render_pdf(view, VERIFY_URL)).split())
    assert "Revoked: the issuer has withdrawn this credential." in text
    assert "issued to the wrong learner" in text


def test_view_from_eu_sample_xml_reads_learner_title_issuer_and_outcomes():
    view = view_from_xml((SAMPLES / "EDC_SampleDegree_AA.xml").read_bytes(), "en")
    assert view.learner == "Ana Andromeda"
    assert view.title == "Master of Science in Civil Engineering"
    assert view.issuer == "University Great"
    assert view.issued == "2022-02-02"
    assert view.ects == "120 ECTS" and view.eqf_level == "Level 5"
    assert view.learning_outcomes and "mathematical physics" in view.learning_outcomes[0]
    assert view.credential_id.startswith("urn:credential:")


def test_view_from_xml_says_not_stated_for_missing_elements():
    view = view_from_xml((SAMPLES / "EDC_WileECoyote_Simple.xml").read_bytes(), "lt")
    rows = dict(view.rows())
    assert rows["Suteikta"] == "Wile Coyote"
    assert rows["Darbo krūvis (ECTS kreditai)"] == "nenurodyta"


def test_view_from_xml_refuses_what_is_not_a_credential():
    with pytest.raises(ValueError, match="not an EDC v1 credential"):
        view_from_xml(b"<html xmlns='http://www.w3.org/1999/xhtml'/>")
