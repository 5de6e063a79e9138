"""Storing and reading sealed documents with the course's compression dictionary (compression.py)."""
from __future__ import annotations

import hashlib
from typing import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bridge.registry import compression
from bridge.registry.compression import DictionaryCache
from bridge.registry.models import CompressionDictionary, Credential


def _course_dictionary(session: Session, site_id: str, course_id: int,
                       seed: Callable[[], bytes]) -> CompressionDictionary:
    """The course's dictionary, made from `seed()` the first time the course issues."""
    found = session.execute(select(CompressionDictionary).where(
        CompressionDictionary.site_id == site_id, CompressionDictionary.course_id == course_id)).scalar_one_or_none()
    if found is not None:
        return found
    try:
        with session.begin_nested():
            session.add(CompressionDictionary(site_id=site_id, course_id=course_id,
                                              data=compression.pack_dictionary(seed())))
            session.flush()
    except IntegrityError:  # another worker started the course's dictionary first: use theirs
        pass
    return session.execute(select(CompressionDictionary).where(
        CompressionDictionary.site_id == site_id, CompressionDictionary.course_id == course_id)).scalar_one()


def pack_for_course(session: Session, cache: DictionaryCache, site_id: str, course_id: int,
                    document: bytes, seed: Callable[[], bytes] | None = None) -> tuple[compression.Packed, int, str]:
    """(packed, dictionary id, sha256 hex) for a new credential row of this course.

    `seed` makes the course's dictionary when it has none: what the course's credentials share, ideally
    without anyone's personal data (the worker passes a placeholder learner's document); by default the
    document itself.
    """
    row = _course_dictionary(session, site_id, course_id, seed or (lambda: document))
    prepared = cache.get(row.id, compression.unpack_dictionary(row.data))
    packed = compression.pack(document, prepared)
    if compression.unpack(packed.codec, packed.data, prepared) != document:  # cheap insurance: byte-exact or nothing
        raise RuntimeError("compression round trip changed the document; refusing to store it")
    return packed, row.id, hashlib.sha256(document).hexdigest()


def read_document(session: Session, cache: DictionaryCache, credential: Credential) -> bytes:
    prepared = None
    if credential.dictionary_id is not None:
        row = session.get(CompressionDictionary, credential.dictionary_id)
        prepared = cache.get(row.id, compression.unpack_dictionary(row.data))
    data = compression.unpack(credential.codec, credential.document, prepared)
    if hashlib.sha256(data).hexdigest() != credential.sha256:
        raise RuntimeError(f"stored document of {credential.id} does not match its SHA-256")
    return data
