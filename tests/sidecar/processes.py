"""What the sidecar's process tests ask the kernel about the processes `serve` starts (Linux /proc)."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

PROC = Path("/proc")


def children(pid: int) -> list[int]:
    """The processes `pid` started, from the kernel's own list per thread (fast enough to poll every few ms)."""
    found: list[int] = []
    for task in (PROC / str(pid) / "task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def running(pid: int) -> bool:
    """Running, not a zombie left for a parent that is gone."""
    try:
        state = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def command_line(pid: int) -> bytes:
    """Its command line (NUL-separated); empty once it is gone or exiting."""
    try:
        return (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    """Whether `condition` came true within `seconds` (asked every 50 ms, and once more at the end)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def all_gone(pids: Iterable[int]) -> Callable[[], bool]:
    """The condition that none of `pids` is running."""
    pids = list(pids)
    return lambda: not any(running(pid) for pid in pids)
