"""Into the learner's wallet: make an OpenID4VCI offer for a sealed credential, and make the credential the
wallet receives.

The offer travels by one channel and its transaction code by the other, so neither alone adds the
credential to a wallet: shown in Moodle (`channel` "moodle": the caller gets the offer, the learner gets
the code by mail), or mailed (`channel` "email": the learner gets the offer by mail, the caller gets the
code to show in Moodle). An offer whose mail cannot be handed to the mail server is withdrawn at once.

The wallet's copy is built from the registry's record of the credential: the event as received (the
learner, the completion, the grade), the course description and the credential's id and issue time.
Before anything is signed, that record is checked against the sealed credential itself (its learner,
title, id, ECTS and EQF level, as the format reads them): if the course description was changed in a way
the sealed credential does not show, no wallet copy is made and staff are told to re-issue it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from bridge.delivery import DeliveryError, DeliveryJob
from bridge.delivery.messages import Attachment, template_text
from bridge.edc import formats, model, oid4vci, status
from bridge.registry import documents, wallet
from bridge.registry.models import CourseSpecification, Credential, Issuance
from bridge.presentation.qr import qr_png, qr_svg
from bridge.worker.context import Conflict, Context, NotFound

log = logging.getLogger("edc.wallet")
NONCE_LIFETIME = dt.timedelta(minutes=5)
ACCESS_LIFETIME = dt.timedelta(minutes=5)
CHANNELS = ("moodle", "email")
OFFER_SCHEME = "openid-credential-offer://"
COMPARED = ("credential_id", "learner", "title", "ects", "eqf_level")  # what the record and the seal must agree on


class MailUnavailable(Exception):
    """The learner's half of the offer could not be handed to the mail server; the offer was withdrawn."""


@dataclass(frozen=True)
class OfRecord:
    """A sealed credential as the registry knows it: the model to build a wallet copy from, and its status."""

    credential: model.Credential
    status_url: str | None
    issuer_name: str


def issuer_url(ctx: Context) -> str:
    """The Credential Issuer Identifier: the sidecar's public URL (EDC_PUBLIC_URL)."""
    return ctx.settings.public_url


def _row_values(session, cred: Credential) -> tuple[dict, str]:
    issuance = session.get(Issuance, cred.issuance_id)
    spec_row = session.get(CourseSpecification, (cred.site_id, cred.course_id))
    if issuance is None or spec_row is None or not spec_row.valid:
        raise Conflict(f"{cred.id} cannot be offered: its course description is no longer stored complete",
                       code="record_incomplete")
    return json.loads(issuance.payload), spec_row.document


def credential_of_record(ctx: Context, credential_id: str) -> OfRecord:
    """The model of a sealed credential, rebuilt from the registry and checked against the sealed file."""
    with ctx.registry.reading() as session:
        cred = session.get(Credential, credential_id)
        if cred is None:
            raise NotFound(credential_id)
        if cred.status != "issued":
            raise Conflict(f"{credential_id} is revoked: a revoked credential is never offered to a wallet",
                           code="revoked")
        event, spec_document = _row_values(session, cred)
        sealed = documents.read_document(session, ctx.registry.dictionaries, cred)
        fmt, issued_at = formats.get(cred.format), cred.issued_at
    spec = ctx.course_spec(spec_document)
    completed = event.get("completed_at")
    awarded = dt.datetime.fromisoformat(completed.replace("Z", "+00:00")) if completed else None
    credential = model.Credential(spec, model.load_learner(event["learner"]), model.Issuance.new(
        awarded, now=issued_at, grade=event.get("grade"), valid_for=spec.valid_for, credential_id=credential_id))
    _same_as_sealed(credential, fmt.summarise(sealed))
    # The wallet's copy names the credential's status resource, whatever the sealed format: the file's own
    # (ELM v3, Open Badges), else the one the registry answers for every credential it holds (EDC v1 XML
    # has no field for it, so GET /status/<uuid> is the only place its revocation is public).
    status_url = fmt.status_url(sealed) or status.status_url(ctx.settings.public_url, credential_id)
    return OfRecord(credential, status_url, spec.issuer.name.get_in(spec.primary_language))


