"""CPU per learner email: `compose` + `render` (bridge/delivery/messages.py), against the stdlib way.

Usage: .venv/bin/python bench/mail_compose.py [-n 2000] [--rounds 5] [--pdf KB]

A typical job: an English 'issued' message (text and HTML alternatives) with a 22 KB sealed XML file,
optionally a PDF of --pdf KB after it. "ours" is the module's writer; "stdlib" is how the module built
the same message before (EmailMessage, Header.encode, set_content/add_alternative/add_attachment with
quoted-printable, as_bytes with policy SMTP), kept here only to compare. Times are CPU of this thread
(time.thread_time) per message, the median of --rounds rounds of -n messages each.
"""
from __future__ import annotations

import argparse
import email.policy
import email.utils
import statistics
import sys
import time
from email.header import Header
from email.message import EmailMessage
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bridge.delivery import DeliveryJob  # noqa: E402
from bridge.delivery import messages  # noqa: E402
from bridge.delivery.messages import Attachment, compose, render  # noqa: E402
from bridge.edc.inputs import header_text  # noqa: E402

MAIL_FROM = "Vilnius University credentials <credentials@edc.example.edu>"


def sealed_xml(size: int = 22_000) -> bytes:
    """Bytes shaped like a sealed EDC XML: markup, UTF-8 names, long base64 lines (certificates, digests)."""
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n<europassCredential xmlns="http://data.europa.eu/snb">\n'
            '  <credentialSubject><givenNames>Ona</givenNames><familyName>Jonaitė</familyName>'
            '</credentialSubject>\n').encode("utf-8")
    line = b"  <ds:X509Certificate>" + b"MIIF" + b"QWxhZGRpbiBvcGVuIHNlc2FtZQ" * 30 + b"</ds:X509Certificate>\n"
    body = head + line * (size // len(line) + 1)
    return body[:size - len(b"</europassCredential>\n")] + b"</europassCredential>\n"


def typical_job() -> DeliveryJob:
    return DeliveryJob(
        credential_id="urn:credential:6f1c2a9e-2b7d-4c4e-9a43-0d1f5e7a8b90", kind="issued",
        learner_email="ona.jonaite@student.example.edu", learner_name="Ona Jonaitė", learner_lang="en",
        learner_moodle_id=34, site_id="moodle-abc", course_id=12,
        title={"en": "Data literacy for public administration", "lt": "Duomenų raštingumas"},
        issuer_name="Vilnius University", document=sealed_xml(),
        filename="credential-6f1c2a9e-2b7d-4c4e-9a43-0d1f5e7a8b90.xml",
        verify_url="https://edc.example.edu/verify?id=6f1c2a9e",
        view_url="https://edc.example.edu/credentials/6f1c2a9e")


# --- the stdlib way, as messages.py built the message before (for comparison only) ---------------------

class _Prepared(str):
    """A header value folded by us, written as it is by the email package (its policy.fold hook)."""

    def __new__(cls, name: str, value: str) -> "_Prepared":
        header = super().__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy) -> str:
        return f"{self.name}: {str(self).replace(chr(10), policy.linesep)}{policy.linesep}"

    @property
    def defects(self) -> tuple:
        return ()


def _words(name: str, text: str) -> str:
    return Header(header_text(text), "utf-8", header_name=name).encode(linesep="\n")


def stdlib_compose(job: DeliveryJob, mail_from: str, attachments: tuple[Attachment, ...] = ()) -> EmailMessage:
    lang = messages.message_language(job.learner_lang)
    subject, paragraphs = messages._paragraphs(job.kind, lang, messages._values(job, lang))
    msg = EmailMessage()
    msg["Subject"] = _Prepared("Subject", _words("Subject", subject))
    msg["From"] = mail_from
    msg["To"] = _Prepared("To", f"{_words('To', job.learner_name)}\n <{job.learner_email}>")
    msg["Date"] = email.utils.formatdate(localtime=False)
    msg["Message-ID"] = messages.message_id(job.credential_id, job.kind, mail_from, job.resend)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-EDC-Credential-Id"] = job.credential_id
    msg.set_content("\n\n".join(paragraphs) + "\n", subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(messages._html(paragraphs, lang), subtype="html", charset="utf-8", cte="quoted-printable")
    for filename, media_type, content in ([(job.filename, job.media_type, job.document)]
                                          + [(a.filename, a.media_type, a.content) for a in attachments]):
        maintype, _, subtype = media_type.partition("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    msg["Content-Language"] = lang
    return msg


def stdlib_render(message: EmailMessage, recipient: str) -> bytes:
    """as_bytes with policy SMTP and the same header-block check as `render`."""
    data = message.as_bytes(policy=email.policy.SMTP)
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
    names = [line.split(":", 1)[0].strip().lower() for line in head.split("\r\n") if line and not line[0].isspace()]
    assert set(names) <= {k.lower() for k in message.keys()} and len(names) == len(set(names))
    to = [line for line in messages._unfolded(head) if line.lower().startswith("to:")]
    assert email.utils.getaddresses([to[0][3:]])[0][1] == recipient
    return data


# --- measuring -------------------------------------------------------------------------------------------

def measure(compose_fn: Callable, render_fn: Callable, job: DeliveryJob, attachments: tuple, n: int,
            rounds: int) -> tuple[float, float]:
    """Median (compose ms, render ms) per message over `rounds` rounds of `n` messages, thread CPU time."""
    for _ in range(min(n, 200)):  # warm caches (templates, regexes) as a running worker has them
        render_fn(compose_fn(job, MAIL_FROM, attachments), job.learner_email)
    composed, rendered = [], []
    for _ in range(rounds):
        c = r = 0.0
        for _ in range(n):
            t0 = time.thread_time()
            message = compose_fn(job, MAIL_FROM, attachments)
            t1 = time.thread_time()
            render_fn(message, job.learner_email)
            t2 = time.thread_time()
            c, r = c + t1 - t0, r + t2 - t1
        composed.append(c / n * 1e3)
        rendered.append(r / n * 1e3)
    return statistics.median(composed), statistics.median(rendered)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="messages per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pdf", type=int, default=0, metavar="KB", help="add a PDF of this many KB")
    parser.add_argument("--ours-only", action="store_true", help="skip the stdlib comparison")
    args = parser.parse_args()
    job = typical_job()
    attachments = (Attachment("credential-6f1c2a9e.pdf", "application/pdf", bytes(range(256)) * (args.pdf * 4)),
                   ) if args.pdf else ()
    size = len(render(compose(job, MAIL_FROM, attachments), job.learner_email))
    print(f"typical job: {len(job.document)} B sealed XML" + (f", {args.pdf} KB PDF" if args.pdf else "")
          + f"; message {size} B; {args.rounds} rounds of {args.n}")
    paths = [("ours", compose, render)] + ([] if args.ours_only else [("stdlib", stdlib_compose, stdlib_render)])
    for label, compose_fn, render_fn in paths:
        c, r = measure(compose_fn, render_fn, job, attachments, args.n, args.rounds)
        print(f"{label:7} compose {c:.3f} ms  render {r:.3f} ms  total {c + r:.3f} ms per message")


if __name__ == "__main__":
    main()
