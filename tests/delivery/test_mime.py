"""The MIME writer in bridge/delivery/messages.py: what it writes must read back, with Python's email parser
(policy default), exactly as what was given, and stay within the line limits of RFC 5322 and RFC 2045.

The messages are written by our own small writer, not the stdlib EmailMessage (see the module), so these
tests parse its bytes with an independent reader and compare each part's decoded content to the input.
Text is compared with its line ends as SMTP carries them (CRLF: the canonical form of text, RFC 2046 §4.1.1).
"""
from __future__ import annotations

import base64
import binascii
import email
import email.header
import email.policy
import email.utils
import os
import re
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bridge.delivery.messages import (Attachment, Mail, compose, encoded_words, notice, quoted_printable, render,
                                      template_text, _html, _paragraphs, _values)
from bridge.edc.inputs import header_text

from .conftest import SEALED, header_block, make_job, shown_name

MAIL_FROM = "Vilnius University credentials <credentials@edc.example.edu>"
LEARNER = "ona@example.edu"

# Text a naive encoder mangles: non-ASCII, a line longer than 76, white space before line ends (where
# b2a_qp's output used to exceed 76 characters), a line starting "From " (mbox) and lines of "." (SMTP).
AWKWARD_TEXT = ("Ona Jonaitė, Ωμέγα, Ёжик, 数据, שלום עולם, مرحبا, 🎓👩‍🎓\n"
                + "word " * 40 + "\n"
                + "x" * 75 + " \n" + "y" * 74 + "\t\n" + "z" * 150 + "  \n"
                + "trailing spaces   \n\ttabs\t\n"
                + "From the registry: a line mbox would quote\n"
                + ".\n..\n.leading dot\n"
                + "=?utf-8?q?=0D=0ABcc:_evil=40attacker.example?= = =3D _ ?\n"
                + "\n\nend without spaces\n")


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def wire(text: str) -> str:
    """`text` as a text part carries it: CRLF line ends."""
    return text.replace("\n", "\r\n")


def assert_line_limits(raw: bytes) -> None:
    """CRLF only; no line over 998 octets; header lines within 78, body lines (QP, base64) within 76."""
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert all(len(line) <= 78 for line in head.split(b"\r\n")), [x for x in head.split(b"\r\n") if len(x) > 78]
    long_body = [line for line in body.split(b"\r\n") if len(line) > 76]
    assert long_body == [], long_body


def qp_lines(raw: bytes) -> list[bytes]:
    """The encoded lines of every quoted-printable part."""
    lines: list[bytes] = []
    for chunk in re.split(rb"\r\n--=_[ma][0-9a-f]{24}(?:--)?\r\n", raw):
        head, _, body = chunk.partition(b"\r\n\r\n")
        if b"Content-Transfer-Encoding: quoted-printable" in head:
            lines += body.split(b"\r\n")
    return lines


def assert_good_quoted_printable(raw: bytes) -> None:
    lines = qp_lines(raw)
    assert lines
    for line in lines:
        assert len(line) <= 76, line
        assert not line.endswith((b" ", b"\t")), line  # RFC 2045 §6.7 (3): a reader may strip it
        assert not line.startswith(b"From "), line
        assert re.fullmatch(rb"(?:[\t !-<>-~]|=[0-9A-F]{2})*=?", line), line  # only literals and escapes


# --- the learner's message -------------------------------------------------------------------------------


