"""The registry's tables (SQLAlchemy 2). The Alembic migrations in migrations/ create the same shape.

Statuses are plain strings checked by the code that writes them, so a new status is a code change,
not a schema migration.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        TypeDecorator, UniqueConstraint, false)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ISSUANCE_STATUSES = ("queued", "parked", "sealing", "issued", "delivered", "failed", "revoked")
DELIVERY_STATES = ("pending", "handed_over", "sent", "failed")  # handed_over: see bridge/worker/delivering.py


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the registry; use aware UTC times")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    pass


class Issuance(Base):
    """The inbox: one row per distinct event (site, course, learner, completion or request)."""

    __tablename__ = "issuances"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    event_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))  # course_completed | issue_requested | reissue
    site_id: Mapped[str] = mapped_column(String(255))
    course_id: Mapped[int] = mapped_column(BigInteger)
    learner_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # the event JSON as received (the learner inside)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    requested_by: Mapped[str | None] = mapped_column(String(255))
    supersedes: Mapped[str | None] = mapped_column(String(64))  # re-issue: the credential it replaces
    status: Mapped[str] = mapped_column(String(16), default="queued")
    parked_reason: Mapped[str | None] = mapped_column(Text)  # JSON list of problems
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    credential_id: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_issuances_status_next", "status", "next_attempt_at"),
        Index("ix_issuances_site_course", "site_id", "course_id"),
        Index("ix_issuances_learner", "learner_id"),
    )


class CourseSpecification(Base):
    __tablename__ = "course_specifications"
    site_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    course_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    valid: Mapped[bool] = mapped_column(Boolean)
    problems: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of {pointer, message}
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CompressionDictionary(Base):
    """A per-course zstd dictionary (the course's first sealed document, as raw content)."""

    __tablename__ = "compression_dictionaries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(String(255))
    course_id: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)  # zstd-compressed dictionary bytes
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("site_id", "course_id", name="uq_dictionary_course"),)


class Credential(Base):
    __tablename__ = "credentials"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # urn:credential:<uuid>
    issuance_id: Mapped[str] = mapped_column(ForeignKey("issuances.id"), unique=True)
    site_id: Mapped[str] = mapped_column(String(255))
    course_id: Mapped[int] = mapped_column(BigInteger)
    learner_id: Mapped[str] = mapped_column(String(64))
    learner_email: Mapped[str] = mapped_column(String(320))
    learner_name: Mapped[str] = mapped_column(String(512))
    learner_lang: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(Text)  # JSON multilingual title, for listings and messages
    issuer_name: Mapped[str] = mapped_column(Text)  # JSON multilingual awarding body name
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="issued")  # issued | revoked
    format: Mapped[str] = mapped_column(String(16), default="edc-xml")
    document: Mapped[bytes] = mapped_column(LargeBinary)  # compressed, see compression.py
    codec: Mapped[str] = mapped_column(String(32))
    dictionary_id: Mapped[int | None] = mapped_column(ForeignKey("compression_dictionaries.id"))
    size: Mapped[int] = mapped_column(Integer)  # bytes of the sealed document itself
    sha256: Mapped[str] = mapped_column(String(64))
    supersedes: Mapped[str | None] = mapped_column(String(64))
    superseded_by: Mapped[str | None] = mapped_column(String(64))
    # Long-term seals (migration 0130, bridge/worker/upkeep.py): which version of the sealed document this
    # row holds (older ones are in document_versions), whether its time-stamp is still to be added
    # (sealed with EDC_TSA_POLICY=seal-then-stamp while the TSA was down), and when the TSA certificate
    # of its newest time-stamp expires (the archive renewal comes before that).
    document_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    timestamp_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    proof_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Whether those two facts were worked out from the documents (migration 0135): rows older than the
    # migration are surveyed once by the upkeep job; the worker stores new rows surveyed. The facts cover
    # every format the credential is held in (credential_documents too): pending if any document is,
    # expiring when the first of them does.
    long_term_surveyed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=false())

    __table_args__ = (
        Index("ix_credentials_learner", "learner_id"),
        Index("ix_credentials_course", "site_id", "course_id"),
        Index("ix_credentials_status", "status"),
        Index("ix_credentials_issued_at", "issued_at"),
        Index("ix_credentials_proof_expires", "proof_expires_at"),
        Index("ix_credentials_long_term_surveyed", "long_term_surveyed"),
    )


