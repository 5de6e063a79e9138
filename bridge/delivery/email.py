"""Email channel: the learner gets the sealed credential as an attachment, over SMTP.

Configured by `EDC_SMTP_URL` and `EDC_MAIL_FROM`:

    smtp://host:port                      plain SMTP (a local relay or a test sink)
    smtp+starttls://user:pass@host:port   STARTTLS is required, then AUTH (user and password URL-encoded)
    smtps://user:pass@host:port           TLS from the first byte (port 465)

Errors are sorted into the two kinds the worker cares about: worth retrying (the server is down, slow,
or says "try later" with a 4xx code) and not (bad credentials, a refused address, TLS that cannot be
verified: trying again changes nothing until a person acts). The password never appears in an error,
a log line or a repr.

Exactly-once is impossible over SMTP alone: the server accepts a message when it reads the final "."
of DATA, and a crash between that moment and the registry's commit leaves us not knowing. `deliver`
therefore takes an optional `commit_point` callback, called after the whole message has been handed to
the server except the final "." and before that "." is written. The worker makes it record the attempt
durably ("handed over"); after a crash, a delivery found in that state is treated as delivered. That
turns the unknowable window into the moment between the callback's commit and one socket write
(microseconds; a few ms if the thread then waits for the GIL), and in that window the error is a lost
mail (at-most-once), never a second one. See
tests/reliability/README.md for the full reasoning.
"""
from __future__ import annotations

import logging
import os
import re
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import unquote, urlsplit

from bridge.delivery import DeliveryError, DeliveryJob
from bridge.delivery.messages import Attachment, compose, from_header, notice, render

log = logging.getLogger(__name__)

_SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("ssl", 465)}


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send. `password` is excluded from repr so settings can be logged safely."""

    host: str
    port: int
    security: str  # plain | starttls | ssl
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpSettings:
    """Read `EDC_SMTP_URL`; a bad URL is refused with the part that is wrong named (never the password)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ValueError(f"EDC_SMTP_URL: scheme {scheme or '(none)'!r} is not one of {', '.join(sorted(_SCHEMES))}")
    security, default_port = _SCHEMES[scheme]
    if not parts.hostname:
        raise ValueError("EDC_SMTP_URL: no host given (expected smtp://host:port)")
    try:
        port = parts.port or default_port
    except ValueError:
        raise ValueError("EDC_SMTP_URL: the port is not a number between 1 and 65535") from None
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if username and security == "plain" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise ValueError("EDC_SMTP_URL: refusing to send a password without TLS; use smtp+starttls:// or smtps://")
    return SmtpSettings(parts.hostname, port, security, username, password)


