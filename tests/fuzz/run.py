"""Fuzz the verifier, with trust anchors and EU trusted lists configured, on long-term seals whose unsigned properties are mutated.

    .venv/bin/python -m tests.fuzz.run [-n 100000] [--workers 2] [--time-limit 10] [--memory-mb 1024]
                                       [--out var/fuzz] [--start 0]

Input number i is seed `i mod seeds` (tests/fuzz/corpus.py: XAdES and JAdES at every long-term level,
and the EU's signed samples) mutated by tests/fuzz/mutate.py with random.Random(i), so any input is
reproduced from its number (`--start i -n 1`). Each worker process verifies inputs one after another
under an address-space limit (`--memory-mb`, RLIMIT_AS); the parent gives each input `--time-limit`
seconds and kills and replaces a worker that overruns. An input fails when it raises, overruns, runs
out of memory, or is answered through the verifier's last-resort guard ("... could not be checked")
instead of in its own words. Failing inputs are written to `--out`; the summary gives the count, the
failures by kind, and the slowest input with its time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import random
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.fuzz import corpus as corpus_module  # noqa: E402
from tests.fuzz.mutate import mutate  # noqa: E402

MUTATION_LIMIT = 120.0  # seconds a worker may take to make an input (a mutator that hangs is a bug too)


def make_input(seeds: list[tuple[str, bytes]], number: int) -> tuple[str, bytes]:
    name, seed = seeds[number % len(seeds)]
    return name, mutate(seed, random.Random(number))


def verdict_of(data: bytes, anchors, now: dt.datetime, trusted_lists=None) -> str:
    """'ok', or why this input counts as a failure ('guard: ...')."""
    from bridge.edc.report import UNCHECKED
    from bridge.edc.verifier import verify_credential

    report = verify_credential(data, trust_anchors=anchors, trusted_lists=trusted_lists, now=now)
    report.as_dict()
    report.plain_words()
    guarded = [p for p in report.problems if UNCHECKED in p]
    return f"guard: {guarded[0]}" if guarded else "ok"


def resident_mb() -> float:
    """This process's resident set now (not its peak), from /proc."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _worker(conn, seeds, anchors_pem: bytes, trusted_lists, now: dt.datetime, memory_mb: int) -> None:
    from cryptography import x509

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    anchors = x509.load_pem_x509_certificates(anchors_pem)
    while True:
        number = conn.recv()
        if number is None:
            return
        try:
            _, data = make_input(seeds, number)
        except Exception as exc:  # noqa: BLE001 - a bug of the mutator, not of the verifier
            conn.send(("done", number, 0.0, f"mutator: {type(exc).__name__}: {exc}", resident_mb()))
            continue
        conn.send(("verifying", number))  # the clock for this input starts now (mutating is not timed)
        started = time.perf_counter()
        try:
            outcome = verdict_of(data, anchors, now, trusted_lists)
        except MemoryError:
            outcome = "memory: MemoryError"
        except BaseException as exc:  # noqa: BLE001 - exactly what the fuzzer is looking for
            outcome = f"raised: {type(exc).__name__}: {str(exc)[:200]}"
        conn.send(("done", number, time.perf_counter() - started, outcome, resident_mb()))


class Pool:
    """Worker processes fed one input number at a time, each watched by the clock."""

    def __init__(self, workers: int, seeds, corpus, memory_mb: int) -> None:
        # forked, so the verified trusted lists reach each worker as they are (nothing is pickled)
        self.args = (seeds, corpus.anchors_pem(), corpus.trusted_lists, corpus.now, memory_mb)
        self.ctx = mp.get_context("fork")
        self.slots = [self._start() for _ in range(workers)]

    def _start(self):
        parent, child = self.ctx.Pipe()
        process = self.ctx.Process(target=_worker, args=(child, *self.args), daemon=True)
        process.start()
        return {"process": process, "conn": parent, "number": None, "since": 0.0}

    def restart(self, i: int) -> None:
        self.slots[i]["process"].kill()
        self.slots[i]["process"].join()
        self.slots[i] = self._start()

    def close(self) -> None:
        for slot in self.slots:
            if slot["number"] is None:
                slot["conn"].send(None)
            else:
                slot["process"].kill()
        for slot in self.slots:
            slot["process"].join(5)


