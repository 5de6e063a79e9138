"""Issue 3: the seal-expiry warning reaches the security contact by email (a real SMTP server on loopback)."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from bridge.delivery.email import EmailChannel, parse_smtp_url
from bridge.worker import warn_security_contact
from hsm.expiry import expiry_warnings

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.timezone.utc)


def _warning(ec_token, days_left: int):
    cert = ec_token.seal_certificate
    return expiry_warnings(cert, cert.not_valid_after_utc - dt.timedelta(days=days_left))[0]


def _ctx(mail_sink, contact: str | None):
    channel = EmailChannel(parse_smtp_url(mail_sink.url), "credentials@nemunas-tech.example")
    return SimpleNamespace(settings=SimpleNamespace(security_contact=contact), channels={"email": channel})


def test_expiry_warning_is_mailed_to_the_security_contact(mail_sink, ec_token):
    warning = _warning(ec_token, 25)
    assert warning.threshold_days == 30
    assert warn_security_contact(_ctx(mail_sink, "security@nemunas-tech.example"), warning) is True
    mail_sink.wait_for(1)
    rcpt, message = mail_sink.messages[0]
    assert rcpt == ["security@nemunas-tech.example"]
    assert "seal certificate warning: 25 days left" in message["Subject"]
    body = message.get_content()
    assert warning.message in body and "hsm/README.md" in body
    assert ec_token.seal_certificate.not_valid_after_utc.isoformat() in body


def test_no_contact_configured_sends_nothing_and_says_so(mail_sink, ec_token, caplog):
    assert warn_security_contact(_ctx(mail_sink, None), _warning(ec_token, 5)) is False
    assert mail_sink.messages == []
    assert "set EDC_SECURITY_CONTACT" in caplog.text


def test_smtp_down_is_logged_not_raised(ec_token, caplog):
    from tests.delivery.sinks import free_port

    channel = EmailChannel(parse_smtp_url(f"smtp://127.0.0.1:{free_port()}"), "credentials@nemunas-tech.example",
                           timeout=2)
    ctx = SimpleNamespace(settings=SimpleNamespace(security_contact="security@nemunas-tech.example"),
                          channels={"email": channel})
    assert warn_security_contact(ctx, _warning(ec_token, 5)) is False
    assert "could not be mailed" in caplog.text
