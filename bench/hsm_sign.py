"""Raw PKCS#11 signing speed on SoftHSM: RSA-3072 and P-256, on 1 and 2 workers.

Usage: .venv/bin/python bench/hsm_sign.py [--seconds 3] [--module PATH]

Workers are processes (each loads the module and logs in by itself), which is how the sidecar scales.
For comparison it also measures two *threads* in one process, first through our module lock (what
SealKey does) and then through p11-kit's proxy module with a session per thread (p11-kit initialises
SoftHSM with locking on). A throw-away demo token is made in a temporary directory.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pkcs11 import Mechanism  # noqa: E402

from hsm import objects  # noqa: E402
from hsm.config import TokenConfig  # noqa: E402
from hsm.demo_token import create_demo_token  # noqa: E402
from hsm.signer import open_seal  # noqa: E402

P11KIT_PROXY = "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so"
TO_SIGN = {"rsa3072": bytes.fromhex("3031300d060960864801650304020105000420") + b"\x01" * 32,
           "ecp256": b"\x01" * 32}
MECHANISM = {"rsa3072": Mechanism.RSA_PKCS, "ecp256": Mechanism.ECDSA}


def _count_signs(config: TokenConfig, label: str, algorithm: str, seconds: float, start: float) -> int:
    """Sign as fast as possible through SealKey's locked path until ``seconds`` after ``start``."""
    seal = open_seal(config, label)
    while time.time() < start:
        time.sleep(0.001)
    n, end = 0, start + seconds
    while time.time() < end:
        seal._raw_sign(TO_SIGN[algorithm])
        n += 1
    return n


def _process_worker(args, queue) -> None:
    queue.put(_count_signs(*args))


def processes(config: TokenConfig, label: str, algorithm: str, workers: int, seconds: float) -> float:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    start = time.time() + 2.0  # time for every worker to import, load the module and log in
    procs = [ctx.Process(target=_process_worker, args=((config, label, algorithm, seconds, start), queue))
             for _ in range(workers)]
    for p in procs:
        p.start()
    total = sum(queue.get() for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


def threads_locked(config: TokenConfig, label: str, algorithm: str, workers: int, seconds: float) -> float:
    open_seal(config, label)  # log in before the clock starts
    counts: list[int] = []
    start = time.time() + 0.2
    ts = [threading.Thread(target=lambda: counts.append(_count_signs(config, label, algorithm, seconds, start)))
          for _ in range(workers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(counts) / seconds


def _p11kit_worker(args, queue) -> None:
    """Threads in one process, each with its own session, through p11-kit's proxy (locking enabled)."""
    import pkcs11

    conf, token_label, pin, label, algorithm, workers, seconds = args
    import os

    os.environ["SOFTHSM2_CONF"] = conf
    lib = pkcs11.lib(P11KIT_PROXY)
    token = lib.get_token(token_label=token_label)
    login = token.open(user_pin=pin)  # login is per token: the other sessions share it
    counts: list[int] = []
    start = time.time() + 0.5

    def run() -> None:
        session = token.open()
        key = objects.private_key(session, label)
        while time.time() < start:
            time.sleep(0.001)
        n, end = 0, start + seconds
        while time.time() < end:
            key.sign(TO_SIGN[algorithm], mechanism=MECHANISM[algorithm])
            n += 1
        counts.append(n)

    ts = [threading.Thread(target=run) for _ in range(workers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    login.close()
    queue.put(sum(counts) / seconds)


def threads_p11kit(config: TokenConfig, label: str, algorithm: str, workers: int, seconds: float) -> float | None:
    if not Path(P11KIT_PROXY).exists():
        return None
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    p = ctx.Process(target=_p11kit_worker, args=((config.softhsm_conf, config.token_label, config.pin, label,
                                                  algorithm, workers, seconds), queue))
    p.start()
    p.join()
    return queue.get() if p.exitcode == 0 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per cell")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for algorithm in ("rsa3072", "ecp256"):
            token = create_demo_token(Path(tmp) / algorithm, key_type=algorithm, token_label=f"bench-{algorithm}")
            label = token.seal_label
            rows.append((algorithm, "1 process", processes(token.config, label, algorithm, 1, args.seconds)))
            rows.append((algorithm, "2 processes", processes(token.config, label, algorithm, 2, args.seconds)))
            rows.append((algorithm, "2 threads, module lock", threads_locked(token.config, label, algorithm, 2,
                                                                            args.seconds)))
            rows.append((algorithm, "2 threads, p11-kit proxy", threads_p11kit(token.config, label, algorithm, 2,
                                                                              args.seconds)))
    print(f"{'key':<8} {'workers':<26} {'signs/s':>9}")
    for algorithm, workers, rate in rows:
        print(f"{algorithm:<8} {workers:<26} {rate:>9.0f}" if rate is not None else
              f"{algorithm:<8} {workers:<26} {'n/a':>9}")


if __name__ == "__main__":
    main()
