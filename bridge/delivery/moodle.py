"""Moodle channel: store the sealed file for the learner and set their status, through the plugin's web service.

The functions and their parameters are the plugin's contract (moodle_plugin/README.md, "Web service
contract"): `block_edcissuer_store_credential` and `block_edcissuer_set_status`, called over Moodle's REST
protocol with the token in the POST body — a token in a URL ends up in access logs and proxies.

Moodle answers errors with HTTP 200 and a JSON body carrying `exception`, so the status code alone says
little. What can heal by itself (Moodle down, 5xx, timeouts, a busy database) is retryable; what needs a
person (a wrong or revoked token, missing permissions, an unknown user or course, a file that conflicts)
is not, and the worker parks it where staff can see it.

`store_credential` is idempotent by credential id (same bytes → "unchanged"), and `set_status` ignores
stale timestamps, so sending the same job twice after a crash is harmless: this channel is at-least-once
on the wire and exactly-once in what Moodle keeps.

One call per credential, where the plugin allows it: the last file's `store_credential` carries
`deliveredat`, and the plugin records "delivered" itself, as `set_status` would. Every web service call
boots Moodle (tens of milliseconds of the university's PHP), so that halves what a burst costs Moodle, and
the sidecar's own CPU per credential too. A plugin from before `deliveredat` refuses the parameter
(`invalidparameter`, as Moodle refuses every undeclared key); the channel then stores without it, says
"delivered" with `set_status`, and keeps to two calls for the rest of the process's life.
"""
from __future__ import annotations

import base64
import logging
import os
import re
import threading
import time
from typing import Any, Mapping
from urllib.parse import quote_plus

import requests

from bridge.delivery import DeliveryError, DeliveryJob

log = logging.getLogger(__name__)

STORE = "block_edcissuer_store_credential"
SET_STATUS = "block_edcissuer_set_status"
ENDPOINT = "/webservice/rest/server.php"

# Moodle error codes that no retry will fix: the operator has to change the token, the role or the data.
PERMANENT_ERRORS = {
    "invalidtoken", "accessexception", "nopermissions", "requireloginerror", "servicenotavailable",
    "invalidrecord", "invaliduser", "invalidcourse", "invalidparameter", "invalidstatus",
    "credentialconflict", "sitemaintenance_disabled", "usernotfullysetup", "webservicesnotenabled",
}
# Codes Moodle uses for conditions that pass: maintenance mode, a locked or busy database.
TRANSIENT_ERRORS = {"sitemaintenance", "dmlreadexception", "dmlwriteexception", "ddlexception", "lockfailed",
                    "cannotgetlock", "dbsessionlocked"}


class MoodleError(DeliveryError):
    """Moodle answered with an exception: `code` is its `errorcode` ("" when it gave none)."""

    def __init__(self, message: str, *, retryable: bool, code: str) -> None:
        super().__init__(message, retryable=retryable)
        self.code = code


