"""The worker threads' wake-up (bridge/worker/context.py Nudge): one thread per nudge, none lost."""
from __future__ import annotations

import threading
import time

from bridge.worker.context import Nudge


def _waiters(nudge: Nudge, count: int, woke: list[str], timeout: float) -> list[threading.Thread]:
    def wait(name: str) -> None:
        if nudge.wait(timeout):
            woke.append(name)

    threads = [threading.Thread(target=wait, args=(f"t{i}",)) for i in range(count)]
    for t in threads:
        t.start()
    return threads


def _until_waiting(nudge: Nudge, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(nudge._ready._waiters) < count and time.monotonic() < deadline:  # noqa: SLF001 - test only
        time.sleep(0.005)
    assert len(nudge._ready._waiters) == count  # noqa: SLF001


def test_a_nudge_wakes_one_waiting_thread_not_all():
    nudge, woke = Nudge(), []
    threads = _waiters(nudge, 3, woke, timeout=1.0)
    _until_waiting(nudge, 3)
    nudge.set()
    for t in threads:
        t.join()
    assert len(woke) == 1  # the other two timed out without taking a nudge
    assert not nudge.is_set()


def test_a_nudge_given_while_no_thread_waits_is_kept_for_the_next():
    nudge = Nudge()
    nudge.set()
    started = time.monotonic()
    assert nudge.wait(5.0) is True
    assert time.monotonic() - started < 1.0
    assert nudge.wait(0.05) is False  # taken once, not twice


def test_clear_drops_a_nudge_and_wake_all_wakes_every_thread():
    nudge, woke = Nudge(), []
    nudge.set()
    nudge.clear()
    assert nudge.wait(0.05) is False
    threads = _waiters(nudge, 3, woke, timeout=5.0)
    _until_waiting(nudge, 3)
    started = time.monotonic()
    nudge.wake_all()
    for t in threads:
        t.join()
    assert len(woke) >= 1  # the first takes the flag ...
    assert time.monotonic() - started < 2.0  # ... and every one is awake well before its 5 s timeout
