"""Local staff accounts (issue 15), on SQLite and PostgreSQL: an argon2id hash is stored, never the password;
the TOTP code is required and works once; repeated failures lock the address and the account out (the
registry's throttle), each failure audited with why and never what was typed; sessions expire; the
`edc-bridge staff` commands work from the shell and print the TOTP provisioning URI once, never a password.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select, update

from bridge.app import create_app, stop_app
from bridge.registry import staff_accounts
from bridge.registry.models import AuditEntry, StaffAccount, StaffSession, utcnow
from tests.staff.conftest import csrf

PASSWORD = "correct horse battery staple"
REPO = Path(__file__).resolve().parents[2]


def _add(ctx, username: str = "ona@uni.example", held=("registrar",)) -> str:
    with ctx.registry.transaction() as db:
        made = staff_accounts.add_account(db, username, held, "local", "test", PASSWORD, "Ona")
    return made.totp_secret


def _login(client, username: str, password: str, code: str, **kw):
    page = client.get("/staff/login", **kw).get_data(as_text=True)
    return client.post("/staff/login", data={"username": username, "password": password, "totp": code,
                                             "csrf_token": csrf(page)}, **kw)


def _audit(ctx, action: str) -> list[AuditEntry]:
    with ctx.registry.reading() as db:
        return list(db.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars())


def test_an_argon2_hash_is_stored_and_password_and_code_are_both_required(client, ctx):
    secret = _add(ctx)
    with ctx.registry.reading() as db:
        row = db.get(StaffAccount, "ona@uni.example")
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
    now_code = pyotp.TOTP(secret).now()
    assert _login(client, "ona@uni.example", "wrong password!!", now_code).status_code == 401
    wrong_code = f"{(int(now_code) + 1) % 1000000:06d}"
    assert _login(client, "ona@uni.example", PASSWORD, wrong_code).status_code == 401
    assert _login(client, "ona@uni.example", PASSWORD, "").status_code in (400, 401)
    assert _login(client, "nobody@uni.example", PASSWORD, now_code).status_code == 401
    assert client.get("/staff/").status_code == 303  # none of them got in
    answer = _login(client, "ona@uni.example", PASSWORD, now_code)
    assert answer.status_code == 303
    assert client.get("/staff/").status_code == 200
    (login,) = _audit(ctx, "staff.login")
    assert login.actor == "ona@uni.example" and json.loads(login.details)["role"] == "registrar"
    failures = [json.loads(e.details) for e in _audit(ctx, "staff.auth_failed")]
    assert [f.get("reason") for f in failures] == ["password", "totp", "totp", "unknown_account"]
    trail = json.dumps([e.details for e in _audit(ctx, "staff.auth_failed")])
    assert PASSWORD not in trail and "wrong password" not in trail and now_code not in trail


def test_a_code_works_once(client, app, ctx):
    secret = _add(ctx)
    code = pyotp.TOTP(secret).now()
    assert _login(client, "ona@uni.example", PASSWORD, code).status_code == 303
    other = app.test_client()  # someone who saw the code over her shoulder
    assert _login(other, "ona@uni.example", PASSWORD, code).status_code == 401


@pytest.fixture
def strict_app(settings, channels):
    application = create_app(dataclasses.replace(settings, staff_auth_limit="3/15minutes"), channels=channels)
    yield application
    stop_app(application)
    application.extensions["edc"].registry.dispose()


def test_repeated_failures_lock_the_account_even_from_other_addresses(strict_app):
    ctx = strict_app.extensions["edc"]
    secret = _add(ctx)
    for number in range(3):  # three guesses, each from another address
        client = strict_app.test_client()
        answer = _login(client, "ona@uni.example", f"guess number {number}!", "000000",
                        environ_base={"REMOTE_ADDR": f"192.0.2.{number + 1}"})
        assert answer.status_code == 401
    client = strict_app.test_client()
    locked = _login(client, "ona@uni.example", PASSWORD, pyotp.TOTP(secret).now(),
                    environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert client.get("/staff/", environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 303
    failures = _audit(ctx, "staff.auth_failed")
    assert len(failures) == 3 and json.loads(failures[-1].details)["throttled"] is True
    # another person's account from a fresh address is not locked
    other_secret = _add(ctx, "jonas@uni.example")
    fresh = strict_app.test_client()
    assert _login(fresh, "jonas@uni.example", PASSWORD, pyotp.TOTP(other_secret).now(),
                  environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 303


def test_sessions_expire(client, ctx):
    secret = _add(ctx)
    assert _login(client, "ona@uni.example", PASSWORD, pyotp.TOTP(secret).now()).status_code == 303
    assert client.get("/staff/").status_code == 200
    with ctx.registry.transaction() as db:
        db.execute(update(StaffSession).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    assert client.get("/staff/").status_code == 303


def test_a_role_change_or_a_disabled_account_ends_the_session(client, ctx):
    secret = _add(ctx, held=("admin",))
    assert _login(client, "ona@uni.example", PASSWORD, pyotp.TOTP(secret).now()).status_code == 303
    with ctx.registry.transaction() as db:
        staff_accounts.set_roles(db, "ona@uni.example", ("viewer",), "test")
    assert client.get("/staff/").status_code == 303
    with ctx.registry.transaction() as db:
        db.execute(update(StaffAccount).values(totp_last_step=None))
        staff_accounts.disable(db, "ona@uni.example", "test")
    assert _login(client, "ona@uni.example", PASSWORD, pyotp.TOTP(secret).now()).status_code == 401
    (entry,) = [json.loads(e.details) for e in _audit(ctx, "staff.auth_failed")]
    assert entry["reason"] == "disabled"


def _cli(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDC_")}
    return subprocess.run([sys.executable, "-m", "bridge.cli", "staff", "--database-url", database_url, *args],
                          input=stdin, capture_output=True, text=True, timeout=120, cwd=REPO, env=env)


def test_the_cli_from_the_shell(database_url, app, ctx):
    added = _cli(database_url, "add", "ona@uni.example", "--role", "registrar", "--password-stdin",
                 stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert PASSWORD not in added.stdout + added.stderr
    assert added.stdout.count("otpauth://totp/") == 1
    secret = added.stdout.split("secret: ", 1)[1].split()[0]
    client = app.test_client()
    assert _login(client, "ona@uni.example", PASSWORD, pyotp.TOTP(secret).now()).status_code == 303

    listed = _cli(database_url, "list")
    assert "ona@uni.example\tlocal\tregistrar\tenabled" in listed.stdout and secret not in listed.stdout
    assert _cli(database_url, "role", "ona@uni.example", "viewer,security-officer").returncode == 0
    assert client.get("/staff/").status_code == 303  # the role change ended the session
    refused = _cli(database_url, "role", "ona@uni.example", "boss")
    assert refused.returncode == 2 and "unknown role 'boss'" in refused.stderr and "Traceback" not in refused.stderr
    short = _cli(database_url, "add", "jonas", "--role", "viewer", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "password" in short.stderr and "short" not in short.stderr.replace("password", "")
    assert _cli(database_url, "disable", "ona@uni.example").returncode == 0
    with ctx.registry.reading() as db:
        row = db.get(StaffAccount, "ona@uni.example")
    assert row.disabled_at is not None and row.roles == "viewer,security_officer"
    actors = {e.actor for e in _audit(ctx, "staff.account_added") + _audit(ctx, "staff.roles_changed")}
    assert len(actors) == 1 and actors.pop().startswith("cli:")