def test_each_part_of_the_learners_message_reads_back_exactly():
    pdf = Attachment("credential-6f1c2a9e.pdf", "application/pdf", os.urandom(5000) + b"\r\n.\r\n\x00")
    job = make_job(learner_name="Ona  Jonaitė 🎓", issuer_name="Vilniaus universitetas — ĮŠ",
                   title={"en": "From data to decisions: " + "long title " * 12})
    raw = render(compose(job, MAIL_FROM, (pdf,)), job.learner_email)
    message = parse(raw)
    assert message.get_content_type() == "multipart/mixed"
    alternative, xml, pdf_part = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html_part = alternative.iter_parts()
    subject, paragraphs = _paragraphs("issued", "en", _values(job, "en"))
    assert plain.get_content_type() == "text/plain" and plain.get_content_charset() == "utf-8"
    assert plain["Content-Transfer-Encoding"] == "quoted-printable"
    assert plain.get_content() == wire(template_text("issued", "en", _values(job, "en"))[1])
    assert html_part.get_content_type() == "text/html" and html_part.get_content() == wire(_html(paragraphs, "en"))
    assert (xml.get_filename(), xml.get_content_type(), xml.get_content_disposition()) == (
        job.filename, "application/xml", "attachment")
    assert xml["Content-Transfer-Encoding"] == "base64" and xml.get_content() == SEALED
    assert pdf_part.get_filename() == pdf.filename and pdf_part.get_content() == pdf.content
    assert str(message["Subject"]) == subject
    assert message["MIME-Version"] == "1.0" and message["Content-Language"] == "en"
    assert message["Auto-Submitted"] == "auto-generated" and message["X-EDC-Credential-Id"] == job.credential_id
    assert email.utils.parsedate_to_datetime(message["Date"]) is not None
    assert shown_name(raw) == "Ona Jonaitė 🎓"
    assert message.defects == [] and all(part.defects == [] for part in message.walk())
    assert_line_limits(raw)
    assert_good_quoted_printable(raw)


def test_a_revocation_is_the_two_alternatives_only():
    job = make_job(kind="revoked", document=b"", reason="Grade was corrected")
    message = parse(render(compose(job, MAIL_FROM), job.learner_email))
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert list(message.iter_attachments()) == []


def test_boundaries_are_unique_and_new_for_each_message():
    raws = [render(compose(make_job(), MAIL_FROM), LEARNER) for _ in range(2)]
    found = [re.findall(rb'boundary="([^"]+)"', raw) for raw in raws]
    assert all(len(b) == 2 and b[0] != b[1] for b in found)
    assert set(found[0]).isdisjoint(found[1])
    for raw, boundaries in zip(raws, found):
        for boundary in boundaries:  # each appears only as its own delimiter lines
            lines = [line for line in raw.split(b"\r\n") if boundary in line]
            assert all(line in (b"--" + boundary, b"--" + boundary + b"--") or b"boundary=" in line for line in lines)


@pytest.mark.parametrize("filename", [
    "žinios.pdf",
    'a "quoted" \\ name; with=signs.pdf',
    "kredencialas – Duomenų raštingumas ir sprendimai, ilgas pavadinimas 🎓 " * 4 + ".pdf",
    "x" * 300 + ".pdf",
    "=?utf-8?q?evil?=.pdf",
    "数据.xml",
])
def test_attachment_names_and_bytes_read_back(filename):
    content = bytes(range(256)) * 3 + b"\r\n.\r\n"
    raw = render(compose(make_job(), MAIL_FROM, (Attachment(filename, "application/pdf", content),)), LEARNER)
    files = [(part.get_filename(), part.get_content()) for part in parse(raw).iter_attachments()]
    assert files[1] == (filename, content)
    assert files[0][1] == SEALED
    assert_line_limits(raw)


def test_empty_and_odd_sized_files_are_byte_exact():
    for size in (0, 1, 2, 56, 57, 58, 76, 22_000, 22_001):
        content = os.urandom(size)
        raw = render(compose(make_job(document=content or b"x"), MAIL_FROM,
                             (Attachment("f.bin", "application/octet-stream", content),)), LEARNER)
        xml, extra = parse(raw).iter_attachments()
        assert extra.get_content() == content and xml.get_content() == (content or b"x")


# --- headers built from people's words -------------------------------------------------------------------