def _same_as_sealed(credential: model.Credential, sealed: dict[str, Any]) -> None:
    spec = credential.spec
    rebuilt = {"credential_id": credential.issuance.credential_id, "learner": credential.learner.full_name,
               "title": spec.title.get_in(spec.primary_language), "ects": float(spec.ects),
               "eqf_level": spec.eqf_level}
    differ = [name for name in COMPARED if sealed.get(name) != rebuilt[name]]
    if differ:
        raise Conflict(f"{credential.issuance.credential_id} cannot be offered: the registry's record no longer "
                       f"matches the sealed credential ({', '.join(differ)} differ; the course description was "
                       "changed after sealing). Re-issue it, then offer the new one.", code="record_changed")


def offer_link(offer_uri: str) -> str:
    """What the QR code and the mail's link carry: the offer by reference (its URI holds no code)."""
    return f"{OFFER_SCHEME}?credential_offer_uri={quote(offer_uri, safe='')}"


def make_offer(ctx: Context, credential_id: str, *, channel: str, configuration: str, actor: str) -> dict[str, Any]:
    """Create an offer and send the learner's half by mail; the answer holds the caller's half."""
    if channel not in CHANNELS:
        raise ValueError(channel)
    record = credential_of_record(ctx, credential_id)  # refuses revoked or changed credentials first
    settings = ctx.settings
    offer = wallet.create_offer(ctx.registry, credential_id, configuration, channel, actor,
                                lifetime=dt.timedelta(seconds=settings.wallet_offer_seconds),
                                tx_code_length=settings.wallet_tx_code_length)
    offer_uri = f"{issuer_url(ctx)}/oid4vci/offers/{offer.offer_token}"
    values = {"learner": record.credential.learner.full_name, "issuer": record.issuer_name,
              "title": offer.title.get(offer.learner_lang) or next(iter(offer.title.values()), credential_id),
              "expires_at": offer.expires_at.strftime("%Y-%m-%d %H:%M"),
              "tx_code": offer.tx_code, "offer_link": offer_link(offer_uri)}
    link = offer_link(offer_uri)
    qr = () if channel == "moodle" else (Attachment("wallet-offer.png", "image/png", qr_png(link)),)
    _mail(ctx, offer, "wallet_code" if channel == "moodle" else "wallet_offer", values, qr)
    answer: dict[str, Any] = {"tx_code_length": settings.wallet_tx_code_length,
                              "expires_at": offer.expires_at.isoformat().replace("+00:00", "Z"),
                              "configuration": configuration, "channel": channel}
    if channel == "moodle":
        answer["credential_offer_uri"] = link
        answer["credential_offer"] = credential_offer(ctx, offer.pre_authorized_code, configuration)
        answer["qr_svg"] = qr_svg(link)  # for Moodle to show as it is (the plugin draws no QR codes itself)
    else:
        answer["tx_code"] = offer.tx_code
    return answer


def mail_offer_wanted(ctx: Context, channel_name: str, job: DeliveryJob) -> bool:
    """The credential's mail carries an offer when EDC_WALLET_IN_MAIL is on, for a learner of Moodle (its
    My credentials shows the code) and a site whose Moodle channel is set up, on the first sending or a resend."""
    return (ctx.settings.wallet_in_mail and channel_name == "email" and job.kind == "issued"
            and job.learner_moodle_id is not None and "moodle" in ctx.channels)


