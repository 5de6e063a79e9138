"""Issue 11.1: no learner name, course title or issuer name can add a header line or a second recipient.

Every test reads the bytes a real SMTP server (aiosmtpd on loopback) received: the header block must hold
exactly the headers the sidecar writes, each once, and the To header exactly the learner's address.
The names that carried the attacks are shown to the reader as the text they were, not decoded.
"""
from __future__ import annotations

import email
import email.policy
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bridge.delivery.email import EmailChannel, parse_smtp_url
from bridge.delivery.messages import compose, render
from bridge.edc.inputs import header_text

from .conftest import header_block, make_job, shown_name

REPO = Path(__file__).resolve().parents[2]
MAIL_FROM = "Vilnius University credentials <credentials@edc.example.edu>"
# What compose writes at the top of the message (the MIME parts carry their own headers below it).
OUR_HEADERS = {"subject", "from", "to", "date", "message-id", "auto-submitted", "x-edc-credential-id",
               "content-type", "mime-version", "content-language"}

Q_CRLF_BCC = "Ona =?utf-8?q?=0D=0ABcc:_evil2=40attacker.example?="
B_SECOND_ADDRESS = "=?utf-8?b?IiA8ZXZpbEBhdHRhY2tlci5leGFtcGxlPiwgIng=?="  # '" <evil@attacker.example>, "x'
HEADER_END_HTML = ("Data =?utf-8?q?=0D=0AReply-To:_evil=40attacker.example=0D=0A=0D=0A"
                   "<html><a_href=3D'http://attacker.example'>verify_here</a></html>?= literacy")


def assert_only_our_headers(raw: bytes, learner: str) -> email.message.EmailMessage:
    lines = header_block(raw)
    names = [line.split(":", 1)[0].lower() for line in lines]
    assert set(names) <= OUR_HEADERS, names
    assert len(names) == len(set(names)), names
    assert not any(n in ("bcc", "cc", "reply-to") for n in names)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert [a.addr_spec for a in parsed["To"].addresses] == [learner]
    assert b"attacker.example'>" not in raw.split(b"\r\n\r\n", 1)[1].split(b"--")[0]  # no body of theirs before the MIME parts
    return parsed


def deliver(mail_sink, **changes) -> tuple[bytes, email.message.EmailMessage]:
    EmailChannel(parse_smtp_url(mail_sink.url), MAIL_FROM, timeout=5).deliver(make_job(**changes))
    rcpt, _ = mail_sink.messages[-1]
    assert rcpt == [changes.get("learner_email", "ona@example.edu")]
    raw = mail_sink.raw[-1]
    return raw, assert_only_our_headers(raw, changes.get("learner_email", "ona@example.edu"))


def test_quoted_printable_crlf_in_the_given_names_adds_no_bcc(mail_sink):
    raw, parsed = deliver(mail_sink, learner_name=Q_CRLF_BCC + " Jonaitė")
    assert b"\r\nBcc:" not in raw
    assert shown_name(raw) == Q_CRLF_BCC + " Jonaitė"  # shown as the text it was


def test_base64_word_in_the_family_name_makes_no_second_address(mail_sink):
    raw, parsed = deliver(mail_sink, learner_name="Ona " + B_SECOND_ADDRESS)
    assert len(parsed["To"].addresses) == 1
    assert shown_name(raw) == "Ona " + B_SECOND_ADDRESS
    assert b"evil@attacker.example" not in raw.split(b"\r\n\r\n", 1)[0]


@pytest.mark.parametrize("where", ["title", "issuer_name"])
def test_course_title_or_issuer_cannot_add_reply_to_or_end_the_headers(mail_sink, where):
    value = {"en": HEADER_END_HTML, "lt": HEADER_END_HTML} if where == "title" else HEADER_END_HTML
    raw, parsed = deliver(mail_sink, **{where: value})
    assert "Reply-To" not in parsed
    assert HEADER_END_HTML in str(parsed["Subject"])
    assert parsed.get_body(preferencelist=("html",)).get_content().count("<html") == 1  # only ours


def test_raw_line_breaks_in_names_are_made_one_line(mail_sink):
    raw, parsed = deliver(mail_sink, learner_name="Ona\r\nBcc: evil@attacker.example\x00\x1b[31m",
                          title={"en": "Data\nX-Injected: 1", "lt": "Duomenys"})
    assert shown_name(raw) == "Ona Bcc: evil@attacker.example [31m"
    assert "X-Injected" not in parsed and "Bcc" not in parsed


def test_render_refuses_a_header_it_did_not_write():
    """The last wall: whatever the interpreter's email package does, a stray header line is refused."""
    message = compose(make_job(), MAIL_FROM)
    message["X-Other"] = "1"
    with pytest.raises(ValueError, match="header lines we did not write"):
        render(message, "ona@example.edu", allowed=frozenset(OUR_HEADERS))


def test_an_address_that_is_not_a_plain_addr_spec_is_refused():
    with pytest.raises(ValueError, match="learner email"):
        compose(make_job(learner_email="a>,<evil@attacker.example"), MAIL_FROM)


names = st.lists(st.one_of(
    st.text(min_size=1, max_size=30),
    st.sampled_from(["\r", "\n", "\r\n", "\x00", "\x1b", "\u2028", "=?", "?=", "=?utf-8?q?=0D=0A?=",
                     "=?utf-8?b?DQpCY2M6IGV2aWxAeA==?=", '"', "<", ">", ",", ";", "\\", "@", "Bcc:", "To:",
                     "Jonaitė", "Ωμέγα", "Ёжик", "数据", "ﷺ", "x" * 120]),
), min_size=1, max_size=8).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(given_names=names, family=names, title=names, issuer=names)
def test_no_name_adds_a_header_or_a_recipient(given_names, family, title, issuer):
    learner_name = f"{given_names} {family}"
    job = make_job(learner_name=learner_name, title={"en": title, "lt": title}, issuer_name=issuer)
    raw = render(compose(job, MAIL_FROM), job.learner_email)
    assert_only_our_headers(raw, "ona@example.edu")
    assert shown_name(raw) == header_text(learner_name)


def test_the_interpreter_has_the_cve_2024_6923_fix():
    """make test runs on the venv's interpreter; it must not write decoded CR/LF out raw (see the script)."""
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "python-safe-email.py")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