class MoodleChannel:
    """Calls the plugin's web service functions for one job, over a kept-alive connection per thread."""

    name = "moodle"

    def __init__(self, base_url: str, token: str, *, timeout: float = 20.0, verify: bool | str = True,
                 session: requests.Session | None = None) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"EDC_MOODLE_URL: {base_url!r} is not an http(s) URL")
        if not token:
            raise ValueError("EDC_MOODLE_TOKEN: empty; create a token for the sidecar's service in Moodle")
        self.endpoint = base_url.rstrip("/") + ENDPOINT
        self._token = token
        self.timeout = timeout
        self.verify = verify
        self._shared_session = session
        # A session of our own carries the headers and the verify setting (environment_session); a session
        # handed in is used as it is, so it is told both on every call, as before.
        self._per_call: dict[str, Any] = {} if session is None else {"verify": verify, "headers": FORM_HEADERS}
        self._local = threading.local()
        self.one_call = True  # store_credential takes deliveredat; False once an older plugin refused it

    @property
    def session(self) -> requests.Session:
        """One HTTP session (kept-alive connection) per worker thread: requests.Session is not thread-safe."""
        if self._shared_session is not None:
            return self._shared_session
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = environment_session(self.endpoint, self.verify)
        return session

    def __repr__(self) -> str:  # the token stays out of every repr and log line
        return f"MoodleChannel({self.endpoint})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **kwargs: Any) -> "MoodleChannel":
        env = os.environ if env is None else env
        return cls(env.get("EDC_MOODLE_URL", ""), env.get("EDC_MOODLE_TOKEN", ""), **kwargs)

    def deliver(self, job: DeliveryJob) -> None:
        """Issued: store each file (which also marks the learner issued), the last one saying "delivered" too (a
        set_status after it, for an older plugin). Revoked: the status."""
        if job.learner_moodle_id is None:
            raise DeliveryError("moodle: the job has no Moodle user id for the learner", retryable=False)
        if job.kind == "issued":
            if not job.document:
                raise DeliveryError("moodle: an 'issued' delivery needs the sealed credential bytes", retryable=False)
            main = (job.format, job.filename or f"credential-{job.credential_id.rpartition(':')[2]}.xml", job.document)
            files = [self._store_params(job, *main), *(self._store_params(job, f.format, f.filename, f.content)
                                                       for f in job.files)]  # one record per format, one id
            for params in files[:-1]:
                self.call(STORE, params)
            self._store_last(job, files[-1])
        elif job.kind == "revoked":
            # A corrected re-issue names its successor, so Moodle shows "Superseded" and lists both. Only then
            # is supersededby sent: a plugin from before it refuses parameters it does not declare.
            extra = {"supersededby": job.superseded_by} if job.superseded_by else {}
            self.set_status(job, "revoked", job.reason or "", extra=extra)
        else:
            raise DeliveryError(f"moodle: unknown delivery kind {job.kind!r}", retryable=False)
        log.info("moodle updated for %s (%s)", job.credential_id, job.kind)

    @staticmethod
    def _store_params(job: DeliveryJob, fmt: str, filename: str, content: bytes) -> dict[str, Any]:
        return {"userid": job.learner_moodle_id, "courseid": job.course_id, "credentialid": job.credential_id,
                "filename": filename, "content": base64.b64encode(content).decode("ascii"),
                "verifyurl": job.verify_url, "format": fmt}

    def _store_last(self, job: DeliveryJob, params: dict[str, Any]) -> None:
        """The last file, and "delivered": in one call, or in two with a plugin from before `deliveredat`."""
        if self.one_call:
            try:
                self.call(STORE, {**params, "deliveredat": int(time.time())})
                return
            except MoodleError as exc:
                if exc.code != "invalidparameter":
                    raise
            self.one_call = False  # what else it refuses, the same call without deliveredat says next
            try:
                self.call(STORE, params)
            except MoodleError as exc:
                if exc.code == "invalidparameter":
                    self.one_call = True  # refused without deliveredat too: not the plugin's age
                raise
            log.info("moodle: the plugin predates store_credential's deliveredat (upgrade block_edcissuer to "
                     "2026120402 or later): storing and setting the status in two calls")
        else:
            self.call(STORE, params)
        self.set_status(job, "delivered", "")

    def set_status(self, job: DeliveryJob, status: str, message: str, timestamp: int | None = None,
                   extra: Mapping[str, str] | None = None) -> dict:
        return self.call(SET_STATUS, {
            "userid": job.learner_moodle_id,
            "courseid": job.course_id,
            "credentialid": job.credential_id,
            "status": status,
            "message": message[:1333],
            "timestamp": int(time.time() if timestamp is None else timestamp),
            **(extra or {}),
        })

    def call(self, function: str, params: Mapping[str, Any]) -> Any:
        """One REST call; returns the decoded answer or raises DeliveryError naming the function and the cause."""
        form = {"wstoken": self._token, "wsfunction": function, "moodlewsrestformat": "json"}
        form.update({k: str(v) for k, v in params.items()})
        try:
            response = self.session.post(self.endpoint, data=form_body(form), timeout=self.timeout,
                                         allow_redirects=False, **self._per_call)
        except requests.exceptions.SSLError as exc:
            raise DeliveryError(f"moodle: TLS to {self.endpoint} failed: {type(exc).__name__}",
                                retryable=False) from None
        except requests.exceptions.Timeout:
            raise DeliveryError(f"moodle: {function}: no answer from {self.endpoint} within {self.timeout:g} s",
                                retryable=True) from None
        except requests.exceptions.ConnectionError:
            raise DeliveryError(f"moodle: {function}: cannot connect to {self.endpoint}", retryable=True) from None
        except requests.exceptions.RequestException as exc:
            raise DeliveryError(f"moodle: {function}: {type(exc).__name__}", retryable=True) from None
        return _answer(function, response)


FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def environment_session(url: str, verify: bool | str = True) -> requests.Session:
    """A session for calls to `url` only, with what requests reads from the environment read once, here.

    With `trust_env` on, requests looks at the environment on every call: the proxy variables
    (HTTP(S)_PROXY, ALL_PROXY, NO_PROXY: all of os.environ is walked, twice), REQUESTS_CA_BUNDLE and
    CURL_CA_BUNDLE when `verify` is True, and ~/.netrc (or NETRC) for a login. That was a quarter of the
    CPU of a call to Moodle. The channel only ever calls one URL, so every one of those answers is the
    same each time: asking once, the way requests itself asks (the same functions), and turning
    `trust_env` off gives the same proxies, CA file and login for the life of the session.
    """
    session = requests.Session()
    session.proxies = requests.utils.get_environ_proxies(url)  # {} when NO_PROXY covers the host
    if verify is True:
        verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    session.verify = verify
    session.auth = requests.utils.get_netrc_auth(url)
    session.headers.update(FORM_HEADERS)
    session.trust_env = False
    return session


_BASE64 = re.compile(r"[A-Za-z0-9+/=]*")


def form_body(form: Mapping[str, str]) -> str:
    """application/x-www-form-urlencoded, as requests would write it, but fast for a base64 file.

    urllib quotes character by character in Python: 1 ms for a 30 KB base64 credential, per call.
    Base64 needs only three characters escaped: three str.replace calls do it in 0.06 ms (str.translate
    with a mapping would take 2 ms).
    """
    return "&".join(f"{quote_plus(name)}={_quote_value(value)}" for name, value in form.items())


def _quote_value(value: str) -> str:
    if len(value) > 256 and _BASE64.fullmatch(value):
        return value.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    return quote_plus(value)


def _answer(function: str, response: requests.Response) -> Any:
    status = response.status_code
    if status >= 500 or status in (408, 429):
        raise DeliveryError(f"moodle: {function}: HTTP {status} from Moodle", retryable=True)
    if status in (401, 403):
        raise DeliveryError(f"moodle: {function}: HTTP {status} (access refused)", retryable=False)
    if status != 200:
        raise DeliveryError(f"moodle: {function}: unexpected HTTP {status}", retryable=status >= 500)
    try:
        body = response.json()
    except ValueError:
        # A PHP notice or a maintenance page instead of JSON: likely to pass, but say what came back.
        snippet = response.text[:120].replace("\n", " ")
        raise DeliveryError(f"moodle: {function}: answer is not JSON: {snippet!r}", retryable=True) from None
    if isinstance(body, dict) and "exception" in body:
        code = str(body.get("errorcode") or "")
        message = str(body.get("message") or body.get("exception"))
        retryable = code in TRANSIENT_ERRORS or (code not in PERMANENT_ERRORS and "dml" in code)
        raise MoodleError(f"moodle: {function}: {code or 'error'}: {message}", retryable=retryable, code=code)
    return body
