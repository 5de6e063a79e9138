"""Driving a throwaway local Moodle from the end-to-end tests: CLI scripts, a browser-like session, the web service."""
from __future__ import annotations

import html
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

HERE = Path(__file__).resolve().parent


def code_dir(moodle_dir: str) -> str:
    """Where Moodle's code is: `public/` from Moodle 5.1 on (config.php stays at the root), else the root."""
    public = Path(moodle_dir, "public")
    return str(public) if (public / "version.php").is_file() else moodle_dir


def php(moodle_dir: str, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    """Runs a PHP CLI script with the Moodle CLI's needed max_input_vars; returns stdout, raises on failure.

    Relative script paths (admin/cli/...) are Moodle's code paths, so the command runs in code_dir()."""
    run = subprocess.run(["php", "-d", "max_input_vars=5000", *args], cwd=code_dir(moodle_dir), input=stdin, text=True,
                         capture_output=True, env={**os.environ, **(env or {})}, timeout=300)
    if run.returncode != 0:
        raise RuntimeError(f"php {' '.join(args)} failed ({run.returncode}): {run.stdout[-2000:]} {run.stderr[-2000:]}")
    return run.stdout


def probe(moodle_dir: str, *args: str, stdin: str | None = None) -> Any:
    out = php(moodle_dir, str(HERE / "moodle_probe.php"), *args, stdin=stdin,
              env={"EDC_E2E_MOODLE_DIR": moodle_dir})
    last = out.strip().splitlines()[-1]
    return json.loads(last) if last.startswith("{") else last


def run_adhoc_tasks(moodle_dir: str) -> str:
    return php(moodle_dir, "admin/cli/adhoc_task.php", "--execute", "--force", "--ignorelimits")


def run_completion_task(moodle_dir: str) -> str:
    return php(moodle_dir, "admin/cli/scheduled_task.php", r"--execute=\core\task\completion_regular_task")


class Browser:
    """A logged-in Moodle user over plain HTTP (cookies, sesskey), like a browser without JavaScript."""

    def __init__(self, wwwroot: str, username: str, password: str):
        self.wwwroot = wwwroot.rstrip("/")
        self.session = requests.Session()
        page = self.session.get(self.wwwroot + "/login/index.php", timeout=30).text
        token = re.search(r'name="logintoken" value="([^"]+)"', page)
        answer = self.session.post(self.wwwroot + "/login/index.php", data={
            "username": username, "password": password, "logintoken": token.group(1) if token else ""}, timeout=30)
        if "MoodleSession" not in self.session.cookies or "loginerrormessage" in answer.text:
            raise RuntimeError(f"login as {username} failed")
        self.sesskey = self._sesskey(self.get("/my/").text)

    @staticmethod
    def _sesskey(page: str) -> str:
        found = re.search(r'"sesskey":"([^"]+)"', page)
        if not found:
            raise RuntimeError("no sesskey in page")
        return found.group(1)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.wwwroot + path if path.startswith("/") else path, timeout=60, **kwargs)

    def post(self, path: str, data: Any, **kwargs: Any) -> requests.Response:
        return self.session.post(self.wwwroot + path, data=data, timeout=60, **kwargs)


def form_fields(page: str, form_id_fragment: str = "mform") -> list[tuple[str, str]]:
    """The submitted name/value pairs of the first Moodle form on a page (inputs, textareas, selected options)."""
    start = page.index("<form", page.index(form_id_fragment) - 400 if form_id_fragment in page else 0)
    end = page.index("</form>", start)
    form = page[start:end]
    fields: list[tuple[str, str]] = []
    for tag in re.finditer(r"<input\b[^>]*>", form):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', tag.group(0)))
        kind = attrs.get("type", "text")
        if "name" not in attrs or kind in ("submit", "button", "image"):
            continue
        if kind == "checkbox" and "checked" not in tag.group(0):
            continue
        fields.append((attrs["name"], html.unescape(attrs.get("value", ""))))
    for area in re.finditer(r"<textarea\b[^>]*name=\"([^\"]+)\"[^>]*>(.*?)</textarea>", form, re.S):
        fields.append((area.group(1), html.unescape(area.group(2))))
    for select in re.finditer(r"<select\b[^>]*name=\"([^\"]+)\"[^>]*>(.*?)</select>", form, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(2))
        first = re.search(r'<option value="([^"]*)"', select.group(2))
        value = chosen.group(1) if chosen else (first.group(1) if first else "")
        fields.append((select.group(1), html.unescape(value)))
    return fields


def web_service(wwwroot: str, token: str, function: str, params: dict[str, Any]) -> Any:
    """Calls a web service function over REST with the token in the POST body."""
    answer = requests.post(wwwroot.rstrip("/") + "/webservice/rest/server.php",
                           data={"wstoken": token, "wsfunction": function, "moodlewsrestformat": "json", **params},
                           timeout=60)
    answer.raise_for_status()
    return answer.json()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


class LivePage:
    """Debian's Chromium (Playwright) on the live site, logged in with a Browser's session cookie, so what
    JavaScript draws is there and Moodle's own AJAX calls run as in a person's browser."""

    def __init__(self, browser: Browser, width: int = 1280, height: int = 1000):
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._chromium = self._playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                                          headless=True)
        self.context = self._chromium.new_context(viewport={"width": width, "height": height})
        host = urlsplit(browser.wwwroot).hostname
        self.context.add_cookies([{"name": c.name, "value": c.value, "domain": host, "path": c.path or "/"}
                                  for c in browser.session.cookies])
        self.wwwroot = browser.wwwroot
        self.page = self.context.new_page()
        self.page.set_default_timeout(20000)
        self.console_errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.console_errors.append(str(exc)))
        self.page.on("response", self._response)

    def _console(self, message: Any) -> None:
        # Offline, resources Moodle links from other hosts (no DNS here) fail: not the page's fault.
        if message.type == "error" and "net::ERR_NAME_NOT_RESOLVED" not in message.text:
            self.console_errors.append(message.text)

    def _response(self, response: Any) -> None:
        if response.url.startswith(self.wwwroot) and response.status >= 500:
            self.console_errors.append(f"HTTP {response.status} from {response.url}")

    def open(self, path: str) -> Any:
        self.page.goto(self.wwwroot + path, wait_until="networkidle")
        return self.page

    def close(self) -> None:
        self.context.close()
        self._chromium.close()
        self._playwright.stop()

    def __enter__(self) -> "LivePage":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def screenshot(browser: Browser, path: str, name: str) -> list[str]:
    """A full-page screenshot of the live page (when EDC_E2E_SCREENSHOTS names a folder); returns the
    JavaScript errors the page logged, so a test can assert there were none."""
    folder = os.environ.get("EDC_E2E_SCREENSHOTS")
    if not folder or not CHROMIUM.exists():
        return []
    Path(folder).mkdir(parents=True, exist_ok=True)
    with LivePage(browser) as live:
        live.open(path).screenshot(path=str(Path(folder, name + ".png")), full_page=True)
        return live.console_errors
