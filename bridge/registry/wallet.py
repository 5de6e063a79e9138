"""Wallet offers (OpenID4VCI pre-authorised code flow) kept in the registry: offers, access tokens, nonces.

Tables `wallet_offers` and `wallet_nonces` (migration 0100_wallet_offers). Every step of the flow is a
row change plus an audit entry in one transaction, so every process and replica sees the same truth and
the trail says who did what:

- an offer is made for one credential and one credential configuration, by staff or by Moodle for the
  learner's own credential (`wallet.offer_created`); never for a revoked credential; a wallet fetches it
  (`wallet.offer_fetched`; a nonce request is not audited: anyone may ask for one, and it proves nothing
  until a key proof spends it);
- its pre-authorised code is redeemed once, with the transaction code, for an access token
  (`wallet.token_issued`); a replayed code, an expired offer, a wrong transaction code
  (`wallet.tx_code_wrong`) are refused and audited, and after `max_attempts` wrong codes the offer is
  locked for good (`wallet.offer_locked`);
- a nonce (c_nonce) is used once, within its lifetime;
- the access token obtains the one credential once (`wallet.credential_issued`).

No secret is stored: the offer token (the last part of credential_offer_uri) and the access token only as
SHA-256; the pre-authorised code is derived from the offer token (HMAC), so a copy of the tables cannot
rebuild it; the transaction code only as SHA-256 over the pre-authorised code and itself, so its few
digits cannot be tried against a copy of the tables either. Single use is a conditional UPDATE whose
row count decides, the same on SQLite and PostgreSQL.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from bridge.registry import audit, staff_access
from bridge.registry.models import Base, Credential, UTCDateTime, utcnow

if TYPE_CHECKING:
    from bridge.registry.db import Registry

TOKEN_BYTES = 32
MAIL_CHANNEL = "credential_mail"  # the offer rides in the credential's own mail; Moodle makes its code on request
NO_TX_CODE = ""  # tx_code_hash of a mailed offer whose code the learner has not asked Moodle for yet
TX_CODE_SCOPE = "wallet_tx_code"  # the per-address budget of wrong transaction codes (staff_access throttle)
OFFER_STATES = ("open", "redeemed", "issued", "locked")


class WalletOffer(Base):
    """One credential offer: open -> redeemed (token given) -> issued (credential given); or locked."""

    __tablename__ = "wallet_offers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id"))
    configuration: Mapped[str] = mapped_column(String(64))  # the credential configuration offered
    channel: Mapped[str] = mapped_column(String(16))  # where the offer went: moodle | email (the code: the other)
    offer_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the offer token
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the pre-authorised code
    tx_code_hash: Mapped[str] = mapped_column(String(64))  # SHA-256(pre-authorised code ":" transaction code)
    tx_code_failures: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="open")
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    access_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # SHA-256 of the access token
    access_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    redeemed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    issued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    holder_key: Mapped[str | None] = mapped_column(String(64))  # SHA-256 thumbprint of the holder's key (JWK)

    __table_args__ = (
        Index("ix_wallet_offers_credential", "credential_id"),
        Index("ix_wallet_offers_expires", "expires_at"),
    )


class WalletNonce(Base):
    """A c_nonce handed out by the nonce endpoint: good for one key proof, until it expires."""

    __tablename__ = "wallet_nonces"
    nonce_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class OfferRefused(Exception):
    """A step of the flow refused. `code` is the OAuth error (invalid_grant, invalid_token, ...), `reason`
    what the audit trail and the caller are told (never a secret)."""

    def __init__(self, code: str, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.code, self.reason, self.status = code, reason, status


class CredentialNotOfferable(Exception):
    """An offer cannot be made for this credential: `code` is not_found | revoked."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def pre_authorized_code(offer_token: str) -> str:
    """The pre-authorised code an offer token stands for (so only the token's holder can show the code)."""
    mac = hmac.new(offer_token.encode(), b"edc-oid4vci-pre-authorized-code-v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def tx_code_hash(code: str, tx_code: str) -> str:
    return _sha256(f"{code}:{tx_code}")


def mail_tx_code_hash(code_hash: str, tx_code: str) -> str:
    """A mailed offer's code is made later, when its pre-authorised code is known nowhere any more, so it is
    hashed over the code's SHA-256: a copy of the tables may then find the few digits, but without the
    pre-authorised code (only in the learner's mail) they redeem nothing."""
    return _sha256(f"mail:{code_hash}:{tx_code}")


def _presented_hash(row: "WalletOffer", code: str, tx_code: str) -> str:
    return mail_tx_code_hash(_sha256(code), tx_code) if row.channel == MAIL_CHANNEL else tx_code_hash(code, tx_code)


@dataclass(frozen=True)
class NewOffer:
    """What creating an offer hands back once; only hashes of its secrets stay in the registry."""

    offer_id: str
    offer_token: str
    pre_authorized_code: str
    tx_code: str
    expires_at: dt.datetime
    credential_id: str
    learner_email: str
    learner_lang: str
    title: dict


def _new_tx_code(length: int) -> str:
    return f"{secrets.randbelow(10 ** length):0{length}d}"


def create_offer(registry: "Registry", credential_id: str, configuration: str, channel: str, actor: str, *,
                 lifetime: dt.timedelta, tx_code_length: int, now: dt.datetime | None = None) -> NewOffer:
    """A new offer for `credential_id` (CredentialNotOfferable when unknown or revoked).

    A MAIL_CHANNEL offer gets no transaction code yet (`tx_code` is ""; `new_mail_tx_code` makes one when the
    learner asks Moodle), and replaces the credential's earlier mailed offers still open: only the newest
    mail's link works (a mail sent again after a failed attempt, or resent by staff).
    """
    now = now or utcnow()
    offer_token = secrets.token_urlsafe(TOKEN_BYTES)
    code = pre_authorized_code(offer_token)
    mailed = channel == MAIL_CHANNEL
    tx_code = NO_TX_CODE if mailed else _new_tx_code(tx_code_length)
    offer_id = str(uuid.uuid4())
    with registry.transaction() as db:
        cred = db.get(Credential, credential_id)
        if cred is None:
            raise CredentialNotOfferable("not_found", f"{credential_id} is not in the registry")
        if cred.status != "issued":
            raise CredentialNotOfferable("revoked", f"{credential_id} is revoked: a revoked credential is never "
                                                    "offered to a wallet")
        if mailed:
            _replace_mailed_offers(db, credential_id, offer_id)
        db.add(WalletOffer(id=offer_id, credential_id=credential_id, configuration=configuration, channel=channel,
                           offer_hash=_sha256(offer_token), code_hash=_sha256(code),
                           tx_code_hash=NO_TX_CODE if mailed else tx_code_hash(code, tx_code), tx_code_failures=0,
                           state="open", created_by=actor, created_at=now, expires_at=now + lifetime))
        audit.append(db, actor, "wallet.offer_created", credential_id,
                     {"offer": offer_id, "configuration": configuration, "channel": channel,
                      "expires_at": (now + lifetime).isoformat()})
        return NewOffer(offer_id, offer_token, code, tx_code, now + lifetime, credential_id, cred.learner_email,
                        cred.learner_lang, json.loads(cred.title))


def _replace_mailed_offers(db: Session, credential_id: str, new_offer: str) -> None:
    replaced = db.execute(select(WalletOffer.id).where(
        WalletOffer.credential_id == credential_id, WalletOffer.channel == MAIL_CHANNEL,
        WalletOffer.state == "open")).scalars().all()
    if replaced:
        db.execute(update(WalletOffer).where(WalletOffer.id.in_(replaced)).values(state="locked"))
        audit.append(db, "wallet", "wallet.offer_replaced", credential_id, {"offers": replaced, "by": new_offer})


@dataclass(frozen=True)
class MailTxCode:
    """A transaction code made for the credential's mailed offer, for Moodle to show its learner once."""

    tx_code: str
    expires_at: dt.datetime  # the offer's own end; the code lasts as long


def new_mail_tx_code(registry: "Registry", credential_id: str, actor: str, *, length: int,
                     now: dt.datetime | None = None) -> MailTxCode:
    """A fresh transaction code for the newest open mailed offer of the credential; it replaces any code
    made before (so only the one on the learner's screen works). Wrong codes already counted stay counted.
    OfferRefused('not_found', ..., 404) when no mailed offer is waiting (none sent, used, locked, expired)."""
    now = now or utcnow()
    tx_code = _new_tx_code(length)
    with registry.transaction() as db:
        row = db.execute(select(WalletOffer).where(
            WalletOffer.credential_id == credential_id, WalletOffer.channel == MAIL_CHANNEL,
            WalletOffer.state == "open", WalletOffer.expires_at > now)
            .order_by(WalletOffer.created_at.desc()).limit(1).with_for_update()).scalar_one_or_none()
        if row is None:
            raise OfferRefused("not_found", "no wallet offer from the credential's mail is waiting (none was sent, "
                                            "or it was used, locked or has expired): use Add to wallet instead", 404)
        row.tx_code_hash = mail_tx_code_hash(row.code_hash, tx_code)
        audit.append(db, actor, "wallet.tx_code_made", credential_id, {"offer": row.id, "channel": MAIL_CHANNEL})
        return MailTxCode(tx_code, row.expires_at)


def withdraw(registry: "Registry", offer_id: str, reason: str) -> None:
    """An offer whose transaction code could not be sent is locked at once (it would only wait to expire)."""
    with registry.transaction() as db:
        db.execute(update(WalletOffer).where(WalletOffer.id == offer_id).values(state="locked"))
        row = db.get(WalletOffer, offer_id)
        audit.append(db, "wallet", "wallet.offer_withdrawn", row.credential_id if row else offer_id,
                     {"offer": offer_id, "reason": reason})


def open_offer(registry: "Registry", offer_token: str, now: dt.datetime | None = None) -> WalletOffer:
    """The offer an offer token names, while it can still be redeemed (OfferRefused otherwise, audited)."""
    now = now or utcnow()
    with registry.reading() as db:
        row = db.execute(select(WalletOffer).where(WalletOffer.offer_hash == _sha256(offer_token))).scalar_one_or_none()
        if row is not None:
            db.expunge(row)
    if row is None:
        raise OfferRefused("not_found", "no such credential offer", 404)
    if row.state != "open" or row.expires_at <= now:
        audit_refused(registry, row, "offer_fetch", "the offer was already used, locked or has expired")
        raise OfferRefused("not_found", "this credential offer was already used or has expired", 404)
    with registry.transaction() as db:
        audit.append(db, "wallet", "wallet.offer_fetched", row.credential_id, {"offer": row.id})
    return row


def audit_refused(registry: "Registry", row: WalletOffer | None, step: str, reason: str,
                  client: str | None = None) -> None:
    """Record a refused step of the flow (which step, why, from where; never what was sent)."""
    with registry.transaction() as db:
        audit.append(db, "wallet", "wallet.refused", row.credential_id if row else "unknown-offer",
                     {"offer": row.id if row else None, "step": step, "reason": reason, "from": client})


@dataclass(frozen=True)
class AccessGrant:
    access_token: str
    expires_in: int
    offer_id: str


def redeem(registry: "Registry", code: str, tx_code: str | None, *, client: str, budget: staff_access.Budget,
           max_attempts: int, access_lifetime: dt.timedelta, now: dt.datetime | None = None) -> AccessGrant:
    """Trade a pre-authorised code and its transaction code for an access token, once.

    Refusals (OfferRefused, audited): unknown or replayed code, expired offer, revoked credential,
    missing or wrong transaction code (counted per offer, and per client address in the staff throttle's
    table; `max_attempts` wrong codes lock the offer), a client address over its budget.
    """
    now = now or utcnow()
    with registry.reading() as db:
        row = db.execute(select(WalletOffer).where(WalletOffer.code_hash == _sha256(code))).scalar_one_or_none()
        cred_status = db.get(Credential, row.credential_id).status if row is not None else None
        if row is not None:
            db.expunge(row)
    if row is None:
        audit_refused(registry, None, "token", "unknown pre-authorised code", client)
        raise OfferRefused("invalid_grant", "the pre-authorised code is not known here")
    if row.state in ("redeemed", "issued"):
        audit_refused(registry, row, "token", "replayed pre-authorised code", client)
        raise OfferRefused("invalid_grant", "the pre-authorised code was already used")
    if row.state == "locked":
        audit_refused(registry, row, "token", "offer locked", client)
        raise OfferRefused("invalid_grant", "this offer is locked after too many wrong transaction codes; ask for "
                                            "a new one")
    if row.expires_at <= now:
        audit_refused(registry, row, "token", "offer expired", client)
        raise OfferRefused("invalid_grant", "the offer has expired; ask for a new one")
    if cred_status != "issued":
        audit_refused(registry, row, "token", "credential revoked", client)
        raise OfferRefused("invalid_grant", "the credential was revoked")
    if not tx_code:
        audit_refused(registry, row, "token", "no transaction code", client)
        raise OfferRefused("invalid_request", "tx_code is required: the offer asks for a transaction code")
    if row.tx_code_hash == NO_TX_CODE:  # nothing to guess yet, so not counted
        audit_refused(registry, row, "token", "no transaction code made yet", client)
        raise OfferRefused("invalid_grant", "no transaction code was made for this offer yet: the learner finds it "
                                            "in Moodle, under My credentials")
    attempt = staff_access.try_secret(registry, _presented_hash(row, code, tx_code), row.tx_code_hash, client, "oid4vci",
                                      "/oid4vci/token", budget, scope=TX_CODE_SCOPE)
    if attempt.outcome == "throttled":
        audit_refused(registry, row, "token", "too many wrong transaction codes from this address", client)
        raise OfferRefused("slow_down", f"too many wrong transaction codes from this address; try again in "
                                        f"{attempt.retry_after} s", 429)
    if not attempt.ok:
        _count_wrong_code(registry, row, max_attempts, client)
        raise OfferRefused("invalid_grant", "the transaction code is wrong")
    access_token = secrets.token_urlsafe(TOKEN_BYTES)
    with registry.transaction() as db:
        done = db.execute(update(WalletOffer)
                          .where(WalletOffer.id == row.id, WalletOffer.state == "open")
                          .values(state="redeemed", redeemed_at=now, access_hash=_sha256(access_token),
                                  access_expires_at=now + access_lifetime))
        if done.rowcount != 1:  # another request redeemed it a moment ago
            audit.append(db, "wallet", "wallet.refused", row.credential_id,
                         {"offer": row.id, "step": "token", "reason": "replayed pre-authorised code", "from": client})
            raise OfferRefused("invalid_grant", "the pre-authorised code was already used")
        audit.append(db, "wallet", "wallet.token_issued", row.credential_id,
                     {"offer": row.id, "from": client, "expires_in": int(access_lifetime.total_seconds())})
    return AccessGrant(access_token, int(access_lifetime.total_seconds()), row.id)


def _count_wrong_code(registry: "Registry", row: WalletOffer, max_attempts: int, client: str) -> None:
    with registry.transaction() as db:
        db.execute(update(WalletOffer).where(WalletOffer.id == row.id)
                   .values(tx_code_failures=WalletOffer.tx_code_failures + 1))
        failures = db.execute(select(WalletOffer.tx_code_failures).where(WalletOffer.id == row.id)).scalar_one()
        audit.append(db, "wallet", "wallet.tx_code_wrong", row.credential_id,
                     {"offer": row.id, "from": client, "failures": failures, "max": max_attempts})
        if failures >= max_attempts:
            locked = db.execute(update(WalletOffer).where(WalletOffer.id == row.id, WalletOffer.state == "open")
                                .values(state="locked")).rowcount
            if locked:
                audit.append(db, "wallet", "wallet.offer_locked", row.credential_id,
                             {"offer": row.id, "failures": failures})


def new_nonce(registry: "Registry", lifetime: dt.timedelta, now: dt.datetime | None = None) -> str:
    """A fresh c_nonce; expired ones are dropped on the way (they prove nothing any more)."""
    now = now or utcnow()
    nonce = secrets.token_urlsafe(TOKEN_BYTES)
    with registry.transaction() as db:
        db.execute(delete(WalletNonce).where(WalletNonce.expires_at <= now))
        db.add(WalletNonce(nonce_hash=_sha256(nonce), expires_at=now + lifetime))
    return nonce


def use_nonce(db: Session, nonce: str, now: dt.datetime | None = None) -> bool:
    """Spend a c_nonce in the caller's transaction: True once per nonce, while it is fresh."""
    done = db.execute(delete(WalletNonce).where(WalletNonce.nonce_hash == _sha256(nonce),
                                                WalletNonce.expires_at > (now or utcnow())))
    return done.rowcount == 1


def authorised_offer(registry: "Registry", access_token: str, now: dt.datetime | None = None) -> WalletOffer:
    """The redeemed offer an access token opens (OfferRefused('invalid_token', ..., 401) otherwise)."""
    now = now or utcnow()
    with registry.reading() as db:
        row = db.execute(select(WalletOffer).where(WalletOffer.access_hash == _sha256(access_token))
                         ).scalar_one_or_none()
        if row is not None:
            db.expunge(row)
    if row is None:
        raise OfferRefused("invalid_token", "the access token is not known here", 401)
    if row.state == "issued":
        audit_refused(registry, row, "credential", "access token used again")
        raise OfferRefused("invalid_token", "the access token was already used for its credential", 401)
    if row.state != "redeemed" or row.access_expires_at is None or row.access_expires_at <= now:
        audit_refused(registry, row, "credential", "access token expired")
        raise OfferRefused("invalid_token", "the access token has expired", 401)
    return row


def record_issued(db: Session, offer: WalletOffer, holder_key: str, details: dict) -> bool:
    """Mark the offer's credential as handed out, in the caller's transaction; False if it already was."""
    done = db.execute(update(WalletOffer).where(WalletOffer.id == offer.id, WalletOffer.state == "redeemed")
                      .values(state="issued", issued_at=utcnow(), holder_key=holder_key))
    if done.rowcount != 1:
        return False
    audit.append(db, "wallet", "wallet.credential_issued", offer.credential_id,
                 {"offer": offer.id, "configuration": offer.configuration, "holder_key": holder_key, **details})
    return True

