"""Storing and reading sealed documents with the course's compression dictionary (compression.py)."""
from __future__ import annotations

import hashlib
from typing import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bridge.registry import compression
from bridge.registry.compression import DictionaryCache
from bridge.registry.models import CompressionDictionary, Credential, CredentialDocument, DocumentVersion


def _course_dictionary(session: Session, site_id: str, course_id: int,
                       seed: Callable[[], bytes]) -> tuple[CompressionDictionary, bool]:
    """(the course's dictionary, made now?); made from `seed()` the first time the course issues."""
    query = select(CompressionDictionary).where(
        CompressionDictionary.site_id == site_id, CompressionDictionary.course_id == course_id)
    found = session.execute(query).scalar_one_or_none()
    if found is not None:
        return found, False
    try:
        with session.begin_nested():
            session.add(CompressionDictionary(site_id=site_id, course_id=course_id,
                                              data=compression.pack_dictionary(seed())))
            session.flush()
    except IntegrityError:  # another worker started the course's dictionary first: use theirs
        return session.execute(query).scalar_one(), False
    return session.execute(query).scalar_one(), True


_MADE_IN_THIS_SESSION = "edc.dictionaries_made"  # the worker's sessions live for one transaction


def pack_for_course(session: Session, cache: DictionaryCache, site_id: str, course_id: int,
                    document: bytes, seed: Callable[[], bytes] | None = None) -> tuple[compression.Packed, int, str]:
    """(packed, dictionary id, sha256 hex) for a new credential row of this course.

    `seed` makes the course's dictionary when it has none: what the course's credentials share, ideally
    without anyone's personal data (the worker passes a placeholder learner's document); by default the
    document itself.
    """
    dictionary_id = cache.course_dictionary_id(site_id, course_id)
    if dictionary_id is not None:
        prepared = cache.get(dictionary_id, lambda: _dictionary_bytes(session, dictionary_id))
    else:
        row, made_now = _course_dictionary(session, site_id, course_id, seed or (lambda: document))
        dictionary_id = row.id
        made_here = session.info.setdefault(_MADE_IN_THIS_SESSION, set())
        if made_now:
            made_here.add(dictionary_id)
        if dictionary_id in made_here:  # not committed yet: a rollback could hand its id to another course
            prepared = compression.prepare_dictionary(compression.unpack_dictionary(row.data))
        else:
            prepared = cache.get(dictionary_id, lambda: compression.unpack_dictionary(row.data))
            cache.remember_course(site_id, course_id, dictionary_id)
    packed = compression.pack(document, prepared)
    if compression.unpack(packed.codec, packed.data, prepared) != document:  # cheap insurance: byte-exact or nothing
        raise RuntimeError("compression round trip changed the document; refusing to store it")
    return packed, dictionary_id, hashlib.sha256(document).hexdigest()


def _dictionary_bytes(session: Session, dictionary_id: int) -> bytes:
    return compression.unpack_dictionary(session.get(CompressionDictionary, dictionary_id).data)


def read_document(session: Session, cache: DictionaryCache, credential: Credential) -> bytes:
    return _unpacked(session, cache, credential, f"stored document of {credential.id}")


def _unpacked(session: Session, cache: DictionaryCache, stored: Credential | DocumentVersion, what: str) -> bytes:
    """A stored row's document (codec, document, dictionary_id, sha256), byte-exact or RuntimeError."""
    prepared = None
    if stored.dictionary_id is not None:
        dictionary_id = stored.dictionary_id
        prepared = cache.get(dictionary_id, lambda: _dictionary_bytes(session, dictionary_id))
    data = compression.unpack(stored.codec, stored.document, prepared)
    if hashlib.sha256(data).hexdigest() != stored.sha256:
        raise RuntimeError(f"{what} does not match its SHA-256")
    return data


