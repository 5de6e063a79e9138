"""Warnings 60, 30 and 7 days before the seal certificate expires, each sent once."""
from __future__ import annotations

import datetime as dt

from apscheduler.schedulers.background import BackgroundScheduler
from cryptography.hazmat.primitives.asymmetric import ec

from hsm.demo_token import SEAL_NAME, make_test_ca, seal_certificate
from hsm.expiry import add_expiry_job, expiry_warnings, make_expiry_check

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.timezone.utc)
CA_KEY, CA_CERT = make_test_ca(NOW)


def _cert_expiring(in_days: float):
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return seal_certificate(key, SEAL_NAME, CA_KEY, CA_CERT, NOW - dt.timedelta(days=300),
                            NOW + dt.timedelta(days=in_days))


def test_thresholds():
    cases = {90: None, 60.5: None, 60: 60, 45: 60, 30: 30, 29.5: 30, 8: 30, 7: 7, 1: 7, 0.1: 7, -1: 0}
    for days, expected in cases.items():
        warnings = expiry_warnings(_cert_expiring(days), NOW)
        got = warnings[0].threshold_days if warnings else None
        assert got == expected, f"{days} days left: expected threshold {expected}, got {got}"
    (expired,) = expiry_warnings(_cert_expiring(-1), NOW)
    assert expired.level == "expired" and "EXPIRED" in expired.message
    (critical,) = expiry_warnings(_cert_expiring(6.5), NOW)
    assert critical.level == "critical" and critical.days_left == 6 and "6 days left" in critical.message


def test_each_threshold_is_notified_once(caplog):
    cert = _cert_expiring(61)
    clock = [NOW]
    sent = []
    check = make_expiry_check(lambda: cert, sent.append, clock=lambda: clock[0])
    for day in range(0, 70):
        clock[0] = NOW + dt.timedelta(days=day)
        check()
        check()  # the scheduler may run it more often than daily
    assert [w.threshold_days for w in sent] == [60, 30, 7, 0]
    assert "expires on" in caplog.text


def test_job_runs_on_apscheduler():
    cert = _cert_expiring(20)
    sent = []
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start()
    try:
        job = add_expiry_job(scheduler, lambda: cert, sent.append, hours=12)
        assert job.id == "seal-expiry-check"
        import time

        deadline = time.monotonic() + 5
        while not sent and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown()
    assert [w.threshold_days for w in sent] == [30]