HOSTILE_NAMES = [
    "Ona\r\nBcc: evil@attacker.example",
    "Ona =?utf-8?q?=0D=0ABcc:_evil2=40attacker.example?= Jonaitė",
    "=?utf-8?b?IiA8ZXZpbEBhdHRhY2tlci5leGFtcGxlPiwgIng=?=",
    '"Ona" <evil@attacker.example>, x',
    "Jonaitė " * 80,
    "ė" * 300,
    "x" * 500,
    "שלום עולם مرحبا \u202eevil\u202c",
    "👩‍🎓🎓🇱🇹 Ona",
    "Ona_Jonaitė (student) [2026]; a\\b",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_read_back_as_the_text_they_were(name):
    job = make_job(learner_name=name, title={"en": name, "lt": name}, issuer_name=name)
    raw = render(compose(job, MAIL_FROM), job.learner_email)
    message = parse(raw)
    names = [line.split(":", 1)[0].lower() for line in header_block(raw, errors="strict")]
    assert len(names) == len(set(names)) and "bcc" not in names
    assert [a.addr_spec for a in message["To"].addresses] == [LEARNER]
    assert shown_name(raw) == header_text(name)
    subject = _paragraphs("issued", "en", _values(job, "en"))[0]
    assert str(message["Subject"]) == subject
    assert_line_limits(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_encoded_words_decode_to_the_one_line_text(text):
    folded = encoded_words("Subject", text)
    lines = ("Subject: " + folded).split("\r\n")
    assert all(len(line) <= 78 for line in lines)
    assert all(line.startswith(" =?utf-8?") for line in lines[1:])
    words = re.findall(r"=\?utf-8\?[qb]\?[^?]*\?=", folded)
    assert all(len(w) <= 75 for w in words)
    for word in words:  # each word whole characters (RFC 2047 §5): it decodes alone
        email.header.decode_header(word)[0][0].decode("utf-8")
    decoded = email.header.decode_header(folded.replace("\r\n", "")) if folded else []
    assert b"".join(part for part, _ in decoded).decode("utf-8") == header_text(text)


def test_no_encoded_word_or_filename_piece_splits_a_character():
    """Every offset of a multi-byte character against the places where words and RFC 2231 pieces are cut."""
    for offset in range(90):
        for char in ("ė", "数", "🎓"):
            text = "a" * offset + char * 3 + " Jonaitė"  # mostly ASCII: written in Q
            folded = encoded_words("Subject", text)
            for word in re.findall(r"=\?utf-8\?[qb]\?[^?]*\?=", folded):
                email.header.decode_header(word)[0][0].decode("utf-8")
            raw = render(compose(make_job(), MAIL_FROM, (Attachment(text + ".pdf", "application/pdf", b"x"),)),
                         LEARNER)
            pieces = re.findall(rb"filename\*\d+\*=(?:utf-8'')?([^;\r]*)", raw)
            for piece in pieces:
                bytes.fromhex(piece.replace(b"%", b"").hex())  # well-formed
                urllib.parse.unquote_to_bytes(piece.decode()).decode("utf-8")
            assert [p.get_filename() for p in parse(raw).iter_attachments()][1] == text + ".pdf"


# --- quoted-printable and notices ------------------------------------------------------------------------


def test_quoted_printable_reads_back_and_keeps_to_rfc_2045():
    encoded = quoted_printable(AWKWARD_TEXT)
    assert binascii.a2b_qp(encoded).decode("utf-8") == wire(AWKWARD_TEXT)
    lines = encoded.split(b"\r\n")
    assert lines[-1] == b"" and all(len(line) <= 76 for line in lines)
    assert not any(line.endswith((b" ", b"\t")) or line.startswith(b"From ") for line in lines)
    assert b"x" * 75 + b"=\r\n=20\r\n" in encoded  # the case b2a_qp writes 78 characters long


def test_a_notice_reads_back_exactly():
    raw = render(notice("EDC bridge <credentials@edc.example.edu>", LEARNER, "Jūsų kodas: 123", AWKWARD_TEXT),
                 LEARNER)
    message = parse(raw)
    assert message.get_content_type() == "text/plain" and message.get_content() == wire(AWKWARD_TEXT)
    assert str(message["Subject"]) == "Jūsų kodas: 123"
    assert message["Message-ID"].endswith("@edc.example.edu>")
    assert_line_limits(raw)
    assert_good_quoted_printable(raw)


def test_a_notice_with_a_file():
    png = Attachment("wallet-offer.png", "image/png", b"\x89PNG\r\n\x1a\n" + os.urandom(900))
    message = parse(render(notice("credentials@edc.example.edu", LEARNER, "Wallet", "Scan it.\n", (png,)), LEARNER))
    assert message.get_content_type() == "multipart/mixed"
    assert message.get_body(("plain",)).get_content() == "Scan it.\r\n"
    (part,) = message.iter_attachments()
    assert (part.get_filename(), part.get_content_type(), part.get_content()) == (png.filename, "image/png",
                                                                                  png.content)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=600), subject=st.text(max_size=200))