def replace_document(session: Session, cache: DictionaryCache, credential: Credential, new_document: bytes,
                     because: str) -> None:
    """Make `new_document` the credential's current sealed document, keeping the one it replaces.

    The old version goes to document_versions as stored (byte-exact, compressed as it was); the new one
    is packed with the course's dictionary. Adding a time-stamp or an archive time-stamp changes only
    unsigned properties, so the copy the learner already holds stays valid; a download gets the newest.
    """
    session.add(DocumentVersion(
        credential_id=credential.id, format=credential.format, version=credential.document_version,
        document=credential.document, codec=credential.codec, dictionary_id=credential.dictionary_id,
        size=credential.size, sha256=credential.sha256, replaced_because=because))
    packed, dictionary_id, digest = pack_for_course(session, cache, credential.site_id, credential.course_id,
                                                    new_document)
    credential.document, credential.codec, credential.dictionary_id = packed.data, packed.codec, dictionary_id
    credential.size, credential.sha256 = len(new_document), digest
    credential.document_version += 1


def replace_alternate(session: Session, cache: DictionaryCache, credential: Credential, fmt: str,
                      new_document: bytes, because: str) -> None:
    """As `replace_document`, for the credential's document in another format (credential_documents).

    The versions of a credential's documents are numbered together: the replaced copy is kept under
    the credential's current `document_version`, which the caller then moves on once for the whole set
    (replace_document does that for the first format; a caller changing only this one calls
    `next_version`).
    """
    row = session.get(CredentialDocument, (credential.id, fmt))
    if row is None:
        raise RuntimeError(f"{credential.id} is not held in {fmt}")
    session.add(DocumentVersion(
        credential_id=credential.id, format=fmt, version=credential.document_version, document=row.document,
        codec=row.codec, dictionary_id=row.dictionary_id, size=row.size, sha256=row.sha256,
        replaced_because=because))
    packed, dictionary_id, digest = pack_for_course(session, cache, credential.site_id, credential.course_id,
                                                    new_document)
    row.document, row.codec, row.dictionary_id = packed.data, packed.codec, dictionary_id
    row.size, row.sha256 = len(new_document), digest


def next_version(credential: Credential) -> None:
    """The set of the credential's documents changed without its first format's (see replace_alternate)."""
    credential.document_version += 1


def read_version(session: Session, cache: DictionaryCache, version: DocumentVersion) -> bytes:
    """An earlier version of a sealed document, byte-exact (checked against its SHA-256)."""
    return _unpacked(session, cache, version, f"version {version.version} of {version.credential_id}")


def held_versions(session: Session, credential_id: str) -> list[DocumentVersion]:
    """The earlier versions of a credential's documents, oldest first."""
    return list(session.execute(select(DocumentVersion).where(DocumentVersion.credential_id == credential_id)
                                .order_by(DocumentVersion.version)).scalars())


def alternates(session: Session, cache: DictionaryCache, credential: Credential) -> list[tuple[str, bytes]]:
    """The credential in the course's other formats (format, bytes), byte-exact; [] for a course issuing one."""
    return alternates_of(session, cache, [credential.id])[credential.id]


def alternates_of(session: Session, cache: DictionaryCache, credential_ids: list[str]) -> dict[str, list[tuple[str, bytes]]]:
    """`alternates` for several credentials in one read: {credential id: [(format, bytes)]}, [] for none."""
    found: dict[str, list[tuple[str, bytes]]] = {cid: [] for cid in credential_ids}
    rows = session.execute(select(CredentialDocument).where(CredentialDocument.credential_id.in_(credential_ids))
                           .order_by(CredentialDocument.credential_id, CredentialDocument.format)).scalars()
    for row in rows:
        found[row.credential_id].append((row.format, read_document(session, cache, row)))
    return found


def holds_digest(session: Session, credential_id: str, digest: str) -> bool:
    """Whether one of the credential's further serializations has SHA-256 `digest`."""
    found = session.execute(select(CredentialDocument.format).where(
        CredentialDocument.credential_id == credential_id, CredentialDocument.sha256 == digest).limit(1))
    return found.first() is not None
