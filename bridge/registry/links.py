"""A credential's public links: the holder's unguessable token, the learner's choice to share, the URLs.

Two links are made from one token (table `credential_links`, made with the credential): the page that
shows the credential in plain words (`/credentials/<id>?t=`) and the verification of that very
credential (`/verify/<id>?t=`), which the mail, the PDF's QR code, the page and Moodle's "Verify" open.
Who holds the link (the learner, or whoever they gave it to) sees both; anyone else only when the
learner shared the credential. The token is compared in constant time and never logged by us; the
pages send `Referrer-Policy: no-referrer` so it does not leak to other sites.

Kept in the registry, below the web layer: the worker makes the link when it stores a credential and
puts it in the mail, and the pages read it; neither owns the table.
"""
from __future__ import annotations

import hmac
import secrets
from urllib.parse import quote

from sqlalchemy.orm import Session

from bridge.registry import audit
from bridge.registry.models import CredentialLink, utcnow


def new_link(credential_id: str) -> CredentialLink:
    """A new credential's link row (the worker adds it in the transaction that stores the credential)."""
    return CredentialLink(credential_id=credential_id, token=secrets.token_urlsafe(24), shared=False)


def link_for(session: Session, credential_id: str) -> CredentialLink:
    """The credential's link row, made on first use (credentials stored before links existed)."""
    link = session.get(CredentialLink, credential_id)
    if link is None:
        link = new_link(credential_id)
        session.add(link)
        session.flush()
    return link


def holds_link(link: CredentialLink | None, token: str) -> bool:
    """Whether `token` is the credential's own (constant-time)."""
    return bool(link is not None and token and hmac.compare_digest(token.encode(), link.token.encode()))


def set_sharing(session: Session, credential_id: str, shared: bool, actor: str) -> None:
    """Record the learner's choice to show the credential to anyone who knows the id (and audit it)."""
    link = link_for(session, credential_id)
    if link.shared != shared:
        link.shared = shared
        link.shared_changed_at = utcnow()
        audit.append(session, actor, "credential.sharing", credential_id, {"shared": shared})


def _url(base_url: str, path: str, credential_id: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/{path}/{quote(credential_id, safe=':')}?t={token}"


def page_url(session: Session, credential_id: str, base_url: str) -> str:
    """The credential's page, for its holder (the mail's "view" link)."""
    return _url(base_url, "credentials", credential_id, link_for(session, credential_id).token)


def verify_url(session: Session, credential_id: str, base_url: str) -> str:
    """The verification of this very credential, for its holder and whoever they give it to (the mail,
    the PDF's QR code, the page and Moodle's "Verify")."""
    return _url(base_url, "verify", credential_id, link_for(session, credential_id).token)


def holder_urls(session: Session, credential_id: str, base_url: str) -> tuple[str, str]:
    """(page_url, verify_url) from one read of the link row: what the worker puts in every delivery."""
    return holder_urls_of(credential_id, link_for(session, credential_id).token, base_url)


def holder_urls_of(credential_id: str, token: str, base_url: str) -> tuple[str, str]:
    """(page_url, verify_url) of a link token already read (the worker reads a batch's at once)."""
    return _url(base_url, "credentials", credential_id, token), _url(base_url, "verify", credential_id, token)