def test_any_text_reads_back(text, subject):
    raw = render(notice("credentials@edc.example.edu", LEARNER, subject, text), LEARNER)
    message = parse(raw)
    lines = text.encode("utf-8").splitlines()  # CR, LF and CRLF all end a line, as in the email package
    assert message.get_content().encode("utf-8") == b"".join(line + b"\r\n" for line in lines) or (
        not lines and message.get_content() == "\r\n")
    assert str(message["Subject"]) == header_text(subject)
    assert_line_limits(raw)
    assert_good_quoted_printable(raw)


def test_from_names_of_every_kind():
    for mail_from, shown in [("credentials@edc.example.edu", ""),
                             ("Vilniaus universitetas — kredencialai <c@edc.example.edu>",
                              "Vilniaus universitetas — kredencialai"),
                             ('"Registry, EDC (Vilnius)" <c@edc.example.edu>', "Registry, EDC (Vilnius)"),
                             ("=?utf-8?q?x?= <c@edc.example.edu>", "=?utf-8?q?x?=")]:
        raw = render(compose(make_job(), mail_from), LEARNER)
        (address,) = parse(raw)["From"].addresses
        assert address.addr_spec == email.utils.parseaddr(mail_from)[1]
        from_line = next(line for line in header_block(raw, errors="strict") if line.startswith("From:"))[5:]
        (display, _), = email.utils.getaddresses([from_line])
        assert str(email.header.make_header(email.header.decode_header(display))) == shown
        assert_line_limits(raw)


# --- the walls -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["a\r\nBcc: evil@attacker.example", "a\nBcc: x", "a\rb", "a\r\n\r\nbody",
                                   "a\r\n ", "Jonaitė", "a\x00b", "x" * 1000])
def test_a_header_value_that_is_not_one_folded_line_is_refused(value):
    with pytest.raises(ValueError, match="headers"):
        Mail()["X-Test"] = value


def test_render_refuses_a_second_to_or_another_recipient():
    message = compose(make_job(), MAIL_FROM)
    message["To"] = "evil@attacker.example"
    with pytest.raises(ValueError, match="header lines we did not write"):
        render(message, LEARNER)
    with pytest.raises(ValueError, match="exactly the learner's address"):
        render(compose(make_job(), MAIL_FROM), "someone.else@example.edu")


def test_addresses_that_are_not_plain_are_refused():
    for address in ("a@b@c", "a b@c.example", "ė@c.example", "x" * 250 + "@c.example", "a@b.example\r\nBcc: x"):
        with pytest.raises(ValueError, match="learner email"):
            compose(make_job(learner_email=address), MAIL_FROM)
        with pytest.raises(ValueError, match="recipient"):
            notice(MAIL_FROM, address, "s", "t")


def test_base64_lines_are_those_of_rfc_2045():
    raw = render(compose(make_job(document=os.urandom(3000)), MAIL_FROM), LEARNER)
    xml = raw.split(b"Content-Transfer-Encoding: base64\r\n", 1)[1].split(b"\r\n\r\n", 1)[1].split(b"\r\n--", 1)[0]
    lines = xml.split(b"\r\n")
    assert all(len(line) == 76 for line in lines[:-2]) and lines[-1] == b""
    assert base64.b64decode(b"".join(lines), validate=True) == parse(raw).iter_attachments().__next__().get_content()