class DocumentVersion(Base):
    """A sealed document a newer version replaced (migration 0130): adding a time-stamp or an archive
    time-stamp changes only unsigned properties, and the copy the learner was sent stays valid, so it
    is kept byte-exact (compressed with the course's dictionary, as credentials.document). The
    credential row holds the newest; a download gets that one."""

    __tablename__ = "document_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id"))
    format: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    codec: Mapped[str] = mapped_column(String(32))
    dictionary_id: Mapped[int | None] = mapped_column(ForeignKey("compression_dictionaries.id"))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    replaced_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    replaced_because: Mapped[str] = mapped_column(String(32))  # timestamp-added | archive-timestamp-added

    __table_args__ = (
        UniqueConstraint("credential_id", "format", "version", name="uq_document_version"),
        Index("ix_document_versions_sha256", "sha256"),
    )


class CredentialLink(Base):
    """The public links of one credential (migration 0050_links): the holder's token and the learner's
    choice to share (bridge/registry/links.py)."""

    __tablename__ = "credential_links"
    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id"), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    shared_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Delivery(Base):
    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id"))
    channel: Mapped[str] = mapped_column(String(16))  # email | moodle
    kind: Mapped[str] = mapped_column(String(16), default="issued")  # issued | revoked
    state: Mapped[str] = mapped_column(String(16), default="pending")  # see DELIVERY_STATES
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    resends: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # staff's "send again"
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(128))  # the sidecar process (bridge/registry/liveness.py)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("credential_id", "channel", "kind", name="uq_delivery_per_channel"),
        Index("ix_deliveries_state_next", "state", "next_attempt_at"),
    )


class CredentialDocument(Base):
    """A further serialization of a credential (migration 0120): a course that issues both formats has
    its credential's first format in `credentials` and each other one here, under the same id."""

    __tablename__ = "credential_documents"
    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id"), primary_key=True)
    format: Mapped[str] = mapped_column(String(16), primary_key=True)
    document: Mapped[bytes] = mapped_column(LargeBinary)  # compressed, as Credential.document
    codec: Mapped[str] = mapped_column(String(32))
    dictionary_id: Mapped[int | None] = mapped_column(ForeignKey("compression_dictionaries.id"))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))

    @property
    def id(self) -> str:
        """How messages name it (documents.read_document reads it as it reads a credential's own)."""
        return f"{self.credential_id} ({self.format})"


REVOCATION_CATEGORIES = ("superseded", "issued-in-error", "withdrawn", "unspecified")  # the status resource's words


class Revocation(Base):
    __tablename__ = "revocations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    revoked_by: Mapped[str] = mapped_column(String(255))
    revoked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    category: Mapped[str | None] = mapped_column(String(32))  # REVOCATION_CATEGORIES; None: unspecified (0120)


class Nonce(Base):
    """Intake nonces seen within the timestamp window; the primary key makes each single-use."""

    __tablename__ = "nonces"
    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class AuditEntry(Base):
    """Append-only, hash-chained. `at` and `details` are text so the hashed bytes survive any database."""

    __tablename__ = "audit_trail"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditPending(Base):
    """An audit entry committed with its change and not yet linked into the chain (PostgreSQL only; migration
    0151_audit_pending): bridge/registry/audit.py links it right after the commit, in `id` order."""

    __tablename__ = "audit_pending"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    details: Mapped[str] = mapped_column(Text)


