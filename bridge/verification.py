"""The verdict anyone gets on a credential file: the verifier's, joined with this issuer's registry.

A file cannot know it was revoked after it was sealed; only the registry knows that. Every place
that shows a verdict (POST /api/v1/verify, the /verify page, a credential's own page and its PDF)
asks here, so the rule "revoked in the registry means not valid, and says why" is written once.
The verifier itself (bridge/edc) stays pure: this module, on the service floor, brings it the
app's trust configuration and the registry's word.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.edc.report import VerificationReport
from bridge.registry import documents
from bridge.registry.models import Credential, DocumentVersion, Revocation
from bridge.trusted_lists_source import lists_of


@dataclass(frozen=True)
class Standing:
    """What this issuer's registry says of a credential: known at all, its status, its revocation."""

    known: bool = False
    status: str | None = None
    superseded_by: str | None = None
    sha256_matches: bool | None = None  # the file is byte for byte one the registry holds (any version)
    revoked_at: dt.datetime | None = None
    revocation_reason: str | None = None

    @classmethod
    def of_revocation(cls, revocation: Revocation | None) -> "Standing":
        """The standing of a credential already read from the registry (its page), revoked or not."""
        if revocation is None:
            return cls(known=True, status="issued")
        return cls(known=True, status="revoked", revoked_at=revocation.revoked_at,
                   revocation_reason=revocation.reason)

    @property
    def revoked(self) -> bool:
        return self.status == "revoked" or self.revoked_at is not None

    def as_dict(self) -> dict[str, Any]:
        """The `registry` member of the API's answer (schemas/openapi.yaml)."""
        if not self.known:
            return {"known": False, "status": None}
        view: dict[str, Any] = {"known": True, "status": self.status, "superseded_by": self.superseded_by,
                                "sha256_matches": self.sha256_matches}
        if self.revoked_at is not None:
            view["revoked_at"] = self.revoked_at.isoformat().replace("+00:00", "Z")
            view["revocation_reason"] = self.revocation_reason
        return view


def standing_of(session: Session, credential_id: str | None, data: bytes | None = None) -> Standing:
    """The registry's word on `credential_id` (and whether `data` is a copy it holds)."""
    row = session.get(Credential, credential_id) if credential_id else None
    if row is None:
        return Standing()
    revocation = session.execute(select(Revocation).where(Revocation.credential_id == row.id)).scalar_one_or_none()
    return Standing(known=True, status=row.status, superseded_by=row.superseded_by,
                    sha256_matches=None if data is None else _held(session, row, hashlib.sha256(data).hexdigest()),
                    revoked_at=revocation.revoked_at if revocation is not None else None,
                    revocation_reason=revocation.reason if revocation is not None else None)


def _held(session: Session, row: Credential, digest: str) -> bool:
    """Whether a file with SHA-256 `digest` is the credential's current document or an earlier version of it
    (the learner's copy from before a time-stamp or an archive time-stamp was added)."""
    if digest == row.sha256:
        return True
    found = session.execute(select(DocumentVersion.id).where(DocumentVersion.credential_id == row.id,
                                                             DocumentVersion.sha256 == digest).limit(1))
    return found.first() is not None or documents.holds_digest(session, row.id, digest)


def join(report: VerificationReport, standing: Standing) -> None:
    """The one rule joining the file's verdict with the registry's: a revoked credential is not valid,
    and the verdict says who revoked it and why; one the registry does not know is said so."""
    if not standing.known:
        if report.credential_id:
            report.notes.append("this credential is not in this issuer's registry (issued elsewhere, or by "
                                "another installation)")
        return
    report.revoked = standing.revoked
    if standing.revoked:
        reason = standing.revocation_reason or "no reason recorded"
        report.problem(f"the issuer revoked this credential: {reason}")


def verify_file(ctx: Any, data: bytes) -> VerificationReport:
    """The verifier's verdict on `data` with the app's trust configuration (anchors, TSA anchors,
    schema, shapes, the OB3 schema, trusted lists: all loaded once by create_app), before the registry is asked."""
    from bridge.edc.verifier import verify_credential

    return verify_credential(data, trust_anchors=_anchors(ctx), schema=getattr(ctx, "schema", None),
                             shapes=getattr(ctx, "shapes", None), trusted_lists=lists_of(ctx),
                             tsa_anchors=getattr(ctx, "tsa_anchors", None), status=_status_lookup(ctx),
                             ob3_schema=getattr(ctx, "ob3_schema", None))


def _status_lookup(ctx: Any):
    """How this sidecar looks up a credential's status resource (its own from the registry, others' by HTTP)."""
    service = getattr(ctx, "status", None)
    return service.lookup() if service is not None else None


def verify_with_registry(ctx: Any, data: bytes, session: Session | None = None) -> tuple[VerificationReport, Standing]:
    """The whole verdict: the file's, joined with the registry's (`session`: one already open, else a
    read-only one of its own)."""
    report = verify_file(ctx, data)
    if session is not None:
        standing = standing_of(session, report.credential_id, data)
    else:
        with ctx.registry.reading() as own:
            standing = standing_of(own, report.credential_id, data)
    join(report, standing)
    return report, standing


def _anchors(ctx: Any) -> list:
    anchors = getattr(ctx, "trust_anchors", None)
    if anchors is None:  # a context built without create_app: load them once from the settings
        from bridge.edc import trust

        anchors = trust.load_anchors(ctx.settings.trust_anchors) if ctx.settings.trust_anchors else []
        ctx.trust_anchors = anchors
    return anchors
