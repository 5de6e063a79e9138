"""Where the EU trusted lists come from (EDC_TRUSTED_LISTS), and the verified set the verifier uses.

Two ways to configure it:

- a **file**: the List of Trusted Lists (LOTL) on disk; the national lists are the files beside it
  named by territory (`LT.xml`, `LV.xml`, …), as an operator mirrors them by hand or by a script;
- a **URL** (`https://ec.europa.eu/tools/lotl/eu-lotl.xml`): the LOTL and every national XML list it
  points at are downloaded into a local cache folder (EDC_TRUSTED_LISTS_CACHE, same layout), on a
  schedule (EDC_TRUSTED_LISTS_REFRESH_SECONDS). A download that does not verify never replaces the
  copy that did: the last good one stays in use, and the error is shown on the staff dashboard.

Either way the lists are verified here only through bridge/edc/trusted_lists.py (pure) with the
certificates that may sign the LOTL (EDC_TRUSTED_LIST_SIGNERS, a PEM file of the certificates the
Official Journal announces); the verifier is handed the result, never a path or a URL.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from cryptography import x509

from bridge.edc import trusted_lists as tl
from bridge.settings import SettingsError

log = logging.getLogger("edc.trusted_lists")

LOTL_CACHE_NAME = "EU.xml"
TERRITORY_FILE = re.compile(r"^[A-Z]{2}\.xml$")
FETCH_TIMEOUT = (10, 60)  # connect, read (seconds)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def fetch_url(url: str) -> bytes:
    """GET one list over HTTP(S), at most MAX_LIST_BYTES; raises OSError (requests' errors are OSErrors) or ValueError."""
    import requests

    if not url.startswith(("https://", "http://")):
        raise ValueError(f"not an http(s) address: {url[:80]}")
    with requests.get(url, timeout=FETCH_TIMEOUT, stream=True) as reply:
        if reply.status_code != 200:
            raise ValueError(f"{url} answered HTTP {reply.status_code}")
        body = bytearray()
        for chunk in reply.iter_content(64 * 1024):
            body += chunk
            if len(body) > tl.MAX_LIST_BYTES:
                raise ValueError(f"{url} sent more than {tl.MAX_LIST_BYTES // (1024 * 1024)} MB")
    return bytes(body)


def load_signers(path: str | None) -> list[x509.Certificate]:
    """The certificates allowed to sign the LOTL; a SettingsError naming EDC_TRUSTED_LIST_SIGNERS otherwise."""
    if not path:
        raise SettingsError("EDC_TRUSTED_LIST_SIGNERS is required with EDC_TRUSTED_LISTS: the PEM file of the "
                            "certificates the Official Journal names as signers of the List of Trusted Lists")
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SettingsError(f"EDC_TRUSTED_LIST_SIGNERS: cannot read {path}: {exc.strerror}") from None
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise SettingsError(f"EDC_TRUSTED_LIST_SIGNERS: {path} holds no PEM certificate") from None
    return certs


@dataclass(frozen=True)
class SourceStatus:
    """What the staff dashboard shows: where from, when last refreshed, what went wrong, each list's dates."""

    location: str
    last_refresh: dt.datetime | None
    errors: tuple[str, ...]
    lists: tuple[tl.ListStatus, ...]  # the LOTL, then each national list we hold or refused
    missing: tuple[str, ...]  # territories the LOTL points at whose list we do not hold
    refresh_seconds: float | None  # None: not refreshed on a schedule (a file)


@dataclass
class TrustedListsSource:
    location: str  # a LOTL file, or the LOTL's URL
    signers: list[x509.Certificate]
    cache_dir: Path  # where the lists are read from (a file's folder, or the download cache)
    refresh_seconds: float = 6 * 3600.0
    fetch: Callable[[str], bytes] = fetch_url
    clock: Callable[[], dt.datetime] = utcnow
    last_refresh: dt.datetime | None = None
    errors: list[str] = field(default_factory=list)
    _lists: tl.TrustedLists | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> "TrustedListsSource | None":
        """The source EDC_TRUSTED_LISTS configures, or None when it is not set; SettingsError naming the variable."""
        location = getattr(settings, "trusted_lists", None)
        if not location:
            return None
        signers = load_signers(settings.trusted_list_signers)
        if cls.is_url_location(location):
            cache = Path(settings.trusted_lists_cache)
        else:
            if not Path(location).is_file():
                raise SettingsError(f"EDC_TRUSTED_LISTS: no file at {location} (give the List of Trusted Lists "
                                    "file, with the national lists beside it as LT.xml, …, or its https:// URL)")
            cache = Path(location).parent
        return cls(location=location, signers=signers, cache_dir=cache,
                   refresh_seconds=settings.trusted_lists_refresh_seconds, **kwargs)

    @staticmethod
    def is_url_location(location: str) -> bool:
        return location.startswith(("https://", "http://"))

    @property
    def is_url(self) -> bool:
        return self.is_url_location(self.location)

    @property
    def lotl_path(self) -> Path:
        return self.cache_dir / LOTL_CACHE_NAME if self.is_url else Path(self.location)

    # --- what the verifier uses ------------------------------------------------------------------

    def current(self, at: dt.datetime | None = None) -> tl.TrustedLists:
        """The lists verified as of now (loaded once, renewed by `refresh`), or as of `at` for a one-off check."""
        if at is not None:
            return self._load(at)
        with self._lock:
            if self._lists is None:
                self._lists = self._load(self.clock())
            return self._lists

    def _load(self, at: dt.datetime) -> tl.TrustedLists:
        return tl.load_trusted_lists(self._read(self.lotl_path), self._national_files(), self.signers, at=at)

    def _national_files(self) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        try:
            paths = sorted(self.cache_dir.iterdir())
        except OSError:
            return found
        for path in paths:
            if TERRITORY_FILE.match(path.name) and path != self.lotl_path and path.stem != tl.LOTL_TERRITORY:
                data = self._read(path)
                if data is not None:
                    found[path.stem] = data
        return found

    @staticmethod
    def _read(path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except OSError:
            return None

    # --- keeping them fresh ----------------------------------------------------------------------

    def refresh(self) -> None:
        """Download (a URL) or re-read (a file) the lists and use them from now on. Never raises: what
        goes wrong is logged and kept for the staff dashboard, and the last good lists stay in use."""
        now = self.clock()
        errors: list[str] = []
        try:
            if self.is_url:
                errors = self._download(now)
            lists = self._load(now)
        except Exception as exc:  # noqa: BLE001 - a scheduled job: report, keep what we had
            log.exception("trusted lists: refresh failed")
            errors.append(f"the refresh failed: {type(exc).__name__}: {exc}")
            lists = None
        for error in errors:
            log.warning("trusted lists: %s", error)
        with self._lock:
            if lists is not None:
                self._lists = lists
            self.last_refresh, self.errors = now, errors

    def _download(self, now: dt.datetime) -> list[str]:
        """Fetch the LOTL and the lists it points at; store each one that verifies (atomically)."""
        errors: list[str] = []
        try:
            data = self.fetch(self.location)
            lotl = tl.read_list(data, self.signers, at=now, lotl=True)
            self._store(self.lotl_path, data)
        except (OSError, ValueError) as exc:  # TrustedListError is a ValueError
            errors.append(f"the List of Trusted Lists from {self.location} was not taken: {exc}")
            cached = self._read(self.lotl_path)
            try:
                lotl = tl.read_list(cached or b"", self.signers, at=now, lotl=True)
            except tl.TrustedListError:
                return errors  # nothing verified to follow
        for territory in sorted({p.territory for p in lotl.pointers if p.is_xml} - {tl.LOTL_TERRITORY}):
            pointers = lotl.pointers_for(territory)
            certs = tuple(c for p in pointers for c in p.certificates)
            try:
                data = self.fetch(pointers[0].location)
                tl.read_list(data, certs, at=now, territory=territory)
                self._store(self.cache_dir / f"{territory}.xml", data)
            except (OSError, ValueError) as exc:
                kept = " (the copy downloaded before is kept)" if (self.cache_dir / f"{territory}.xml").exists() else ""
                errors.append(f"{territory}: {exc}{kept}")
        return errors

    def _store(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def status(self, now: dt.datetime | None = None) -> SourceStatus:
        lists = self.current()
        rows = lists.statuses(now or self.clock())
        held = {tl.LOTL_TERRITORY, *lists.national, *lists.refused}
        return SourceStatus(self.location, self.last_refresh, tuple(self.errors),
                            tuple(r for r in rows if r.territory in held),
                            tuple(r.territory for r in rows if r.territory not in held),
                            self.refresh_seconds if self.is_url else None)


def lists_of(ctx: Any) -> tl.TrustedLists | None:
    """The lists a service context's verifier uses (`ctx.trusted_lists`, set by create_app), None when not configured."""
    source = getattr(ctx, "trusted_lists", None)
    return source.current() if source is not None else None


def status_of(ctx: Any) -> SourceStatus | None:
    """How fresh the lists of a service context are (the staff dashboard); None when not configured."""
    source = getattr(ctx, "trusted_lists", None)
    return source.status() if source is not None else None


def add_refresh_job(scheduler: Any, source: TrustedListsSource | None) -> None:
    """APScheduler job: refresh at start, then every `refresh_seconds` (a file is simply re-read)."""
    if source is None:
        return
    scheduler.add_job(source.refresh, trigger="interval", seconds=source.refresh_seconds, id="trusted-lists",
                      max_instances=1, coalesce=True, next_run_time=utcnow())
