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


def _child_signs(config, queue) -> None:
    seal = open_seal(config)
    queue.put([seal.sign(f"child {i}".encode()) for i in range(50)])


def test_forked_worker_processes_log_in_afresh_and_sign(ec_token):
    """Like a pre-forking server: the parent has a session open before the workers fork."""
    import multiprocessing as mp

    seal = open_seal(ec_token.config)
    seal.sign(b"parent")
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_child_signs, args=(ec_token.config, queue)) for _ in range(2)]
    for w in workers:
        w.start()
    results = [queue.get(timeout=60) for _ in workers]
    for w in workers:
        w.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0]
    public = seal.certificate.public_key()
    for signatures in results:
        for i, signature in enumerate(signatures):
            public.verify(signature, f"child {i}".encode(), ec.ECDSA(hashes.SHA256()))
    seal.certificate.public_key().verify(seal.sign(b"after"), b"after", ec.ECDSA(hashes.SHA256()))
