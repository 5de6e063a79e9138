"""The learner's email about a credential: the words (en/lt templates), the attachments, the headers.

Kept apart from the SMTP code so the text can be read, translated and tested without a mail server.
The MIME message is written here too, by a small writer instead of the stdlib email package's
EmailMessage: that package's header folding, pure-Python quoted-printable and line-by-line generator
cost several times the rest of a delivery (bench/mail_compose.py measures both).
The wording follows what Europass itself sends with a credential: who issued it, its title, that the
sealed file is attached, and where to view and verify it. Templates live in `templates/<kind>.<lang>.txt`
(first line `Subject: ...`, then paragraphs separated by blank lines) so a translator edits plain text.
"""
from __future__ import annotations

import binascii
import email.utils
import functools
import hashlib
import html
import os
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template
from urllib.parse import quote

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
    subject, blocks = _template(TEMPLATES / f"{kind}.{lang}.txt")
    paragraphs = [block.substitute(values) for names, block in blocks if all(values.get(n) for n in names)]
    return " ".join(subject.substitute(values).split()), paragraphs


Blocks = tuple[tuple[frozenset[str], Template], ...]


def _template(path: Path) -> tuple[Template, Blocks]:
    """The template parsed, read again only when the file changed (a translator's edit needs no restart)."""
    stat = os.stat(path)
    return _parse_template(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _parse_template(path: Path, _mtime_ns: int, _size: int) -> tuple[Template, Blocks]:
    """(subject, paragraphs each with the names it uses) of a template file."""
    head, _, body = path.read_text(encoding="utf-8").partition("\n")
    if not head.startswith("Subject: "):
        raise ValueError(f"template {path.name} must start with a 'Subject: ' line")
    blocks = tuple((frozenset(re.findall(r"\$(\w+)", block)), Template(block))
                   for block in re.split(r"\n\s*\n", body.strip()))
    return Template(head[len("Subject: "):]), blocks


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
# handed to a parser as text: the words are made one line (controls removed) and always encoded by us,
# whole, as UTF-8 encoded words (RFC 2047), so a "=?utf-8?q?...?=" inside a name is text the reader sees,
# never encoding, and no CR/LF of theirs reaches the message. (The stdlib email package, which wrote these
# messages before, decodes encoded words found in its input, and CPython before 3.11.10/3.12.5
# (CVE-2024-6923) wrote a CR/LF decoded that way out raw, adding header lines.) Every header value passes
# `_checked_header` (ASCII, folds only, no line over 998), and `render` finally reads the generated header
# block back and refuses a message with any header we did not write or with other than one To address.

_ADDR_SPEC = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+\Z")
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+\Z")  # a display name needing no quotes (RFC 5322 atoms)
_FIELD_NAME = re.compile(r"[!-9;-~]+\Z")
_HEADER_LINE = re.compile(r"[\t -~]*\Z")  # printable ASCII and tab: no CR, LF, NUL or other control
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\Z")
LINE = 78  # header lines we write stay within this (RFC 5322 §2.1.1's "SHOULD")
QP_LINE = 76  # encoded body lines (RFC 2045 §6.7 (5) for quoted-printable, §6.8 for base64)
MAX_LINE = 998  # RFC 5322 §2.1.1: no line longer, whatever it holds

# Q encoding of one byte in a phrase (RFC 2047 §5 (3)): the stricter rule, so the same words serve To and Subject.
_Q_SAFE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/"
_Q = tuple(chr(b) if b in _Q_SAFE else "_" if b == 0x20 else f"={b:02X}" for b in range(256))
_WORD_OVERHEAD = len("=?utf-8?q?") + len("?=")
_MAX_CHAR_Q = 12  # one character's Q form at most ("=F0=9F=98=80"): every encoded word has room for one


def encoded_words(name: str, text: str) -> str:
    """`text` made one line and written as UTF-8 encoded words for header `name`: Q or B, whichever is
    shorter; lines of at most 78 characters (the header name's line included) joined by CRLF and a space;
    each word at most 75 characters and holding whole characters (RFC 2047 §2, §5)."""
    text = header_text(text)
    if not text:
        return ""
    data = text.encode("utf-8")
    q = "".join(map(_Q.__getitem__, data))
    rest = 75 - _WORD_OVERHEAD  # a continuation line: " " and a word of 75, RFC 2047's longest
    first = max(min(LINE - len(name) - 2 - _WORD_OVERHEAD, rest), _MAX_CHAR_Q)  # after "Name: "
    if len(q) <= 4 * -(-len(data) // 3):
        return "\r\n ".join(f"=?utf-8?q?{chunk}?=" for chunk in _q_chunks(q, first, rest))
    chunks = _b_chunks(data, first // 4 * 3, rest // 4 * 3)
    return "\r\n ".join(f"=?utf-8?b?{binascii.b2a_base64(c, newline=False).decode('ascii')}?=" for c in chunks)


def _q_chunks(q: str, first: int, rest: int) -> list[str]:
    """Q text cut into pieces of at most `first`, then `rest` characters, never inside an =XX escape nor
    between the bytes of one UTF-8 character (an escape of a continuation byte, =80 to =BF); after a
    space ("_") when one is near, so the raw header still reads in words."""
    chunks: list[str] = []
    start, room = 0, first
    while len(q) - start > room:
        end = start + room
        space = q.rfind("_", end - 16, end)
        if space > start:
            end = space + 1
        while q[end - 1] == "=" or q[end - 2] == "=" or (q[end] == "=" and q[end + 1] in "89AB"):
            end -= 1
        chunks.append(q[start:end])
        start, room = end, rest
    chunks.append(q[start:])
    return chunks


def _b_chunks(data: bytes, first: int, rest: int) -> list[bytes]:
    """UTF-8 bytes cut into pieces of at most `first`, then `rest` bytes, each holding whole characters."""
    chunks: list[bytes] = []
    start, room = 0, first
    while len(data) - start > room:
        end = start + room
        while data[end] & 0xC0 == 0x80:
            end -= 1
        chunks.append(data[start:end])
        start, room = end, rest
    chunks.append(data[start:])
    return chunks


def subject_header(text: str) -> str:
    """The Subject value: `text` as encoded words, folded."""
    return encoded_words("Subject", text)


def to_header(display_name: str, addr_spec: str) -> str:
    """One mailbox, `name <addr>`, the name encoded by us. The address must be a plain ASCII addr-spec."""
    _check_address(addr_spec, "learner email")
    display = header_text(display_name)
    if not display:
        return addr_spec
    return f"{encoded_words('To', display)}\r\n <{addr_spec}>"


@functools.lru_cache(maxsize=16)
def from_header(mail_from: str) -> str:
    """EDC_MAIL_FROM as one mailbox: the operator's display name as it is when it is plain ASCII words,
    quoted when it holds other ASCII, encoded words otherwise (or when it holds "=?", which a reader
    could take for encoding). Cached: it is the same for every message."""
    name, addr = email.utils.parseaddr(mail_from)
    _check_address(addr, "EDC_MAIL_FROM")
    name = header_text(name)
    if not name:
        return addr
    if "=?" in name or not name.isascii():
        return f"{encoded_words('From', name)}\r\n <{addr}>"
    phrase = name if _ATOMS.match(name) else '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{phrase} <{addr}>" if len(phrase) + len(addr) + 9 <= LINE else f"{phrase}\r\n <{addr}>"


def _check_address(addr_spec: str, what: str) -> None:
    if not _ADDR_SPEC.match(addr_spec) or addr_spec.count("@") != 1 or len(addr_spec) > 254:
        raise ValueError(f"{what}: {addr_spec!r} is not a plain address this sidecar sends to")


def _checked_header(name: str, value: str) -> str:
    """`value` if it makes exactly one header field: printable ASCII, every line break a fold (CRLF, then a
    space or tab, then text), no line over 998 octets; ValueError otherwise. Our values always pass: this is
    the wall against a future caller handing in text of someone else's."""
    if not _FIELD_NAME.match(name):
        raise ValueError(f"headers: {name!r} is not a header name")
    lines = value.split("\r\n")
    for n, line in enumerate(lines):
        if not _HEADER_LINE.match(line) or (n and (line[:1] not in (" ", "\t") or not line.strip())):
            raise ValueError(f"headers: the {name} value is not one folded line of printable ASCII")
    if len(name) + 2 + max(map(len, lines)) > MAX_LINE:
        raise ValueError(f"headers: the {name} value has a line over {MAX_LINE} characters")
    return value


class Mail:
    """A message as we wrote it: its top header fields (name, folded value) and the MIME body (CRLF lines).

    `msg[name] = value` adds a field (a second one with the same name too, which `render` refuses);
    `msg[name]` reads the first one back, unfolded, encoded words left as written.
    """

    __slots__ = ("_fields", "body")

    def __init__(self) -> None:
        self._fields: list[tuple[str, str]] = []
        self.body = b""

    def __setitem__(self, name: str, value: str) -> None:
        self._fields.append((name, _checked_header(name, value)))

    def __getitem__(self, name: str) -> str | None:
        key = name.lower()
        return next((value.replace("\r\n", "") for n, value in self._fields if n.lower() == key), None)

    def keys(self) -> list[str]:
        return [name for name, _ in self._fields]

    def as_bytes(self) -> bytes:
        """The whole message, CRLF line ends, as SMTP carries it (before dot-stuffing)."""
        head = "".join(f"{name}: {value}\r\n" for name, value in self._fields)
        return head.encode("ascii") + b"\r\n" + self.body


def render(message: Mail, recipient: str, *, allowed: frozenset[str] | None = None) -> bytes:
    """The message's bytes for SMTP (CRLF), refused with ValueError unless its header block holds only the
    headers we set, each once, and a To naming exactly `recipient`."""
    data = message.as_bytes()
    head = data[:data.find(b"\r\n\r\n")].decode("ascii", "replace")
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


# --- the MIME body ---------------------------------------------------------------------------------------
# Written directly as bytes: text parts UTF-8 quoted-printable (binascii's C encoder, two gaps closed in
# `quoted_printable`), files base64 in 76-character lines, multiparts with a boundary that holds "=_",
# which neither encoding can produce (RFC 2045 §6.7, RFC 2046 §5.1.1), and a random part.


def compose(job: DeliveryJob, mail_from: str, attachments: tuple[Attachment, ...] = ()) -> Mail:
    """The whole message for `job`: text and HTML alternatives, then the sealed XML and any further files."""
    if job.kind not in ("issued", "revoked"):
        raise ValueError(f"kind: unknown delivery kind {job.kind!r} (issued or revoked)")
    lang = message_language(job.learner_lang)
    subject, paragraphs = _paragraphs(job.kind, lang, _values(job, lang))

    msg = Mail()
    msg["Subject"] = subject_header(subject)
    msg["From"] = from_header(mail_from)
    msg["To"] = to_header(job.learner_name, job.learner_email)
    msg["Date"] = email.utils.formatdate(localtime=False)
    msg["Message-ID"] = message_id(job.credential_id, job.kind, mail_from, job.resend)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-EDC-Credential-Id"] = job.credential_id

    files = [(extra.filename, extra.media_type, extra.content) for extra in attachments]
    if job.kind == "issued":
        if not job.document:
            raise ValueError("document: an 'issued' delivery needs the sealed credential bytes")
        files.insert(0, (job.filename or _default_filename(job.credential_id), job.media_type, job.document))
    content_type, body = _multipart("alternative", [
        _text_part("plain", "\n\n".join(paragraphs) + "\n"), _text_part("html", _html(paragraphs, lang))])
    if files:
        alternative = f"Content-Type: {content_type}\r\n\r\n".encode("ascii") + body
        content_type, body = _multipart("mixed", [alternative] + [_file_part(*file) for file in files])
    msg["MIME-Version"] = "1.0"
    msg["Content-Type"] = content_type
    msg["Content-Language"] = lang
    msg.body = body
    return msg


def notice(mail_from: str, recipient: str, subject: str, text: str,
           attachments: tuple[Attachment, ...] = ()) -> Mail:
    """A plain-text message (the seal's expiry warning; a learner's wallet offer or transaction code), with
    `attachments` after the text if any. `recipient` must be a plain addr-spec, as for `to_header`."""
    _check_address(recipient, "recipient")
    domain = mail_from.rpartition("@")[2].strip(" >")
    msg = Mail()
    msg["From"] = from_header(mail_from)
    msg["To"] = recipient
    msg["Subject"] = subject_header(subject)
    msg["Date"] = email.utils.formatdate(usegmt=True)
    msg["Message-ID"] = email.utils.make_msgid(domain=domain or "edc-bridge.invalid")
    msg["MIME-Version"] = "1.0"
    if attachments:
        content_type, msg.body = _multipart("mixed", [_text_part("plain", text)] + [
            _file_part(extra.filename, extra.media_type, extra.content) for extra in attachments])
        msg["Content-Type"] = content_type
    else:
        for name, value in _text_fields("plain"):
            msg[name] = value
        msg.body = quoted_printable(text)
    return msg


def _default_filename(credential_id: str) -> str:
    return f"credential-{credential_id.rpartition(':')[2]}.xml"


def _text_fields(subtype: str) -> tuple[tuple[str, str], ...]:
    return ("Content-Type", f'text/{subtype}; charset="utf-8"'), ("Content-Transfer-Encoding", "quoted-printable")


def _text_part(subtype: str, text: str) -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in _text_fields(subtype))
    return (head + "\r\n").encode("ascii") + quoted_printable(text)


_FROM_LINE = re.compile(rb"^From ", re.MULTILINE)


def quoted_printable(text: str) -> bytes:
    """`text` as UTF-8 quoted-printable lines (RFC 2045 §6.7) with CRLF ends, the last line ended too.

    Any of CRLF, CR and LF ends a line, as in the email package. binascii.b2a_qp (C) escapes "=", controls,
    8-bit bytes and white space before a line end, and breaks long lines with soft breaks; what it leaves
    is done here: a line ending in an escaped space can come out 77 or 78 characters long, and a line
    starting "From " is written "=46rom " so no mbox store on the way turns it into ">From ".
    """
    lines = text.encode("utf-8").splitlines()
    encoded = binascii.b2a_qp(b"\n".join(lines) + b"\n", istext=True)
    if encoded.startswith(b"From ") or b"\nFrom " in encoded:
        encoded = _FROM_LINE.sub(b"=46rom ", encoded)
    out = encoded.split(b"\n")
    if max(map(len, out)) > QP_LINE:
        out = [piece for line in out for piece in _qp_fit(line)]
    return b"\r\n".join(out)


def _qp_fit(line: bytes) -> list[bytes]:
    """One encoded line cut with soft breaks into pieces of at most 76 characters, never inside an =XX
    escape (a raw "=" is always one: b2a_qp escapes a literal "=") and never so a piece starts "From "."""
    pieces: list[bytes] = []
    while len(line) > QP_LINE:
        cut = QP_LINE - 1
        while line[cut - 1] == 0x3D or line[cut - 2] == 0x3D or line[cut:cut + 5] == b"From ":
            cut -= 1
        pieces.append(line[:cut] + b"=")
        line = line[cut:]
    pieces.append(line)
    return pieces


def _file_part(filename: str, media_type: str, content: bytes) -> bytes:
    """A file as base64, so it arrives byte-exact (no line-ending or charset rewriting)."""
    head = (f"Content-Type: {_media_type(media_type)}\r\nContent-Transfer-Encoding: base64\r\n"
            f"Content-Disposition: {_disposition(filename)}\r\n\r\n")
    return head.encode("ascii") + _base64_lines(content)


def _media_type(value: str) -> str:
    maintype, _, subtype = (value or "application/octet-stream").partition("/")
    value = f"{maintype}/{subtype or 'octet-stream'}"
    if not _MEDIA_TYPE.match(value):
        raise ValueError(f"media type: {value!r} is not a type/subtype")
    return value


def _disposition(filename: str) -> str:
    """`attachment` with the file's name: quoted when it is ASCII of up to 60 characters, else RFC 2231 UTF-8
    percent-encoded, cut into numbered continuations (RFC 2231 §3) when long; every line within 76."""
    name = header_text(filename)
    if not name:
        return "attachment"
    if name.isascii() and "=?" not in name:
        quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if len(quoted) <= 30:
            return f"attachment; filename={quoted}"
        if len(quoted) <= 62:
            return f"attachment;\r\n filename={quoted}"
    pieces = _percent_pieces(quote(name, safe="", encoding="utf-8"), 50)
    if len(pieces) == 1:
        return f"attachment;\r\n filename*=utf-8''{pieces[0]}"
    pieces[0] = "utf-8''" + pieces[0]
    return "attachment;" + ";".join(f"\r\n filename*{n}*={piece}" for n, piece in enumerate(pieces))


def _percent_pieces(value: str, size: int) -> list[str]:
    """A percent-encoded value cut into pieces of at most `size`, never inside a %XX nor inside a character."""
    pieces: list[str] = []
    start = 0
    while len(value) - start > size:
        end = start + size
        end -= 1 if value[end - 1] == "%" else 2 if value[end - 2] == "%" else 0
        while value[end] == "%" and value[end + 1] in "89AB":  # a UTF-8 continuation byte: stay with its lead
            end -= 3
        pieces.append(value[start:end])
        start = end
    pieces.append(value[start:])
    return pieces


@functools.lru_cache(maxsize=32)
def _line_slices(length: int) -> tuple[slice, ...]:
    return tuple(slice(i, i + 76) for i in range(0, length, 76))


def _base64_lines(content: bytes) -> bytes:
    """`content` in base64 lines of 76 characters with CRLF ends (RFC 2045 §6.8), one C call and one join."""
    if not content:
        return b""
    encoded = binascii.b2a_base64(content, newline=False)
    return b"\r\n".join(map(encoded.__getitem__, _line_slices(len(encoded)))) + b"\r\n"


def _multipart(subtype: str, parts: list[bytes]) -> tuple[str, bytes]:
    """(Content-Type value, body) of a multipart holding `parts` (each its headers, a blank line, content
    ended by CRLF). The boundary is "=_" and random hex, checked against the parts all the same."""
    while True:
        boundary = f"=_{subtype[0]}{os.urandom(12).hex()}"
        marker = boundary.encode("ascii")
        if not any(marker in part for part in parts):
            break
    delimiter = b"--" + marker
    body = b"".join([delimiter + b"\r\n" + part + b"\r\n" for part in parts]) + delimiter + b"--\r\n"
    return f'multipart/{subtype};\r\n boundary="{boundary}"', body
