"""The learner's email about a credential: the words (en/lt templates), the attachments, the headers.

Kept apart from the SMTP code so the text can be read, translated and tested without a mail server.
The wording follows what Europass itself sends with a credential: who issued it, its title, that the
sealed file is attached, and where to view and verify it. Templates live in `templates/<kind>.<lang>.txt`
(first line `Subject: ...`, then paragraphs separated by blank lines) so a translator edits plain text.
"""
from __future__ import annotations

import email.policy
import email.utils
import hashlib
import html
import re
from dataclasses import dataclass
from email.header import Header
from email.message import EmailMessage
from email.policy import Policy
from pathlib import Path
from string import Template

from bridge.delivery import DeliveryJob
from bridge.edc.inputs import header_text

TEMPLATES = Path(__file__).with_name("templates")
LANGUAGES = ("en", "lt")
_URL = re.compile(r"((?:https?|openid-credential-offer)://[^\s<>\"]+)")  # the wallet offer's link too


@dataclass(frozen=True)
class Attachment:
    """A further file sent with the credential (the printable PDF, for one); the sealed XML is the job's own."""

    filename: str
    media_type: str  # "application/pdf"
    content: bytes


def message_language(lang: str | None) -> str:
    """The learner's language if we have a text in it, English otherwise (lt-LT counts as lt)."""
    base = (lang or "").split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else "en"


def message_id(credential_id: str, kind: str, mail_from: str, resend: int = 0) -> str:
    """A Message-ID fixed by the credential and the event, so a resend after a crash is the same message.

    Mail clients thread or drop a second copy with the same id instead of showing two different mails.
    A copy staff send again on the learner's request (`resend` n > 0) is meant to arrive, so it gets an
    id of its own. The local part is a digest, not the id itself, so nothing about the learner leaks.
    """
    source = f"{credential_id}\n{kind}" + (f"\nresend {resend}" if resend else "")
    digest = hashlib.sha256(source.encode()).hexdigest()[:32]
    domain = mail_from.rpartition("@")[2].strip(" >") or "edc-bridge.invalid"
    return f"<edc.{kind}.{digest}@{domain}>"


def _title(job: DeliveryJob, lang: str) -> str:
    title = job.title or {}
    return title.get(lang) or title.get("en") or next(iter(title.values()), "") or job.credential_id


def _values(job: DeliveryJob, lang: str) -> dict[str, str]:
    return {
        "learner": job.learner_name,
        "issuer": job.issuer_name,
        "title": _title(job, lang),
        "filename": job.filename,
        "view_url": job.view_url,
        "verify_url": job.verify_url,
        "credential_id": job.credential_id,
        "reason": (job.reason or "").strip(),
        "wallet_link": job.extra.get("wallet_offer_link", ""),  # the paragraph is left out without an offer
        "wallet_expires": job.extra.get("wallet_offer_expires", ""),
    }


def _paragraphs(kind: str, lang: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """Subject and body paragraphs; a paragraph naming a value we do not have (no view URL) is left out."""
    source = (TEMPLATES / f"{kind}.{lang}.txt").read_text(encoding="utf-8")
    head, _, body = source.partition("\n")
    if not head.startswith("Subject: "):
        raise ValueError(f"template {kind}.{lang}.txt must start with a 'Subject: ' line")
    subject = Template(head[len("Subject: "):]).substitute(values)
    paragraphs = []
    for block in re.split(r"\n\s*\n", body.strip()):
        names = {m.group(1) for m in re.finditer(r"\$(\w+)", block)}
        if any(not values.get(name) for name in names):
            continue
        paragraphs.append(Template(block).substitute(values))
    return " ".join(subject.split()), paragraphs


def template_text(kind: str, lang: str, values: dict[str, str]) -> tuple[str, str]:
    """(subject, plain-text body) of the template `kind` in the learner's language (English otherwise):
    what other messages to the learner (a wallet's transaction code) are written from."""
    subject, paragraphs = _paragraphs(kind, message_language(lang), values)
    return subject, "\n\n".join(paragraphs) + "\n"


def _html(paragraphs: list[str], lang: str) -> str:
    def one(p: str) -> str:
        escaped = html.escape(p).replace("\n", "<br>\n")
        return "<p>" + _URL.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', escaped) + "</p>"

    body = "\n".join(one(p) for p in paragraphs)
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"></head>\n'
            f'<body style="font-family: sans-serif; line-height: 1.4">\n{body}\n</body></html>\n')


# --- headers that carry people's words -------------------------------------------------------------------
# A learner's name, a course title and an issuer's name reach the Subject and To headers. They are never
# handed to the email package as text to parse: its parser decodes RFC 2047 encoded words found in the
# input, and CPython before 3.11.10/3.12.5 (CVE-2024-6923) wrote a CR/LF decoded that way out raw, adding
# header lines. Here the words are made one line (controls removed) and always encoded by us, whole, as
# UTF-8 encoded words: a "=?utf-8?q?...?=" inside a name is then text the reader sees, never encoding.
# `render` finally reads the generated header block back and refuses a message with any header we did not
# write or with other than one To address, whatever the interpreter does.

