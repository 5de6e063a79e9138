"""Keeping stored credentials verifiable: scheduled jobs over the registry's sealed documents.

Two jobs, both run by the worker's scheduler (bridge/worker/service.py):

- `complete_pending`: credentials sealed at B-B because the TSA was down under EDC_TSA_POLICY=
  seal-then-stamp get their time-stamp (and B-LT/B-LTA values) once it answers again.
- `renew_archives`: at EDC_SEAL_LEVEL=B-LTA, a credential whose newest time-stamp's TSA certificate
  expires within EDC_ARCHIVE_RENEWAL_DAYS gets a new archive time-stamp over everything it carries,
  so it stays verifiable after that certificate (and the seal's) expired.

Both work on every format a credential is held in (the course's second format in credential_documents
too), and `renew_archives` first surveys credentials stored before their long-term facts were recorded
(migration 0135), so an older registry's credentials are renewed as well.

Either way only unsigned properties change: the version the learner was sent is kept byte-exact in
document_versions and still verifies; the credential row holds the newest, which a download gets.
The work (TSA, CRL fetching) is done outside any transaction; the new version is stored only if no
one else stored one meanwhile (the row's document_version is compared under a row lock), so two
replicas running the job at once add one version, not two.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Callable, Iterable

from sqlalchemy import select

from bridge.edc import formats, ltv
from bridge.edc.timestamps import TsaUnavailableError
from bridge.registry import audit, documents
from bridge.registry.models import Credential, utcnow
from bridge.worker.context import Context

log = logging.getLogger("edc.worker.upkeep")
BATCH = 20  # credentials per run and job: each costs a TSA round trip
SURVEY_BATCH = 200  # older credentials surveyed per run: parsing only, no TSA


def long_term_facts(ctx: Context, *held: bytes) -> tuple[bool, dt.datetime | None]:
    """(a time-stamp still pending, when the first of the newest time-stamps' TSA certificates expires)
    over the documents of one credential about to be stored (each format it is held in); at B-B
    nothing is parsed (nothing is pending, nothing expires)."""
    if ctx.seal_level.level == "B-B":
        return False, None
    return facts_of(held)


def facts_of(held: Iterable[bytes]) -> tuple[bool, dt.datetime | None]:
    """long_term_facts whatever the configured level: what the documents themselves say."""
    pending, expires = False, None
    for document in held:
        try:
            seal = formats.long_term(document)
        except ValueError:  # a format with no place for time-stamps (a VC-JWT): nothing to keep up
            continue
        pending = pending or seal.signature_timestamp() is None
        ends = ltv.proof_expires(seal)
        if ends is not None and (expires is None or ends < expires):
            expires = ends
    return pending, expires


def survey(ctx: Context, limit: int = SURVEY_BATCH) -> int:
    """Record the long-term facts of credentials stored before they were recorded; returns how many.

    Each is read once: a document that cannot be read is logged and marked surveyed all the same
    (with no expiry), so one bad row does not cost every run a parse.
    """
    with ctx.registry.reading() as session:
        due = session.execute(select(Credential.id).where(Credential.long_term_surveyed.is_(False))
                              .order_by(Credential.issued_at).limit(limit)).scalars().all()
    for credential_id in due:
        try:
            with ctx.registry.reading() as session:
                row = session.get(Credential, credential_id)
                held = [data for _, data in _held(ctx, session, row)]
            _, expires = facts_of(held)
        except (RuntimeError, ValueError) as exc:
            log.error("long-term facts of %s cannot be worked out: %s", credential_id, exc)
            expires = None
        with ctx.registry.transaction() as session:
            row = session.get(Credential, credential_id, with_for_update=True)
            if row is None or row.long_term_surveyed:
                continue
            row.proof_expires_at, row.long_term_surveyed = expires, True
    return len(due)


def complete_pending(ctx: Context, limit: int = BATCH) -> int:
    """Add the missing time-stamps of credentials sealed while the TSA was down; returns how many.

    A TSA still down ends the run (the next one tries again); the credentials stay as they are.
    """
    settings = ctx.seal_level
    if settings.level == "B-B" or settings.tsa is None:
        return 0
    with ctx.registry.reading() as session:
        due = session.execute(select(Credential.id, Credential.document_version)
                              .where(Credential.timestamp_pending.is_(True))
                              .order_by(Credential.issued_at).limit(limit)).all()

    def add_timestamp(seal: ltv.LongTermSeal) -> bytes | None:
        if seal.signature_timestamp() is not None:  # this format's copy has one already
            return None
        return ltv.complete(seal, settings, ctx.revocation_source, _anchors(ctx))

    return _rewrite_each(ctx, due, add_timestamp, "timestamp-added", "credential.timestamp_added")


def renew_archives(ctx: Context, now: dt.datetime | None = None, limit: int = BATCH) -> int:
    """Add an archive time-stamp to the credentials whose proof expires within the horizon; returns how many.

    Only at EDC_SEAL_LEVEL=B-LTA. Revoked credentials are left to expire. A renewal that would not
    outlive the proof it replaces (the TSA's own certificate expires as soon) is not stored, and the
    run stops there: asking the same TSA again cannot help until its certificate is renewed.
    """
    settings = ctx.seal_level
    if settings.level != "B-LTA" or settings.tsa is None:
        return 0
    now = now or utcnow()
    horizon = dt.timedelta(days=ctx.settings.archive_renewal_days)
    survey(ctx)
    with ctx.registry.reading() as session:
        due = session.execute(select(Credential.id, Credential.document_version)
                              .where(Credential.status == "issued", Credential.proof_expires_at.is_not(None),
                                     Credential.proof_expires_at <= now + horizon)
                              .order_by(Credential.proof_expires_at).limit(limit)).all()

    def add_archive_timestamp(seal: ltv.LongTermSeal) -> bytes | None:
        before = ltv.proof_expires(seal)
        if before is not None and before > now + horizon:  # this format's copy is not due yet
            return None
        renewed = ltv.renew(seal, settings.tsa, ctx.revocation_source, _anchors(ctx))
        after = ltv.proof_expires(seal)
        if before is not None and (after is None or after <= before):
            raise _NoProgress(f"the TSA's certificate expires on {after.date().isoformat() if after else '?'}, "
                              f"no later than the proof it would replace ({before.date().isoformat()})")
        return renewed

    return _rewrite_each(ctx, due, add_archive_timestamp, "archive-timestamp-added",
                         "credential.archive_timestamp_added")


class _NoProgress(Exception):
    """A renewal that would not extend the proof: nothing stored, the run stops."""


Change = Callable[[ltv.LongTermSeal], "bytes | None"]  # the new document, or None: this copy stays as it is


def _rewrite_each(ctx: Context, due: list, change: Change, because: str,
                  action: str) -> int:
    done = 0
    for credential_id, version in due:
        try:
            if _rewrite(ctx, credential_id, version, change, because, action):
                done += 1
        except (TsaUnavailableError, ltv.RevocationUnavailableError, _NoProgress) as exc:
            log.warning("%s for %s not done now (tried again at the next run): %s", because, credential_id, exc)
            break
        except (ValueError, RuntimeError) as exc:  # a document this job cannot extend: said once per run, skipped
            log.error("%s for %s is not possible: %s", because, credential_id, exc)
    return done


def _held(ctx: Context, session, row: Credential) -> list[tuple[str, bytes]]:
    """Every format the credential is held in, first its own: (format, current document)."""
    first = (row.format, documents.read_document(session, ctx.registry.dictionaries, row))
    return [first, *documents.alternates(session, ctx.registry.dictionaries, row)]


def _rewrite(ctx: Context, credential_id: str, version: int, change: Change, because: str, action: str) -> bool:
    """Read one credential's documents, change them outside a transaction, store them as a new version.

    Each format's copy is changed on its own (a copy that needs nothing, or whose format has no
    place for time-stamps, stays); the set of documents then moves on one version together.
    """
    with ctx.registry.reading() as session:
        row = session.get(Credential, credential_id)
        if row is None or row.document_version != version:
            return False
        first_format, held = row.format, _held(ctx, session, row)
    changed: dict[str, bytes] = {}
    for fmt, document in held:
        try:
            seal = formats.long_term(document)
        except ValueError:  # a VC-JWT: nothing to add
            continue
        new_document = change(seal)
        if new_document is not None:
            changed[fmt] = new_document
    if not changed:
        return False
    pending, expires = facts_of(changed.get(fmt, document) for fmt, document in held)
    with ctx.registry.transaction() as session:
        row = session.get(Credential, credential_id, with_for_update=True)
        if row is None or row.document_version != version:  # another worker stored one meanwhile
            return False
        for fmt, new_document in changed.items():  # the other formats first: kept under the current version
            if fmt != first_format:
                documents.replace_alternate(session, ctx.registry.dictionaries, row, fmt, new_document, because)
        if first_format in changed:
            documents.replace_document(session, ctx.registry.dictionaries, row, changed[first_format], because)
        else:
            documents.next_version(row)
        row.timestamp_pending, row.proof_expires_at = pending, expires
        audit.append(session, "worker", action, credential_id,
                     {"version": row.document_version, "sha256": row.sha256, "formats": sorted(changed),
                      "proof_expires_at": expires.isoformat() if expires else None})
    log.info("%s: %s (%s), now version %d", because, credential_id, ", ".join(sorted(changed)), version + 1)
    return True


def _anchors(ctx: Context) -> list:
    """Certificates that complete chains the seal does not carry in full: the token's CA chain."""
    try:
        return list(ctx.seals.current().chain)
    except Exception:  # noqa: BLE001 - the token may be away; the seal's own certificates then have to do
        return []
