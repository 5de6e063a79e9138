"""How sealed documents are packed in the registry: byte-exact, and small.

A seal covers the exact bytes, so packing must be lossless. Credentials of one course share almost
everything (the specification, outcomes, awarding body, logos); only the learner, ids, dates and the
signature differ. So each course gets a zstd *raw-content dictionary* — made by the worker from the
course's document for a placeholder learner plus a seal's `<proof>` skeleton, so it holds no one's
personal data — and every credential is compressed against it: what remains is mostly the signature.
Codecs are named in the row, so an older row stays readable whatever the current default is.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import zstandard

LEVEL = 19  # for a course dictionary and lone documents (once per course: size matters more than time)
DICT_LEVEL = 12  # against a dictionary: as small as 19 here (the rest is the signature), 20x faster
PLAIN = "zstd"  # no dictionary
WITH_DICTIONARY = "zstd-dict"  # raw-content dictionary, id in the row


@dataclass(frozen=True)
class Packed:
    codec: str
    data: bytes


class DictionaryCache:
    """Prepared dictionaries by id, and which id each course uses.

    A dictionary never changes once stored, so it is read, decompressed and prepared once per process
    (preparing costs milliseconds; reading and decompressing it on every credential cost more than
    compressing the credential itself).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._dicts: dict[int, zstandard.ZstdCompressionDict] = {}
        self._course_ids: dict[tuple[str, int], int] = {}

    def course_dictionary_id(self, site_id: str, course_id: int) -> int | None:
        return self._course_ids.get((site_id, course_id))

    def remember_course(self, site_id: str, course_id: int, dictionary_id: int) -> None:
        self._course_ids[(site_id, course_id)] = dictionary_id

    def get(self, dictionary_id: int, load_raw: Callable[[], bytes]) -> zstandard.ZstdCompressionDict:
        """The prepared dictionary; `load_raw()` (a registry read) runs only the first time."""
        with self._lock:
            prepared = self._dicts.get(dictionary_id)
        if prepared is not None:
            return prepared
        raw = load_raw()
        with self._lock:
            prepared = self._dicts.get(dictionary_id)
            if prepared is None:
                prepared = self._dicts[dictionary_id] = prepare_dictionary(raw)
            return prepared


def prepare_dictionary(raw: bytes) -> zstandard.ZstdCompressionDict:
    prepared = zstandard.ZstdCompressionDict(raw, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    prepared.precompute_compress(level=DICT_LEVEL)
    return prepared


def pack(document: bytes, dictionary: zstandard.ZstdCompressionDict | None = None) -> Packed:
    if dictionary is None:
        return Packed(PLAIN, zstandard.ZstdCompressor(level=LEVEL).compress(document))
    return Packed(WITH_DICTIONARY, zstandard.ZstdCompressor(dict_data=dictionary).compress(document))


def unpack(codec: str, data: bytes, dictionary: zstandard.ZstdCompressionDict | None = None) -> bytes:
    if codec == PLAIN:
        return zstandard.ZstdDecompressor().decompress(data)
    if codec == WITH_DICTIONARY:
        if dictionary is None:
            raise ValueError("this document was packed with a course dictionary, which was not given")
        return zstandard.ZstdDecompressor(dict_data=dictionary).decompress(data)
    raise ValueError(f"unknown registry codec {codec!r}")


def pack_dictionary(raw: bytes) -> bytes:
    """The dictionary itself is stored compressed too (it is one whole document)."""
    return zstandard.ZstdCompressor(level=LEVEL).compress(raw)


def unpack_dictionary(stored: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompress(stored)
