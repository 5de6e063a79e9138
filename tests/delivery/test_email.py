"""The email channel against a real SMTP server (aiosmtpd) on loopback."""
from __future__ import annotations

import logging
import re
import socket
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from aiosmtpd.controller import Controller

from bridge.delivery import DeliveryError
from bridge.delivery.email import EmailChannel, _dot_stuffed, parse_smtp_url
from bridge.delivery.messages import Attachment, compose, message_id, render

from .conftest import CREDENTIAL_ID, SEALED, make_job
from .sinks import MailSink, _Collector, free_port

MAIL_FROM = "Vilnius University credentials <credentials@edc.example.edu>"


def channel_for(url: str, **kwargs) -> EmailChannel:
    return EmailChannel(parse_smtp_url(url), MAIL_FROM, timeout=5, **kwargs)


def parts(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    files = {a.get_filename(): a for a in message.iter_attachments()}
    return text, html, files


# --- the message a learner gets ----------------------------------------------------------------------


def test_issued_mail_in_english_carries_the_sealed_file_byte_exact(mail_sink, job):
    channel_for(mail_sink.url).deliver(job)

    assert len(mail_sink.messages) == 1
    rcpt, message = mail_sink.messages[0]
    assert rcpt == ["ona@example.edu"]
    assert message["To"].addresses[0].addr_spec == "ona@example.edu"
    assert message["Subject"] == "Your credential from Vilnius University: Data literacy"
    assert message["Message-ID"] == message_id(CREDENTIAL_ID, "issued", MAIL_FROM)
    assert message["Content-Language"] == "en"
    text, html, files = parts(message)
    assert "Vilnius University has issued you a European Digital Credential: \"Data literacy\"" in text
    assert job.view_url in text and job.verify_url in text and job.filename in text
    assert f'<a href="{job.verify_url}">' in html
    attachment = files[job.filename]
    assert attachment.get_content_type() == "application/xml"
    assert attachment.get_content() == SEALED  # CRLFs, the leading dot and the UTF-8 survive untouched


def test_issued_mail_in_lithuanian(mail_sink):
    channel_for(mail_sink.url).deliver(make_job(learner_lang="lt-LT", issuer_name="Vilniaus universitetas"))

    _, message = mail_sink.messages[0]
    assert message["Subject"] == "Jūsų kredencialas: Duomenų raštingumas"
    assert message["Content-Language"] == "lt"
    text, html, files = parts(message)
    assert "Vilniaus universitetas išdavė Jums Europos skaitmeninį kredencialą „Duomenų raštingumas“." in text
    assert "Kredencialas pridėtas prie šio laiško" in text
    assert "Kiekvienas, kam jį pateiksite, gali patikrinti" in text
    assert "Duomenų raštingumas" in html
    assert list(files.values())[0].get_content() == SEALED


@pytest.mark.parametrize("lang, subject, words", [
    ("en", "Your credential has been revoked: Data literacy", "Reason given by the issuer: Grade was corrected"),
    ("lt", "Jūsų kredencialas atšauktas: Duomenų raštingumas", "Išdavėjo nurodyta priežastis: Grade was corrected"),
])
def test_revocation_notice(mail_sink, lang, subject, words):
    job = make_job(kind="revoked", document=b"", learner_lang=lang, reason="Grade was corrected")
    channel_for(mail_sink.url).deliver(job)

    _, message = mail_sink.messages[0]
    assert message["Subject"] == subject
    text, _, files = parts(message)
    assert words in text and job.verify_url in text
    assert files == {}
    assert message["Message-ID"] != message_id(CREDENTIAL_ID, "issued", MAIL_FROM)


def test_unknown_language_falls_back_to_english_and_missing_view_url_drops_its_paragraph(mail_sink):
    channel_for(mail_sink.url).deliver(make_job(learner_lang="fr", view_url=""))
    text, _, _ = parts(mail_sink.messages[0][1])
    assert "has issued you" in text
    assert "plain words" not in text


def test_further_attachments_follow_the_xml(mail_sink, job):
    pdf = Attachment("credential.pdf", "application/pdf", b"%PDF-1.7\n\x00\xff binary")
    channel_for(mail_sink.url).deliver(job, attachments=(pdf,))
    _, _, files = parts(mail_sink.messages[0][1])
    assert list(files) == [job.filename, "credential.pdf"]
    assert files["credential.pdf"].get_content_type() == "application/pdf"
    assert files["credential.pdf"].get_content() == pdf.content


def test_message_id_is_stable_across_resends(job):
    first = compose(job, MAIL_FROM)
    second = compose(job, MAIL_FROM)
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Message-ID"].endswith("@edc.example.edu>")
    assert CREDENTIAL_ID not in first["Message-ID"]


def test_bad_jobs_are_refused_without_retry(mail_sink):
    with pytest.raises(DeliveryError) as err:
        channel_for(mail_sink.url).deliver(make_job(document=b""))
    assert not err.value.retryable and "document" in str(err.value)
    with pytest.raises(DeliveryError) as err:
        channel_for(mail_sink.url).deliver(make_job(learner_email="nobody"))
    assert not err.value.retryable and "address" in str(err.value)
    assert mail_sink.messages == []


# --- the point of no return --------------------------------------------------------------------------


def test_commit_point_runs_before_the_server_accepts(mail_sink, job):
    seen_at_commit = []
    channel_for(mail_sink.url).deliver(job, commit_point=lambda: seen_at_commit.append(len(mail_sink.messages)))
    assert seen_at_commit == [0]
    assert len(mail_sink.messages) == 1


def test_a_failure_at_the_commit_point_sends_nothing_and_does_not_hang(mail_sink, job):
    class RegistryDown(Exception):
        pass

    def fail():
        raise RegistryDown("cannot record the attempt")

    with pytest.raises(RegistryDown):
        channel_for(mail_sink.url).deliver(job, commit_point=fail)
    mail_sink.wait_for(1, timeout=0.5)
    assert mail_sink.messages == []  # the server dropped the half-sent DATA


def test_the_sink_keeps_a_message_whose_final_dot_arrived(mail_sink, job):
    """Like a real MTA, the test server keeps a complete DATA even if the client closes at once after the "."."""
    with socket.create_connection(("127.0.0.1", mail_sink.port), timeout=5) as raw:
        replies = raw.makefile("rb")
        replies.readline()
        for command in (b"HELO test", b"MAIL FROM:<a@example.edu>", b"RCPT TO:<b@example.edu>", b"DATA"):
            raw.sendall(command + b"\r\n")
            assert replies.readline()[:1] in (b"2", b"3")
        raw.sendall(render(compose(job, MAIL_FROM), job.learner_email) + b"\r\n.\r\n")
    mail_sink.wait_for(1, timeout=3)
    assert [r.credential_id for r in mail_sink.records] == [CREDENTIAL_ID]


# --- one connection for many messages ----------------------------------------------------------------


def test_messages_share_a_connection(mail_sink):
    channel = channel_for(mail_sink.url)
    for n in range(3):
        channel.deliver(make_job(credential_id=f"urn:credential:{n}"))
    assert [r.connection for r in mail_sink.records] == [1, 1, 1]


def test_a_connection_the_server_closed_is_replaced(job):
    sink = MailSink().start()
    channel = channel_for(sink.url)
    try:
        channel.deliver(job)
        sink.stop()  # the server goes away and comes back: our open connection is dead
        sink.start()
        channel.deliver(make_job(credential_id="urn:credential:second"))
    finally:
        sink.stop()
    assert [r.credential_id for r in sink.records] == [CREDENTIAL_ID, "urn:credential:second"]
    assert sink.records[0].connection != sink.records[1].connection


def test_an_idle_connection_is_not_reused(mail_sink, job):
    channel = channel_for(mail_sink.url)
    channel.max_idle_seconds = 0
    channel.deliver(job)
    channel.deliver(job)
    assert len({r.connection for r in mail_sink.records}) == 2


def test_threads_do_not_share_a_connection(mail_sink):
    channel = channel_for(mail_sink.url)
    errors = []

    def send(n: int) -> None:
        try:
            for i in range(5):
                channel.deliver(make_job(credential_id=f"urn:credential:{n}-{i}"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(mail_sink.records) == 20
    assert len({r.connection for r in mail_sink.records}) == 4


# --- STARTTLS and AUTH -------------------------------------------------------------------------------


@pytest.fixture
def secure_sink(server_tls):
    sink = MailSink(tls_context=server_tls, require_starttls=True, users={"edc-bridge": "p@ss:w/rd %"}).start()
    yield sink
    sink.stop()


def test_starttls_and_auth(secure_sink, client_tls, job):
    url = f"smtp+starttls://edc-bridge:p%40ss%3Aw%2Frd%20%25@127.0.0.1:{secure_sink.port}"
    channel_for(url, ssl_context=client_tls).deliver(job)
    assert len(secure_sink.messages) == 1
    assert secure_sink.messages[0][1]["X-EDC-Credential-Id"] == CREDENTIAL_ID


def test_wrong_password_is_not_retryable_and_never_shown(secure_sink, client_tls, job, caplog):
    url = f"smtp+starttls://edc-bridge:Wrong-Secret-42@127.0.0.1:{secure_sink.port}"
    channel = channel_for(url, ssl_context=client_tls)
    with caplog.at_level(logging.DEBUG), pytest.raises(DeliveryError) as err:
        channel.deliver(job)
    assert not err.value.retryable
    assert "refused the login of user 'edc-bridge'" in str(err.value)
    assert "Wrong-Secret-42" not in str(err.value) + repr(channel.settings) + caplog.text
    assert secure_sink.auth_failures >= 1 and secure_sink.messages == []


def test_untrusted_server_certificate_is_not_retryable(secure_sink, job):
    url = f"smtp+starttls://edc-bridge:x@127.0.0.1:{secure_sink.port}"
    with pytest.raises(DeliveryError) as err:
        channel_for(url).deliver(job)  # the default context does not know our self-signed certificate
    assert not err.value.retryable and "not trusted" in str(err.value)


def test_starttls_required_but_not_offered(mail_sink, job):
    url = f"smtp+starttls://127.0.0.1:{mail_sink.port}"
    with pytest.raises(DeliveryError) as err:
        channel_for(url).deliver(job)
    assert not err.value.retryable and "STARTTLS" in str(err.value)


def test_smtps(server_tls, client_tls, job):
    sink = MailSink()
    smtps = Controller(_Collector(sink), hostname="127.0.0.1", port=sink.port, ssl_context=server_tls,
                       server_hostname="localhost")
    smtps.start()
    try:
        channel_for(f"smtps://127.0.0.1:{sink.port}", ssl_context=client_tls).deliver(job)
    finally:
        smtps.stop()
    assert len(sink.messages) == 1


# --- failures worth retrying -------------------------------------------------------------------------


def test_server_down_is_retryable(job):
    with pytest.raises(DeliveryError) as err:
        channel_for(f"smtp://127.0.0.1:{free_port()}").deliver(job)
    assert err.value.retryable and "refused" in str(err.value)


def test_silent_server_times_out_retryably(job):
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    try:
        channel = EmailChannel(parse_smtp_url(f"smtp://127.0.0.1:{listener.getsockname()[1]}"), MAIL_FROM,
                               timeout=0.5)
        with pytest.raises(DeliveryError) as err:
            channel.deliver(job)
        assert err.value.retryable and "did not answer within 0.5 s" in str(err.value)
    finally:
        listener.close()


class _Refusing:
    def __init__(self, answer: str) -> None:
        self.answer = answer

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        return self.answer


@pytest.mark.parametrize("answer, retryable", [("450 4.2.1 Mailbox busy, try later", True),
                                               ("550 5.1.1 No such user", False)])
def test_refused_recipient(job, answer, retryable):
    port = free_port()
    controller = Controller(_Refusing(answer), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with pytest.raises(DeliveryError) as err:
            channel_for(f"smtp://127.0.0.1:{port}").deliver(job)
    finally:
        controller.stop()
    assert err.value.retryable is retryable
    assert answer.split()[0] in str(err.value)


# --- configuration -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url, expected", [
    ("smtp://mail.example.edu", ("mail.example.edu", 25, "plain", None)),
    ("smtp://127.0.0.1:8025", ("127.0.0.1", 8025, "plain", None)),
    ("smtp+starttls://u%40x:p@mail.example.edu", ("mail.example.edu", 587, "starttls", "u@x")),
    ("smtps://u:p@mail.example.edu:2465", ("mail.example.edu", 2465, "ssl", "u")),
])
def test_parse_smtp_url(url, expected):
    s = parse_smtp_url(url)
    assert (s.host, s.port, s.security, s.username) == expected


@pytest.mark.parametrize("url, words", [
    ("http://mail.example.edu", "scheme 'http'"),
    ("smtp://", "no host"),
    ("smtp://h:99999", "port"),
    ("smtp://user:hunter2@mail.example.edu", "without TLS"),
])
def test_bad_smtp_url_is_named(url, words):
    with pytest.raises(ValueError) as err:
        parse_smtp_url(url)
    assert "EDC_SMTP_URL" in str(err.value) and words in str(err.value)
    assert "hunter2" not in str(err.value)


def test_password_stays_out_of_repr():
    settings = parse_smtp_url("smtps://u:hunter2@mail.example.edu")
    assert settings.password == "hunter2" and "hunter2" not in repr(settings)


@pytest.mark.parametrize("mail_from", ["credentials", "Registrar <registrar@universitätsmail.example>",
                                       "a@b.example, c@d.example"])
def test_a_sender_address_the_mail_writer_cannot_write_is_refused_when_the_channel_is_made(mail_from):
    with pytest.raises(ValueError, match="EDC_MAIL_FROM"):
        EmailChannel(parse_smtp_url("smtp://127.0.0.1:2525"), mail_from)


# --- what DATA carries (RFC 5321 §4.5.2) ---------------------------------------------------------


def _stuffed_as_smtplib_does(data: bytes) -> bytes:
    """The reference: smtplib's own two steps (its _fix_eols and _quote_periods), on bytes."""
    body = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", data)
    body = re.sub(rb"(?m)^\.", b"..", body)
    return body if body.endswith(b"\r\n") else body + b"\r\n"


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from([b".", b"..", b"\r\n", b"\n", b"\r", b"a", b" ", b"\r\n.\r\n"]), max_size=30))
def test_data_is_dot_stuffed_with_crlf_line_ends_whatever_the_line_ends(pieces):
    data = b"".join(pieces)
    assert _dot_stuffed(data) == _stuffed_as_smtplib_does(data)


def test_a_composed_message_takes_the_plain_way_and_a_line_of_one_dot_is_doubled():
    message = render(compose(make_job(), MAIL_FROM), "ona@example.edu") + b".\r\n.hidden\r\n"
    assert b"\n" not in message.replace(b"\r\n", b"") and b"\r" not in message.replace(b"\r\n", b"")
    stuffed = _dot_stuffed(message)
    assert stuffed == _stuffed_as_smtplib_does(message)
    assert stuffed.endswith(b"\r\n..\r\n..hidden\r\n")