class StaffSession(Base):
    """A staff login (migration 0070_staff_access). The browser holds only a random session id; the
    registry keeps its SHA-256, so logout, expiry or a role change ends the session for every copy of
    the cookie (see bridge/registry/staff_access.py). Named staff (issue 15) fill `actor` and `role`."""

    __tablename__ = "staff_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # hex SHA-256 of the cookie's id
    actor: Mapped[str] = mapped_column(String(255))  # who, as the audit trail names them ("staff": the shared token)
    role: Mapped[str] = mapped_column(String(255))  # roles held, comma-separated (bridge/staff/roles.py; 0150 widened it)
    proof: Mapped[str] = mapped_column(String(64))  # fingerprint of the credential the login presented
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))  # logout | expired | role_changed | ...

    __table_args__ = (
        Index("ix_staff_sessions_actor", "actor"),
        Index("ix_staff_sessions_expires", "expires_at"),
    )


class StaffAccount(Base):
    """A named staff member (migration 0150_staff_accounts): a local account (argon2id hash, TOTP secret) or
    one of the identity provider's people whose roles are assigned here. Disabled, never deleted: the audit
    trail keeps naming them."""

    __tablename__ = "staff_accounts"
    username: Mapped[str] = mapped_column(String(200), primary_key=True)  # the audit trail's actor
    kind: Mapped[str] = mapped_column(String(16))  # local | oidc
    roles: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))  # argon2id, local accounts only
    totp_secret: Mapped[str | None] = mapped_column(String(64))  # base32; needed in clear to check a code
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # a code of this step or earlier is refused
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A named bearer token kept in the registry (0150_staff_accounts): the SHA-256 of its secret only."""

    __tablename__ = "api_tokens"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    roles: Mapped[str] = mapped_column(String(255))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class OidcLogin(Base):
    """An OpenID Connect login under way (0150_staff_accounts): its state (hashed), nonce and PKCE verifier,
    kept server-side for a few minutes and taken exactly once by the callback."""

    __tablename__ = "oidc_logins"
    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AuthFailure(Base):
    """One failed attempt at a staff credential (login page or Bearer token), per client address; the
    throttle counts them across every process and replica sharing the registry. Never the secret."""

    __tablename__ = "auth_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(32))  # which credential was guessed at ("staff")
    client: Mapped[str] = mapped_column(String(64))  # the client address
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_auth_failures_client", "scope", "client", "at"),)


class SidecarProcess(Base):
    """A sidecar process that proves it is alive with a lock (bridge/registry/liveness.py)."""

    __tablename__ = "sidecar_processes"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)  # host:pid:nonce, the worker id's head
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SiteSecret(Base):
    """A secret the sidecar made for itself, shared by every replica of the registry
    (bridge/registry/site_secrets.py, migration 0160_site_secrets)."""

    __tablename__ = "site_secrets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)  # never logged or shown
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScheduledJob(Base):
    """A periodic job of the scheduler and the last period it ran for (bridge/registry/job_runs.py), so
    that across replicas each period runs once (migration 0150_scheduled_jobs)."""

    __tablename__ = "scheduled_jobs"
    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[int] = mapped_column(BigInteger)  # seconds since the epoch // the job's interval
    runs: Mapped[int] = mapped_column(BigInteger, default=0)
    last_run_by: Mapped[str | None] = mapped_column(String(128), nullable=True)  # the process (worker id)
    last_run_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Programme(Base):
    """A programme (stacked credential) description of a site (migration 0110_programmes), stored as sent
    and validated (bridge/edc/programmes.py); `programme_parts` lists the courses it is made of."""

    __tablename__ = "programmes"
    site_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    programme_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    valid: Mapped[bool] = mapped_column(Boolean)
    problems: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of {pointer, message}
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProgrammePart(Base):
    """Which programmes a course counts towards: the worker asks this when it stores a credential."""

    __tablename__ = "programme_parts"
    site_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    programme_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    course_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)

    __table_args__ = (Index("ix_programme_parts_course", "site_id", "course_id"),)


class ProgrammeCheck(Base):
    """A learner whose programmes are to be looked at again (a part was stored, or a programme changed).
    Written in the transaction that made the reason, deleted in the one that acted on it, so a crash
    neither loses nor doubles a programme credential (bridge/worker/programmes.py)."""

    __tablename__ = "programme_checks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(String(255))
    learner_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProgrammeAward(Base):
    """A programme credential a learner earned: at most one per programme and learner (the unique key is
    what makes it exactly once), the issuance that seals it, the parts it names, and staff review flags."""

    __tablename__ = "programme_awards"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(255))
    programme_id: Mapped[str] = mapped_column(String(64))
    learner_id: Mapped[str] = mapped_column(String(64))
    issuance_id: Mapped[str] = mapped_column(ForeignKey("issuances.id"), unique=True)
    parts: Mapped[str] = mapped_column(Text)  # JSON list of {credential_id, course}
    status: Mapped[str] = mapped_column(String(16), default="awarded")  # awarded | review | reviewed
    review_reasons: Mapped[str | None] = mapped_column(Text)  # JSON list of {credential_id, reason, by, at}
    reviewed_by: Mapped[str | None] = mapped_column(String(255))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("site_id", "programme_id", "learner_id", name="uq_programme_award"),
        Index("ix_programme_awards_learner", "site_id", "learner_id"),
        Index("ix_programme_awards_status", "status"),
    )


class BulkBatch(Base):
    """One uploaded cohort spreadsheet (migration 0140_bulk_batches, bridge/bulk/): what was checked, by
    whom, and — once staff chose to issue — when and with which choice. The file itself is not kept;
    its SHA-256 is, so the audit trail can name it."""

    __tablename__ = "bulk_batches"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(255))
    course_id: Mapped[int] = mapped_column(BigInteger)
    filename: Mapped[str] = mapped_column(String(255))
    file_kind: Mapped[str] = mapped_column(String(8))  # xlsx | csv
    sha256: Mapped[str] = mapped_column(String(64))
    rows_total: Mapped[int] = mapped_column(Integer)
    rows_valid: Mapped[int] = mapped_column(Integer)
    rows_known: Mapped[int] = mapped_column(Integer, default=0)  # valid rows whose completion was issued before
    status: Mapped[str] = mapped_column(String(16), default="checked")  # checked | issuing | issued
    uploaded_by: Mapped[str] = mapped_column(String(255))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_only: Mapped[bool | None] = mapped_column(Boolean)  # staff chose "issue the valid rows"
    issued_by: Mapped[str | None] = mapped_column(String(255))
    issued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_count: Mapped[int] = mapped_column(Integer, default=0)  # new issuances
    duplicate_count: Mapped[int] = mapped_column(Integer, default=0)  # completions already in the inbox

    __table_args__ = (Index("ix_bulk_batches_course", "site_id", "course_id"),)


class BulkRow(Base):
    """One data row of a batch: its cells as read (for the refused-rows file), the learner it stands for
    when valid, its problems, and after issuing the issuance it became (new or the earlier twin)."""

    __tablename__ = "bulk_rows"
    batch_id: Mapped[str] = mapped_column(ForeignKey("bulk_batches.id"), primary_key=True)
    row_number: Mapped[int] = mapped_column(Integer, primary_key=True)  # as the spreadsheet numbers it
    cells: Mapped[str] = mapped_column(Text)  # JSON {column key: text}
    event: Mapped[str | None] = mapped_column(Text)  # JSON of the intake event; None when refused
    problems: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of {column, code, detail}
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # valid | refused -> new | duplicate | refused | not_issued
    issuance_id: Mapped[str | None] = mapped_column(String(36))

    __table_args__ = (Index("ix_bulk_rows_issuance", "issuance_id"),)
