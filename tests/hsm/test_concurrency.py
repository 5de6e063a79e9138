"""Many workers sealing at once: no crash, no bad signature (python-pkcs11 + SoftHSM without our lock crash)."""
from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

from hsm.signer import SealProvider, open_seal


def _documents(n: int, tag: str) -> list[bytes]:
    return [hashlib.sha256(f"{tag} credential {i}".encode()).hexdigest().encode() for i in range(n)]


def test_2000_ecdsa_seals_from_4_workers_all_verify(ec_token):
    seal = open_seal(ec_token.config)
    provider = SealProvider(ec_token.config, recheck_seconds=0.01)
    documents = _documents(2000, "ec")

    def work(i: int) -> bytes:  # half through the shared SealKey, half through the provider
        return seal.sign(documents[i]) if i % 2 else provider.sign(documents[i])

    with ThreadPoolExecutor(max_workers=4) as pool:
        signatures = list(pool.map(work, range(len(documents))))
    public = seal.certificate.public_key()
    for document, signature in zip(documents, signatures):
        public.verify(signature, document, ec.ECDSA(hashes.SHA256()))  # raises on a bad signature
    assert len(set(signatures)) == len(documents)


def test_rsa_seals_from_4_workers_all_verify(rsa_token):
    seal = open_seal(rsa_token.config)
    documents = _documents(200, "rsa")
    with ThreadPoolExecutor(max_workers=4) as pool:
        signatures = list(pool.map(seal.sign, documents))
    public = seal.certificate.public_key()
    for document, signature in zip(documents, signatures):
        public.verify(signature, document, padding.PKCS1v15(), hashes.SHA256())