_ADDR_SPEC = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+\Z")


class PreparedHeader(str):
    """A header value folded and encoded by us; the email package writes it as it is (policy.fold hook)."""

    name: str

    def __new__(cls, name: str, value: str) -> "PreparedHeader":
        header = super().__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: {str(self).replace(chr(10), policy.linesep)}{policy.linesep}"

    @property
    def defects(self) -> tuple:  # read by the email package's generator on some versions
        return ()


def encoded_words(name: str, text: str) -> str:
    """`text` as UTF-8 encoded words folded for header `name`; continuation lines start "\\n " (fold writes
    the policy's line end)."""
    return Header(header_text(text), "utf-8", header_name=name).encode(linesep="\n")


def subject_header(text: str) -> PreparedHeader:
    return PreparedHeader("Subject", encoded_words("Subject", text))


def to_header(display_name: str, addr_spec: str) -> PreparedHeader:
    """One mailbox, `"name" <addr>`, the name encoded by us. The address must be a plain ASCII addr-spec."""
    if not _ADDR_SPEC.match(addr_spec) or addr_spec.count("@") != 1:
        raise ValueError(f"learner email: {addr_spec!r} is not a plain address this sidecar sends to")
    display = header_text(display_name)
    if not display:
        return PreparedHeader("To", addr_spec)
    return PreparedHeader("To", f"{encoded_words('To', display)}\n <{addr_spec}>")


def render(message: EmailMessage, recipient: str, *, allowed: frozenset[str] | None = None) -> bytes:
    """The message's bytes for SMTP (CRLF), refused with ValueError unless its header block holds only the
    headers we set, each once, and a To naming exactly `recipient`."""
    data = message.as_bytes(policy=email.policy.SMTP)
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
    names = [line.split(":", 1)[0].strip().lower() for line in head.split("\r\n") if line and not line[0].isspace()]
    expected = {k.lower() for k in message.keys()} if allowed is None else allowed
    unexpected = sorted(set(names) - expected)
    if unexpected or len(names) != len(set(names)):
        raise ValueError(f"headers: the generated message has header lines we did not write ({unexpected or names})")
    to_values = [line for line in _unfolded(head) if line.lower().startswith("to:")]
    addresses = email.utils.getaddresses([to_values[0][3:]]) if len(to_values) == 1 else []
    if len(addresses) != 1 or addresses[0][1].lower() != recipient.lower():
        raise ValueError("headers: the To header must name exactly the learner's address")
    return data


def _unfolded(head: str) -> list[str]:
    lines: list[str] = []
    for line in head.split("\r\n"):
        if line[:1].isspace() and lines:
            lines[-1] += line
        else:
            lines.append(line)
    return lines


def compose(job: DeliveryJob, mail_from: str, attachments: tuple[Attachment, ...] = ()) -> EmailMessage:
    """The whole message for `job`: text and HTML alternatives, then the sealed XML and any further files."""
    if job.kind not in ("issued", "revoked"):
        raise ValueError(f"kind: unknown delivery kind {job.kind!r} (issued or revoked)")
    lang = message_language(job.learner_lang)
    subject, paragraphs = _paragraphs(job.kind, lang, _values(job, lang))

    msg = EmailMessage()
    msg["Subject"] = subject_header(subject)
    msg["From"] = mail_from
    msg["To"] = to_header(job.learner_name, job.learner_email)
    msg["Date"] = email.utils.formatdate(localtime=False)
    msg["Message-ID"] = message_id(job.credential_id, job.kind, mail_from, job.resend)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-EDC-Credential-Id"] = job.credential_id
    msg.set_content("\n\n".join(paragraphs) + "\n", subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(_html(paragraphs, lang), subtype="html", charset="utf-8", cte="quoted-printable")

    if job.kind == "issued":
        if not job.document:
            raise ValueError("document: an 'issued' delivery needs the sealed credential bytes")
        _attach(msg, job.filename or _default_filename(job.credential_id), job.media_type, job.document)
    for extra in attachments:
        _attach(msg, extra.filename, extra.media_type, extra.content)
    msg["Content-Language"] = lang  # after the body: setting content drops Content-* headers set earlier
    return msg


def _default_filename(credential_id: str) -> str:
    return f"credential-{credential_id.rpartition(':')[2]}.xml"


def _attach(msg: EmailMessage, filename: str, media_type: str, content: bytes) -> None:
    """Attach bytes as base64 so a sealed file arrives byte-exact (no line-ending or charset rewriting)."""
    maintype, _, subtype = (media_type or "application/octet-stream").partition("/")
    msg.add_attachment(content, maintype=maintype, subtype=subtype or "octet-stream", filename=filename)
