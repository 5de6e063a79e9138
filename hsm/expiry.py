"""Warnings before the active seal certificate expires: 60, 30 and 7 days ahead, then "expired".

``expiry_warnings`` is a pure function (easy to test with any date); ``add_expiry_job`` schedules it on
the sidecar's APScheduler and calls the sidecar's ``notify`` once per certificate and threshold — the
sidecar decides where a warning goes (log, health detail, mail to the security contact).
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509

from hsm.objects import name_text

log = logging.getLogger("edc.hsm.expiry")

THRESHOLDS_DAYS = (60, 30, 7)


@dataclass(frozen=True)
class ExpiryWarning:
    threshold_days: int  # 60, 30, 7, or 0 for "has expired"
    days_left: int
    not_after: dt.datetime
    serial_number: int
    subject: str
    message: str

    @property
    def level(self) -> str:
        return {60: "notice", 30: "warning", 7: "critical"}.get(self.threshold_days, "expired")


def expiry_warnings(cert: x509.Certificate, now: dt.datetime) -> list[ExpiryWarning]:
    """The single most urgent warning due for ``cert`` at ``now`` (an empty list when none is due)."""
    not_after = cert.not_valid_after_utc
    left = not_after - now
    days_left = left.days  # whole days, rounded down
    subject = name_text(cert.subject)
    if left <= dt.timedelta(0):
        return [ExpiryWarning(0, days_left, not_after, cert.serial_number, subject,
                              f"the seal certificate {subject} EXPIRED on {not_after:%Y-%m-%d %H:%M} UTC: "
                              "credentials sealed now will not be trusted; activate a renewed seal")]
    for threshold in sorted(THRESHOLDS_DAYS):
        if left <= dt.timedelta(days=threshold):
            return [ExpiryWarning(threshold, days_left, not_after, cert.serial_number, subject,
                                  f"the seal certificate {subject} expires on {not_after:%Y-%m-%d} "
                                  f"({days_left} days left, within {threshold} days): start the renewal "
                                  "(edc-hsm keygen, csr, import-cert, activate)")]
    return []


def make_expiry_check(get_certificate: Callable[[], x509.Certificate], notify: Callable[[ExpiryWarning], None],
                      *, clock: Callable[[], dt.datetime] | None = None) -> Callable[[], list[ExpiryWarning]]:
    """A check that logs every due warning and calls ``notify`` only once per (certificate, threshold)."""
    clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
    sent: set[tuple[int, int]] = set()
    lock = threading.Lock()

    def check() -> list[ExpiryWarning]:
        warnings = expiry_warnings(get_certificate(), clock())
        for warning in warnings:
            log.warning("%s", warning.message)
            with lock:
                key = (warning.serial_number, warning.threshold_days)
                if key in sent:
                    continue
                sent.add(key)
            notify(warning)
        return warnings

    return check


def add_expiry_job(scheduler, get_certificate: Callable[[], x509.Certificate],
                   notify: Callable[[ExpiryWarning], None], *, hours: float = 12,
                   job_id: str = "seal-expiry-check"):
    """Add the check to an APScheduler scheduler (runs now, then every ``hours``); returns the job."""
    check = make_expiry_check(get_certificate, notify)
    return scheduler.add_job(check, "interval", hours=hours, id=job_id, replace_existing=True,
                             next_run_time=dt.datetime.now(dt.timezone.utc), max_instances=1, coalesce=True)