def run(count: int, start: int, workers: int, time_limit: float, memory_mb: int, out: Path) -> int:
    print("building the seeds (a loopback TSA, a TEST CA, TEST trusted lists granting it) ...", flush=True)
    corpus = corpus_module.build()
    seeds = sorted(corpus.seeds.items())
    print(f"seeds: {', '.join(name for name, _ in seeds)}; {count} inputs from number {start}; {workers} workers, "
          f"{time_limit:g} s and {memory_mb} MB per input", flush=True)
    pool = Pool(workers, seeds, corpus, memory_mb)
    pending = iter(range(start, start + count))
    failures: dict[str, list[int]] = {}
    done, slowest, total_time, largest_resident = 0, (0.0, None), 0.0, 0.0
    began = time.monotonic()

    def feed(i: int) -> None:
        number = next(pending, None)
        pool.slots[i]["number"] = number
        pool.slots[i]["since"] = time.monotonic()
        pool.slots[i]["verifying"] = False
        if number is not None:
            pool.slots[i]["conn"].send(number)

    def fail(kind: str, number: int, detail: str = "") -> None:
        failures.setdefault(kind, []).append(number)
        out.mkdir(parents=True, exist_ok=True)
        try:
            name, data = make_input(seeds, number)
        except Exception:  # noqa: BLE001 - the mutator's own failure is reported by its kind
            return
        (out / f"{number}-{name}.input").write_bytes(data)
        (out / f"{number}-{name}.why").write_text((detail or kind) + "\n", encoding="utf-8")

    for i in range(workers):
        feed(i)
    while any(slot["number"] is not None for slot in pool.slots):
        ready = mp.connection.wait([s["conn"] for s in pool.slots if s["number"] is not None], timeout=0.2)
        for i, slot in enumerate(pool.slots):
            if slot["number"] is None:
                continue
            if slot["conn"] in ready:
                try:
                    message = slot["conn"].recv()
                    if message[0] == "verifying":
                        slot["since"] = time.monotonic()
                        slot["verifying"] = True
                        continue
                    _, number, elapsed, outcome, resident = message
                    largest_resident = max(largest_resident, resident)
                    if resident > memory_mb / 3:  # what earlier huge inputs left behind: start afresh
                        pool.restart(i)
                except EOFError:  # the worker died (its memory limit, a crash in C)
                    number, elapsed, outcome = slot["number"], time.monotonic() - slot["since"], "died"
                    fail("died", number)
                    pool.restart(i)
                else:
                    if outcome != "ok":
                        fail(outcome.split(":", 1)[0], number, outcome)
                        if outcome.startswith(("raised", "memory", "mutator")):
                            print(f"  input {number}: {outcome}", flush=True)
                done += 1
                total_time += elapsed
                if elapsed > slowest[0]:
                    slowest = (elapsed, number)
                feed(i)
            elif time.monotonic() - slot["since"] > (time_limit if slot.get("verifying") else MUTATION_LIMIT):
                number = slot["number"]
                fail("timeout", number)
                done += 1
                slowest = max(slowest, (time.monotonic() - slot["since"], number))
                pool.restart(i)
                feed(i)
        if done and done % 5000 == 0:
            print(f"  {done} inputs, {time.monotonic() - began:.0f} s", flush=True)
    pool.close()
    wall = time.monotonic() - began
    print(f"inputs verified: {done} in {wall:.0f} s ({total_time / max(done, 1) * 1000:.1f} ms each on average)")
    if slowest[1] is not None:
        name, _ = make_input(seeds, slowest[1])
        print(f"slowest input: number {slowest[1]} ({name}), {slowest[0] * 1000:.0f} ms")
    print(f"largest resident set of a worker after an input: {largest_resident:.0f} MB "
          f"(workers are replaced above {memory_mb / 3:.0f} MB; limit {memory_mb} MB of address space)")
    for kind, numbers in sorted(failures.items()):
        print(f"FAILED ({kind}): {len(numbers)} inputs, e.g. {numbers[:10]}")
    if not failures:
        print("no input raised, overran its time or memory, or reached the verifier's last-resort guard")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--count", type=int, default=100_000)
    parser.add_argument("--start", type=int, default=0, help="number of the first input")
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2)))
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per input")
    parser.add_argument("--memory-mb", type=int, default=1536, help="address space per worker process")
    parser.add_argument("--out", type=Path, default=REPO / "var" / "fuzz", help="where failing inputs go")
    args = parser.parse_args(argv)
    return run(args.count, args.start, args.workers, args.time_limit, args.memory_mb, args.out)


if __name__ == "__main__":
    sys.exit(main())
