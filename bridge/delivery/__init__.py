"""Delivery channels: how a sealed credential (or the news of its revocation) reaches the learner.

The worker hands each channel one `DeliveryJob` and nothing else, so a channel never touches the
registry or the token: it gets bytes and addresses, and answers by returning (delivered) or by raising
`DeliveryError` saying whether trying again later could help.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

EventKind = Literal["issued", "revoked"]


class DeliveryError(Exception):
    """A delivery that did not happen; `retryable` tells the worker whether to schedule another try."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class SealedFile:
    """The same credential in a further format (a course that issues both): delivered beside `document`."""

    format: str  # bridge/edc/formats.py name
    filename: str
    media_type: str
    content: bytes

    def __repr__(self) -> str:
        return f"SealedFile({self.format} {self.filename})"


@dataclass(frozen=True)
class DeliveryJob:
    """Everything a channel needs to tell one learner about one credential."""

    credential_id: str  # urn:credential:<uuid>
    kind: EventKind  # "issued" (document attached) or "revoked" (a notice, reason given)
    learner_email: str
    learner_name: str  # as printed on the credential: "Ona Jonaitė"
    learner_lang: str  # "en" or "lt": the language of the message
    learner_moodle_id: int | None
    site_id: str
    course_id: int
    title: dict[str, str]  # multilingual credential title, {"en": ..., "lt": ...}
    issuer_name: str  # the awarding body, in the learner's language where known
    document: bytes = b""  # the sealed credential, byte-exact (empty for a revocation notice)
    filename: str = ""  # e.g. "credential-<uuid>.xml"
    media_type: str = "application/xml"
    format: str = "edc-xml"  # the document's format name (bridge/edc/formats.py), as Moodle records it
    files: tuple = ()  # SealedFile: the same credential in the course's other formats (one mail, each in Moodle)
    verify_url: str = ""  # public page where anyone can check the file
    view_url: str = ""  # where the learner reads it in plain words
    reason: str | None = None  # revocation reason (kind == "revoked")
    superseded_by: str | None = None  # the corrected credential that replaced a revoked one (kind == "revoked")
    attachments: tuple = ()  # more files (bridge.delivery.messages.Attachment), e.g. the PDF
    resend: int = 0  # how many times staff asked to send it again (0: the first sending, or its retries)
    extra: dict[str, str] = field(default_factory=dict)  # room for additive fields without breaking channels

    def __repr__(self) -> str:  # keep the document bytes and the learner's address out of logs
        return f"DeliveryJob({self.kind} {self.credential_id} site={self.site_id} course={self.course_id})"


class Channel(Protocol):
    """A delivery channel (email, moodle). `name` is the value stored in the deliveries table."""

    name: str

    def deliver(self, job: DeliveryJob) -> None: ...
