"""Where the lists come from (bridge/trusted_lists_source.py): a LOTL file with the national lists beside it,
or a URL whose lists are downloaded (here from a loopback HTTP server) into a cache that keeps the last
good copy of each list when a download does not verify; and the settings' errors name the variable.
"""
from __future__ import annotations

import datetime as dt
import http.server
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from bridge.settings import Settings, SettingsError
from bridge.trusted_lists_source import TrustedListsSource, add_refresh_job

from .conftest import MOMENT_2019, REFERENCE
from .tsl_factory import ListSigner, ListSpec, Pointer, signed

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC)


class ListServer:
    """A loopback HTTP server answering GET /<name> from a dict the test changes as it goes."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        files = self.files

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's hook name
                body = files.get(self.path.lstrip("/"))
                self.send_response(200 if body is not None else 404)
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server():
    s = ListServer()
    yield s
    s.close()


def _pem(path: Path, *signers: ListSigner) -> str:
    path.write_bytes(b"".join(s.cert.public_bytes(Encoding.PEM) for s in signers))
    return str(path)


def _settings(tmp_path: Path, location: str, signers_file: str | None, **env: str) -> Settings:
    values = {"EDC_TRUSTED_LISTS": location, "EDC_TRUSTED_LISTS_CACHE": str(tmp_path / "cache"), **env}
    if signers_file:
        values["EDC_TRUSTED_LIST_SIGNERS"] = signers_file
    return Settings.from_env(values)


def _lotl(commission: ListSigner, lt_operator: ListSigner, location: str, *, sequence: int = 1) -> bytes:
    return signed(ListSpec("EU", NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=180), sequence=sequence,
                           pointers=[Pointer("LT", [lt_operator.cert], location=location)]), commission)


def _lt(signer: ListSigner, sequence: int = 1) -> bytes:
    return signed(ListSpec("LT", NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=180), sequence=sequence), signer)


def test_a_lotl_file_is_read_with_the_national_lists_beside_it(tmp_path, commission, lt_operator):
    (tmp_path / "eu-lotl.xml").write_bytes(_lotl(commission, lt_operator, "https://example.invalid/LT.xml"))
    (tmp_path / "LT.xml").write_bytes(_lt(lt_operator))
    (tmp_path / "notes.xml").write_bytes(b"<not-a-list/>")  # not named by a territory: not read
    source = TrustedListsSource.from_settings(
        _settings(tmp_path, str(tmp_path / "eu-lotl.xml"), _pem(tmp_path / "signers.pem", commission)))
    lists = source.current()
    assert lists.lotl is not None and set(lists.national) == {"LT"} and not lists.refused
    assert source.status().refresh_seconds is None  # a file is re-read, not downloaded


def test_the_real_2019_lists_are_read_from_the_reference_folder(tmp_path, commission_signers):
    signers = tmp_path / "commission.pem"
    signers.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in commission_signers))
    source = TrustedListsSource.from_settings(_settings(tmp_path, str(REFERENCE / "EU.xml"), str(signers)))
    lists = source.current(at=MOMENT_2019)
    assert lists.lotl.sequence == 248 and set(lists.national) == {"LT", "LV"}  # CZ_broken-sig.xml: no territory name


def test_a_url_is_downloaded_into_the_cache_and_a_bad_download_keeps_the_good_copy(tmp_path, server, commission,
                                                                                 lt_operator):
    server.files["lotl.xml"] = _lotl(commission, lt_operator, server.url("LT.xml"))
    server.files["LT.xml"] = _lt(lt_operator, sequence=7)
    source = TrustedListsSource.from_settings(
        _settings(tmp_path, server.url("lotl.xml"), _pem(tmp_path / "signers.pem", commission)))
    assert source.current().lotl is None  # nothing downloaded yet: "unknown", not a failure
    source.refresh()
    assert source.errors == [] and source.last_refresh is not None
    assert (tmp_path / "cache" / "EU.xml").exists() and (tmp_path / "cache" / "LT.xml").exists()
    assert source.current().national["LT"].sequence == 7
    # A tampered download and an unreachable LOTL: both refused, the verified copies stay in use.
    server.files["LT.xml"] = _lt(lt_operator, sequence=8).replace(b"TEST scheme operator", b"EVIL scheme operator")
    del server.files["lotl.xml"]
    source.refresh()
    assert any(e.startswith("the List of Trusted Lists from ") and "HTTP 404" in e for e in source.errors)
    assert "LT: the trusted list of LT was changed after it was signed (a digest does not match) (the copy " \
           "downloaded before is kept)" in source.errors
    assert source.current().national["LT"].sequence == 7
    # A list signed by someone the LOTL does not name is refused the same way.
    server.files["lotl.xml"] = _lotl(commission, lt_operator, server.url("LT.xml"), sequence=2)
    server.files["LT.xml"] = _lt(ListSigner.create("impostor"), sequence=9)
    source.refresh()
    assert source.current().lotl.sequence == 2 and source.current().national["LT"].sequence == 7
    assert any(e.startswith("LT: the trusted list of LT is not signed by any") for e in source.errors)
    status = source.status()
    assert [row.territory for row in status.lists] == ["EU", "LT"] and status.refresh_seconds == 6 * 3600


def test_the_scheduled_job_refreshes_at_start_and_then_periodically(tmp_path, server, commission, lt_operator):
    from apscheduler.schedulers.background import BackgroundScheduler

    server.files["lotl.xml"] = _lotl(commission, lt_operator, server.url("LT.xml"))
    server.files["LT.xml"] = _lt(lt_operator)
    source = TrustedListsSource.from_settings(_settings(
        tmp_path, server.url("lotl.xml"), _pem(tmp_path / "signers.pem", commission),
        EDC_TRUSTED_LISTS_REFRESH_SECONDS="3600"))
    scheduler = BackgroundScheduler(timezone=UTC)
    add_refresh_job(scheduler, source)
    scheduler.start()
    try:
        job = scheduler.get_job("trusted-lists")
        assert job.trigger.interval == dt.timedelta(hours=1)
        for _ in range(100):
            if source.last_refresh is not None:
                break
            threading.Event().wait(0.1)
        assert source.last_refresh is not None and "LT" in source.current().national
    finally:
        scheduler.shutdown(wait=True)


def test_the_settings_errors_name_the_variable(tmp_path, commission):
    lotl = tmp_path / "EU.xml"
    lotl.write_bytes(b"<x/>")
    with pytest.raises(SettingsError, match="EDC_TRUSTED_LIST_SIGNERS is required with EDC_TRUSTED_LISTS"):
        TrustedListsSource.from_settings(_settings(tmp_path, str(lotl), None))
    (tmp_path / "bad.pem").write_text("not a certificate")
    with pytest.raises(SettingsError, match="EDC_TRUSTED_LIST_SIGNERS: .*bad.pem holds no PEM certificate"):
        TrustedListsSource.from_settings(_settings(tmp_path, str(lotl), str(tmp_path / "bad.pem")))
    with pytest.raises(SettingsError, match="EDC_TRUSTED_LIST_SIGNERS: cannot read"):
        TrustedListsSource.from_settings(_settings(tmp_path, str(lotl), str(tmp_path / "missing.pem")))
    with pytest.raises(SettingsError, match="EDC_TRUSTED_LISTS: no file at"):
        TrustedListsSource.from_settings(_settings(tmp_path, str(tmp_path / "nope.xml"),
                                                   _pem(tmp_path / "s.pem", commission)))
    with pytest.raises(SettingsError, match="EDC_TRUSTED_LISTS_REFRESH_SECONDS"):
        _settings(tmp_path, str(lotl), None, EDC_TRUSTED_LISTS_REFRESH_SECONDS="daily")
    assert TrustedListsSource.from_settings(Settings.from_env({})) is None
