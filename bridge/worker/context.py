"""What the worker's parts share: the service context, the retry backoff, and the errors staff actions raise."""
from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from bridge.delivery import Channel
from bridge.edc import formats, model
from bridge.registry import Registry
from bridge.settings import Settings

MAX_BACKOFF_SECONDS = 3600.0


@dataclass
class Context:
    """What the worker and the API share: settings, registry, the seal, the schema and the channels."""

    settings: Settings
    registry: Registry
    seals: Any  # hsm.signer.SealProvider (or anything with .current())
    schema: Any = None  # bridge.edc.schema_check.EdcSchema | None
    shapes: Any = None  # bridge.edc.shacl_check.ElmShapes | None (EDC_SHACL_DIR)
    ob3_schema: Any = None  # bridge.edc.ob3_schema.Ob3Schema | None (EDC_OB3_SCHEMA)
    channels: dict[str, Channel] = field(default_factory=dict)
    metrics: Any = None  # bridge.metrics.Metrics
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    liveness: Any = None  # bridge.registry.liveness.Liveness, set by the Worker
    wake: "Nudge" = field(default_factory=lambda: Nudge())  # new work for the issuing threads
    deliveries_due: "Nudge" = field(default_factory=lambda: Nudge())  # ... for the delivery threads
    seal_level: Any = None  # bridge.edc.ltv.SealLevelSettings; None: the settings' (EDC_SEAL_LEVEL, EDC_TSA_*)
    revocation_source: Any = None  # bridge.edc.ltv.RevocationSource for B-LT; None: each certificate's CRL (ltv)
    _specs: dict = field(default_factory=dict, repr=False)  # parsed descriptions by their stored text

    @property
    def checks(self) -> formats.Checks:
        """The official checks every format takes its own from (XSD for EDC XML, shapes for ELM v3, 1EdTech's
        JSON Schema for Open Badges)."""
        return formats.Checks(schema=self.schema, shapes=self.shapes, ob3_schema=self.ob3_schema)

    def __post_init__(self) -> None:
        if self.seal_level is None:
            self.seal_level = self.settings.seal_level

    def course_spec(self, document: str) -> model.CourseSpec:
        """Validating a description costs ~10 ms; it changes rarely, so keep the parsed one per text."""
        spec = self._specs.get(document)
        if spec is None:
            spec = model.load_course_spec(json.loads(document))
            if len(self._specs) > 256:
                self._specs.clear()
            self._specs[document] = spec
        return spec


class Nudge:
    """Tells the worker threads that work may be waiting, waking one of them, not all (issue 18).

    A threading.Event woke every idle thread at each new event; all of them then opened a write
    transaction to claim work that one batch takes, and on SQLite each empty claim cost about a
    millisecond of CPU. Here `set` wakes one waiting thread, or, with none waiting, leaves the flag for
    the next thread that waits; a thread that claims a full batch sets it again for a peer. The loops
    keep their order (clear, look, wait), so a nudge given while a thread looks is never lost.
    `wake_all` is for stopping. Worker processes (EDC_WORKER_PROCESSES) share multiprocessing Events
    instead, which have the same methods but wake every waiter.
    """

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._flag = False

    def set(self) -> None:
        with self._ready:
            self._flag = True
            self._ready.notify()

    def wake_all(self) -> None:
        with self._ready:
            self._flag = True
            self._ready.notify_all()

    def clear(self) -> None:
        with self._ready:
            self._flag = False

    def is_set(self) -> bool:
        return self._flag

    def wait(self, timeout: float | None = None) -> bool:
        """Until nudged or `timeout` passed; True when a nudge was taken (the flag is cleared for others)."""
        with self._ready:
            if not self._flag:
                self._ready.wait(timeout)
            taken, self._flag = self._flag, False
            return taken


def backoff(attempts: int, base: float, ceiling: float = MAX_BACKOFF_SECONDS) -> dt.timedelta:
    return dt.timedelta(seconds=min(ceiling, base * 2 ** max(0, attempts - 1)))


class NotFound(LookupError):
    pass


class Conflict(ValueError):
    """The request does not fit the current state. `code` (where set) says which rule refused it, so a
    page can explain it in its own language without deciding the rule a second time."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class InvalidRequest(ValueError):
    """A request field at fault: `pointer` names it (JSON pointer), the message says what is wrong."""

    def __init__(self, pointer: str, message: str) -> None:
        self.pointer = pointer
        super().__init__(message)