class EmailChannel:
    """Sends one message per delivery job; a new SMTP connection each time keeps failures independent."""

    name = "email"

    def __init__(self, settings: SmtpSettings, mail_from: str, *, timeout: float = 20.0,
                 ssl_context: ssl.SSLContext | None = None,
                 local_hostname: str | None = None) -> None:
        from_header(mail_from)  # ValueError naming EDC_MAIL_FROM unless it is one plain ASCII address
        self.settings = settings
        self.mail_from = mail_from
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()
        # smtplib would look up our FQDN on every connection (a DNS round trip each time); once is enough.
        self.local_hostname = local_hostname or socket.getfqdn()
        self._local = threading.local()

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **kwargs) -> "EmailChannel":
        env = os.environ if env is None else env
        url = env.get("EDC_SMTP_URL") or "smtp://127.0.0.1:8025"
        mail_from = env.get("EDC_MAIL_FROM") or "credentials@localhost"
        return cls(parse_smtp_url(url), mail_from, **kwargs)

    def deliver(self, job: DeliveryJob, *, attachments: tuple[Attachment, ...] = (),
                commit_point: Callable[[], None] | None = None) -> None:
        """Send the learner's message; raises DeliveryError(retryable=...) when it was not accepted."""
        if not job.learner_email or "@" not in job.learner_email:
            raise DeliveryError(f"email: learner address {job.learner_email!r} is not usable", retryable=False)
        attachments = tuple(attachments) + tuple(getattr(job, "attachments", ()) or ()) + tuple(
            Attachment(f.filename, f.media_type, f.content) for f in job.files)  # the course's other formats
        try:
            data = render(compose(job, self.mail_from, attachments), job.learner_email)
        except (ValueError, OSError) as exc:
            raise DeliveryError(f"email: cannot compose the message: {exc}", retryable=False) from exc
        self._send_or_explain(job.learner_email, data, commit_point, "the learner's address")
        log.info("email sent for %s (%s) via %s", job.credential_id, job.kind, self.settings.where)

    def send_notice(self, recipient: str, subject: str, text: str, attachments: tuple[Attachment, ...] = ()) -> None:
        """A plain-text message (the seal's expiry warning to the security contact; a learner's wallet offer
        or transaction code), with `attachments` if any (the offer's QR code)."""
        try:
            data = render(notice(self.mail_from, recipient, subject, text, attachments), recipient)
        except ValueError as exc:
            raise DeliveryError(f"email: cannot compose the notice: {exc}", retryable=False) from exc
        self._send_or_explain(recipient, data, None, "the staff address")
        log.info("notice %r sent via %s", subject, self.settings.where)

    def _send_or_explain(self, recipient: str, data: bytes, commit_point: Callable[[], None] | None,
                         whose: str) -> None:
        """Send, turning every SMTP failure into a DeliveryError that says what to do and if a retry helps."""
        where = self.settings.where
        try:
            self._transact(recipient, data, commit_point)
        except DeliveryError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"email: {where} refused the login of user {self.settings.username!r} "
                                f"({exc.smtp_code}); check EDC_SMTP_URL", retryable=False) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"email: {where} does not support what EDC_SMTP_URL asks for: {exc}",
                                retryable=False) from None
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise DeliveryError(f"email: {where} refused {whose} ({code} {_text(text)})",
                                retryable=_transient(code)) from None
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused, other codes
            raise DeliveryError(f"email: {where} answered {exc.smtp_code} {_text(exc.smtp_error)}",
                                retryable=_transient(exc.smtp_code)) from None
        except UnicodeEncodeError:
            raise DeliveryError("email: SMTP user name and password must be ASCII (smtplib sends them so)",
                                retryable=False) from None
        except smtplib.SMTPServerDisconnected as exc:
            if "timed out" in str(exc):
                raise DeliveryError(f"email: {where} did not answer within {self.timeout:g} s",
                                    retryable=True) from None
            raise DeliveryError(f"email: {where} closed the connection ({exc})", retryable=True) from None
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(f"email: the TLS certificate of {where} is not trusted ({exc.verify_message})",
                                retryable=False) from None
        except ConnectionRefusedError:
            raise DeliveryError(f"email: connection to {where} refused (is the SMTP server running?)",
                                retryable=True) from None
        except (socket.timeout, TimeoutError):
            raise DeliveryError(f"email: {where} did not answer within {self.timeout:g} s", retryable=True) from None
        except socket.gaierror as exc:
            raise DeliveryError(f"email: cannot resolve {self.settings.host!r} ({exc.strerror})",
                                retryable=True) from None
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            raise DeliveryError(f"email: talking to {where} failed: {type(exc).__name__}: {exc}",
                                retryable=True) from None

    # --- connections -----------------------------------------------------------------------------
    #
    # Each worker thread keeps its connection open between messages: a new one costs the greeting,
    # EHLO, (STARTTLS, a TLS handshake, EHLO again, AUTH) and QUIT, several times the message itself.
    # Servers close idle connections, so one unused for `max_idle_seconds` is replaced, and one found
    # closed at the first command is replaced once — safe, since nothing of the message was sent yet.

    max_idle_seconds = 30.0
    max_messages_per_connection = 100

    def _transact(self, recipient: str, data: bytes, commit_point: Callable[[], None] | None) -> None:
        smtp, reused = self._connection()
        try:
            self._send(smtp, recipient, data, commit_point)
        except _StaleConnection as stale:
            self._discard(smtp)
            if not reused:
                raise stale.cause from None
            smtp, _ = self._connection()
            try:
                self._send(smtp, recipient, data, commit_point)
            except _StaleConnection as again:
                self._discard(smtp)
                raise again.cause from None
            except BaseException:
                self._discard(smtp)
                raise
        except BaseException:
            self._discard(smtp)  # closed without QUIT: a QUIT in the middle of DATA would only hang
            raise
        self._local.used = time.monotonic()
        self._local.count = getattr(self._local, "count", 0) + 1

    def _connection(self) -> tuple[smtplib.SMTP, bool]:
        """This thread's open connection (reused: True) or a new, logged-in one."""
        local = self._local
        smtp = getattr(local, "smtp", None)
        if smtp is not None:
            fresh = time.monotonic() - local.used < self.max_idle_seconds
            if fresh and local.count < self.max_messages_per_connection:
                return smtp, True
            self._discard(smtp, polite=True)
        smtp = self._connect()
        try:
            # The final "." goes out as its own small write right after the body; with Nagle's algorithm
            # it would wait for the server's delayed ACK (40 ms on Linux) on every reused connection.
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._login(smtp)
        except BaseException:
            smtp.close()
            raise
        local.smtp, local.used, local.count = smtp, time.monotonic(), 0
        return smtp, False

    def _discard(self, smtp: smtplib.SMTP, *, polite: bool = False) -> None:
        if getattr(self._local, "smtp", None) is smtp:
            self._local.smtp = None
        try:
            if polite:
                smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            smtp.close()

    def close(self) -> None:
        """Say goodbye on this thread's connection (at shutdown; other threads' close with the process)."""
        smtp = getattr(self._local, "smtp", None)
        if smtp is not None:
            self._discard(smtp, polite=True)

    # --- the SMTP conversation -------------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "ssl":
            return smtplib.SMTP_SSL(s.host, s.port, local_hostname=self.local_hostname,
                                    timeout=self.timeout, context=self.ssl_context)
        smtp = smtplib.SMTP(s.host, s.port, local_hostname=self.local_hostname, timeout=self.timeout)
        if s.security == "starttls":
            try:
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(f"email: {s.where} does not offer STARTTLS, which EDC_SMTP_URL requires",
                                        retryable=False)
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()
            except BaseException:
                smtp.close()
                raise
        return smtp

    def _login(self, smtp: smtplib.SMTP) -> None:
        if self.settings.username:
            smtp.login(self.settings.username, self.settings.password or "")

    def _send(self, smtp: smtplib.SMTP, recipient: str, data: bytes,
              commit_point: Callable[[], None] | None) -> None:
        """MAIL, RCPT, DATA by hand, so the registry can be told just before the server's point of no return."""
        try:
            smtp.ehlo_or_helo_if_needed()
            code, text = smtp.mail(self.mail_from)
        except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
            raise _StaleConnection(exc) from exc
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, text, self.mail_from)
        code, text = smtp.rcpt(recipient)
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: (code, text)})
        smtp.putcmd("data")
        code, text = smtp.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, text)
        smtp.send(_dot_stuffed(data))
        if commit_point is not None:
            commit_point()  # after this the worker counts the mail as sent, even if we die right now
        smtp.send(b".\r\n")
        code, text = smtp.getreply()
        if code != 250:
            raise smtplib.SMTPDataError(code, text)


class _StaleConnection(Exception):
    """The server had closed a connection before our first command of a message: nothing was sent."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _dot_stuffed(data: bytes) -> bytes:
    """The message as DATA carries it: CRLF line ends, a leading "." doubled (RFC 5321 §4.5.2), CRLF at the end.

    Our messages already end every line with CRLF (the SMTP policy writes them so): then a line starts
    only after a CRLF and plain replacements do it, a quarter of the two regular expressions' time
    (0.09 against 0.39 ms for a 40 KB mail). Anything else takes the general way, as smtplib writes it."""
    if data.count(b"\n") == data.count(b"\r") == data.count(b"\r\n"):  # CRLF line ends only
        body = data.replace(b"\r\n.", b"\r\n..")
        body = b"." + body if body.startswith(b".") else body
    else:
        body = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", data)
        body = re.sub(rb"(?m)^\.", b"..", body)
    return body if body.endswith(b"\r\n") else body + b"\r\n"


def _transient(code: int) -> bool:
    """SMTP 4xx means "not now", 5xx means "never" (RFC 5321 §4.2.1)."""
    return 400 <= code < 500


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
