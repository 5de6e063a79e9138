"""How a sidecar process starts without the cyclic garbage collector walking what it is loading.

Starting `serve` (or a worker process) imports Flask, SQLAlchemy and the registry's models, lxml and
the seal's XAdES and trust stack: a few hundred thousand objects, none of them garbage. Each time the
allocations pass the collector's threshold it walks them again; measured on the sidecar's imports
(issue 18), that walking is about 90 ms of 0.55 s, time a restarted sidecar stands still after a crash.
So a process collects nothing while it starts, then freezes what starting made (`gc.freeze`: the objects
move to a permanent generation that later full collections skip, since modules and classes live as
long as the process) and collects as usual from then on.
"""
from __future__ import annotations

import gc


def starting() -> None:
    """Collect nothing from here on: called first thing by a process that is about to load the sidecar."""
    gc.disable()


def started() -> None:
    """Freeze what starting made and collect as usual again: called once the process is ready to work.

    Until this is called the collector stays off, so nothing long-running may come before it (what
    runs in between is bounded: imports, the settings, the registry's migration, building the app)."""
    gc.freeze()
    gc.enable()
