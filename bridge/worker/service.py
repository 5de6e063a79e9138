"""The running worker: issuing and delivery threads, and APScheduler's periodic jobs.

APScheduler runs delivery retries (through the due times set with exponential backoff), taking back
the claims of a sidecar process that died (every second, bridge/worker/recovery.py), the re-queueing
of expired leases (a process stuck mid-issue), the recovery of mails handed over before a crash, the
seal-expiry check, the cleanup of nonces, expired staff sessions and old failed staff logins, and the
upkeep of long-term seals (time-stamps left pending, B-LTA archive renewals: bridge/worker/upkeep.py).
Several replicas on one registry each run the scheduler, and each period of a job runs on one of them
(bridge/registry/job_runs.py); only the trusted lists' refresh runs in every replica (a copy in memory).
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any, Callable

from bridge.delivery import DeliveryError
from bridge.registry import audit, job_runs
from bridge.registry.liveness import Liveness
from bridge.trusted_lists_source import add_refresh_job
from bridge.worker import upkeep
from bridge.worker.context import Context
from bridge.worker.delivering import deliver_continuously, deliver_due, recover_handed_over
from bridge.worker.issuing import claim_issuances, process_issuances, requeue_expired_leases
from bridge.worker.programmes import run_checks
from bridge.worker.recovery import take_back_from_the_dead

log = logging.getLogger("edc.worker")


class Worker:
    """EDC_WORKERS threads issuing, plus the scheduler; `stop()` lets the current work finish."""

    def __init__(self, ctx: Context, *, working: bool = True, scheduling: bool = True) -> None:
        self.ctx = ctx
        self.working = working  # issuing and delivery threads (off in a server whose worker processes do it)
        self.scheduling = scheduling  # the periodic jobs (off in worker processes: their server runs them)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.scheduler = None
        if ctx.liveness is None:
            ctx.liveness = Liveness(ctx.registry)

    def start(self) -> None:
        if self.working:  # before the first claim, so no claim of ours is ever taken for a dead one's
            self.ctx.liveness.hold(self.ctx.worker_id)
        if self.scheduling:
            self._recover()  # what a previous run left half-done
        workers = self.ctx.settings.workers
        # Delivery threads mostly wait on SMTP and Moodle, so there are more of them, and sealing never
        # waits for a slow mail server.
        for i in range(workers if self.working else 0):
            self._spawn(self._issue_loop, f"edc-issue-{i}", f"{self.ctx.worker_id}/{i}")
        for i in range(max(2, 2 * workers) if self.working else 0):
            self._spawn(self._delivery_loop, f"edc-deliver-{i}")
        if self.scheduling:
            self._start_scheduler()

    def _spawn(self, target: Callable, name: str, *args: Any) -> None:
        t = threading.Thread(target=target, args=args, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def _issue_loop(self, worker_id: str) -> None:
        while not self._stop.is_set():
            try:
                # Clear before looking, wait after: a wake-up set in between is never lost (one cleared
                # after a look made a thread with work waiting sleep its whole second).
                self.ctx.wake.clear()
                started = time.perf_counter()
                claimed = claim_issuances(self.ctx, worker_id, self.ctx.settings.batch)
                if not claimed:
                    self.ctx.wake.wait(1.0)
                    continue
                if len(claimed) == self.ctx.settings.batch:
                    self.ctx.wake.set()  # there may be more: let an idle peer take the next batch
                process_issuances(self.ctx, claimed, worker_id)
                self._busy("issue", started)
            except Exception:  # noqa: BLE001 - keep the thread alive (database blip); the lease recovers the row
                log.exception("worker %s: unexpected error", worker_id)
                self._stop.wait(2.0)

    def _delivery_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.ctx.deliveries_due.clear()  # as in _issue_loop: clear, look, then wait
                started = time.perf_counter()
                if deliver_continuously(self.ctx, self._stop, self.ctx.settings.batch,
                                        on_full_batch=self.ctx.deliveries_due.set) == 0:
                    self.ctx.deliveries_due.wait(1.0)
                else:
                    self._busy("deliver", started)
            except Exception:  # noqa: BLE001
                log.exception("delivery thread: unexpected error")
                self._stop.wait(2.0)

    def _busy(self, loop: str, started: float) -> None:
        """Worker time (edc_worker_busy_seconds): what the registry's lock time is a share of (bench/replicas.py)."""
        if self.ctx.metrics is not None:
            self.ctx.metrics.worker_busy_seconds.labels(loop).inc(time.perf_counter() - started)

    def _start_scheduler(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        scheduler = BackgroundScheduler(timezone=dt.timezone.utc)
        # Every job but the trusted lists' refresh runs once per period across all replicas of the registry
        # (bridge/registry/job_runs.py); `_every` puts it on the shared grid and claims each period first.
        self._every(scheduler, "recovery", max(1, min(10, self.ctx.settings.lease_seconds)), self._recover)
        self._every(scheduler, "liveness", 1, lambda: take_back_from_the_dead(self.ctx))
        if self.ctx.registry.dialect == "postgresql":  # audit entries whose linking a crash cut short
            self._every(scheduler, "audit-link", 1, lambda: audit.link_all(self.ctx.registry.engine))
        self._every(scheduler, "nonces", 300, self._purge_nonces)
        # Long-term seals (bridge/worker/upkeep.py): pending time-stamps, and B-LTA archive renewals.
        self._every(scheduler, "timestamps-pending", self.ctx.settings.timestamp_retry_seconds,
                    lambda: upkeep.complete_pending(self.ctx))
        self._every(scheduler, "archive-renewal", self.ctx.settings.archive_check_seconds,
                    lambda: upkeep.renew_archives(self.ctx))
        self._every(scheduler, "programmes", 5, lambda: run_checks(self.ctx))
        # EDC_TRUSTED_LISTS, at start and then: each replica refreshes its own copy in memory.
        add_refresh_job(scheduler, getattr(self.ctx, "trusted_lists", None))
        self._every(scheduler, "staff_access", 300, self._purge_staff_access)
        try:
            from hsm.expiry import add_expiry_job

            job = add_expiry_job(scheduler, lambda: self.ctx.seals.current().certificate,
                                 lambda warning: warn_security_contact(self.ctx, warning))
            job.modify(func=self._once(job.id, job.trigger.interval.total_seconds(), job.func))  # one mail, not N
        except ImportError:
            pass
        scheduler.start()
        self.scheduler = scheduler

    def _every(self, scheduler: Any, job_id: str, seconds: float, fn: Callable[[], Any]) -> None:
        """A job every `seconds`, fired on the grid all replicas share (multiples of `seconds` since the
        epoch), so they meet on the same period and the first to claim it runs it."""
        start = dt.datetime.fromtimestamp(job_runs.period_of(seconds) * seconds, dt.timezone.utc)
        scheduler.add_job(self._once(job_id, seconds, fn), trigger="interval", seconds=seconds, start_date=start,
                          id=job_id, max_instances=1, coalesce=True)

    def _once(self, job_id: str, seconds: float, fn: Callable[[], Any]) -> Callable[[], None]:
        """`fn`, run only by the replica that claims the current period of `job_id` (logged if it fails)."""
        def run() -> None:
            if job_runs.claim(self.ctx.registry, job_id, job_runs.period_of(seconds), self.ctx.worker_id):
                fn()
        return self._guard(run)

    def _recover(self) -> None:
        take_back_from_the_dead(self.ctx)
        requeue_expired_leases(self.ctx)
        recover_handed_over(self.ctx)

    def _purge_nonces(self) -> None:
        from bridge.intake.auth import purge_expired_nonces

        with self.ctx.registry.transaction() as session:
            purge_expired_nonces(session)

    def _purge_staff_access(self) -> None:
        """Expired staff sessions and failed attempts older than the throttle's window count for nothing."""
        from bridge.registry import staff_access

        with self.ctx.registry.transaction() as session:
            staff_access.purge_sessions(session)
            staff_access.purge_failures(session, staff_access.Budget(*self.ctx.settings.staff_auth_budget))

    @staticmethod
    def _guard(fn: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except Exception:  # noqa: BLE001
                log.exception("scheduled job failed")
        return run

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for nudge in (self.ctx.wake, self.ctx.deliveries_due):  # every thread, not one (Nudge)
            getattr(nudge, "wake_all", nudge.set)()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        for t in self._threads:
            t.join(timeout)
        if self.working and not any(t.is_alive() for t in self._threads):
            self.ctx.liveness.release(self.ctx.worker_id)  # a clean stop: nothing of ours is left claimed


def warn_security_contact(ctx: Context, warning: Any) -> bool:
    """Tell the security contact (EDC_SECURITY_CONTACT) that the seal certificate nears expiry, by email.

    Called once per certificate and threshold (60/30/7 days, expired) by hsm.expiry's scheduled check,
    which has already logged the warning; returns whether a mail went out.
    """
    contact = ctx.settings.security_contact
    channel = ctx.channels.get("email")
    if not contact or channel is None or not hasattr(channel, "send_notice"):
        log.warning("seal certificate: %s; no mail sent (set EDC_SECURITY_CONTACT and EDC_SMTP_URL)",
                    warning.message)
        return False
    subject = f"[EDC issuer] seal certificate {warning.level}: {warning.days_left} days left"
    text = (f"{warning.message}\n\nSeal certificate: {warning.subject}\nSerial number: {warning.serial_number:x}\n"
            f"Valid until: {warning.not_after.isoformat()}\n\nRenew it with the key ceremony in hsm/README.md "
            f"(keygen, csr, import-cert, activate) before that date: credentials cannot be sealed after it.\n")
    try:
        channel.send_notice(contact, subject, text)
    except DeliveryError as exc:
        log.error("seal certificate warning could not be mailed to the security contact: %s", exc)
        return False
    return True


def drain(ctx: Context, *, worker_id: str = "drain", max_rounds: int = 1000) -> int:
    """Process everything due now in the calling thread (tests, the demo command); returns credentials made."""
    made = 0
    for _ in range(max_rounds):
        claimed = claim_issuances(ctx, worker_id, ctx.settings.batch)
        if not claimed:
            break
        made += len(process_issuances(ctx, claimed, worker_id))
    while deliver_due(ctx, limit=100):
        pass
    return made