def with_mail_offer(ctx: Context, job: DeliveryJob) -> DeliveryJob:
    """The credential mail's job with an "Add to wallet" offer: the link (`extra["wallet_offer_link"]`, the
    mail's paragraph) and its QR code (attached). The transaction code is not made here: Moodle makes it when
    the learner asks (new_mail_tx_code), so the mail alone adds nothing to a wallet. Any problem leaves the
    mail as it was, without the offer: the credential itself must never wait for it."""
    settings = ctx.settings
    try:
        offer = wallet.create_offer(ctx.registry, job.credential_id, oid4vci.SD_JWT_CONFIGURATION,
                                    wallet.MAIL_CHANNEL, "worker",
                                    lifetime=dt.timedelta(days=settings.wallet_mail_offer_days),
                                    tx_code_length=settings.wallet_tx_code_length)
    except Exception:  # noqa: BLE001 - see the docstring
        log.exception("no wallet offer in the mail of %s; sending it without", job.credential_id)
        return job
    link = offer_link(f"{issuer_url(ctx)}/oid4vci/offers/{offer.offer_token}")
    extra = {**job.extra, "wallet_offer_link": link,
             "wallet_offer_expires": offer.expires_at.strftime("%Y-%m-%d %H:%M")}
    qr = Attachment("wallet-offer.png", "image/png", qr_png(link))
    return dataclasses.replace(job, extra=extra, attachments=(*job.attachments, qr))


def mail_tx_code(ctx: Context, credential_id: str, actor: str) -> dict[str, Any]:
    """A fresh transaction code for the offer in the credential's mail, for Moodle to show the learner."""
    made = wallet.new_mail_tx_code(ctx.registry, credential_id, actor, length=ctx.settings.wallet_tx_code_length)
    return {"tx_code": made.tx_code, "tx_code_length": len(made.tx_code),
            "expires_at": made.expires_at.isoformat().replace("+00:00", "Z"), "channel": wallet.MAIL_CHANNEL}


def credential_offer(ctx: Context, code: str, configuration: str) -> dict[str, Any]:
    return oid4vci.credential_offer(issuer_url(ctx), configuration, code, ctx.settings.wallet_tx_code_length,
                                    "The code sent to you by the other channel (e-mail or Moodle)")


def _mail(ctx: Context, offer: wallet.NewOffer, kind: str, values: dict[str, str],
          attachments: tuple[Attachment, ...] = ()) -> None:
    channel = ctx.channels.get("email")
    if channel is None or not hasattr(channel, "send_notice"):
        wallet.withdraw(ctx.registry, offer.offer_id, "no mail channel (EDC_SMTP_URL) to send the learner's half")
        raise MailUnavailable("no mail channel is configured (EDC_SMTP_URL), and the learner's half of a wallet "
                              "offer goes by mail")
    subject, text = template_text(kind, offer.learner_lang, values)
    try:
        channel.send_notice(offer.learner_email, subject, text, attachments)
    except DeliveryError as exc:
        log.warning("wallet offer %s withdrawn: its mail was not accepted (%s)", offer.offer_id, exc)
        wallet.withdraw(ctx.registry, offer.offer_id, f"mail not accepted: {exc}")
        raise MailUnavailable(f"the mail to the learner was not accepted: {exc}") from None


def wallet_credential(ctx: Context, offer: wallet.WalletOffer, holder: oid4vci.ProvenKey) -> str:
    """Sign the offer's credential for the proven holder key and record it handed out, once.

    The nonce the proof answered is spent in the same transaction that records the issuance, so a
    proof can be used once, and a credential is only ever handed out with its audit entry.
    """
    record = credential_of_record(ctx, offer.credential_id)
    now = dt.datetime.now(dt.timezone.utc)
    issued = oid4vci.holder_credential(offer.configuration, record.credential, ctx.seals.current(),
                                       issuer=issuer_url(ctx), holder=holder, status_url=record.status_url, now=now,
                                       ob3_schema=ctx.checks.ob3_schema)
    with ctx.registry.transaction() as session:
        if not wallet.use_nonce(session, holder.nonce, now):
            raise wallet.OfferRefused("invalid_nonce", "the key proof's nonce is not one this issuer gave out, "
                                                       "was used already or has expired; get a new one")
        if not wallet.record_issued(session, offer, holder.thumbprint,
                                    {"status": record.status_url is not None}):
            raise wallet.OfferRefused("invalid_token", "the access token was already used for its credential", 401)
    return issued
