"""What scripts/moodle-e2e.sh and the e2e helpers decide without a Moodle: the 5.1 `public/` layout, and the
refusals that keep Moodle out of the repository and off the test suite's PostgreSQL (these run in `make test`)."""
from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from tests.e2e import moodle as m

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "moodle-e2e.sh"


def test_code_dir_is_public_from_moodle_5_1_on(tmp_path):
    root = tmp_path / "moodle"
    root.mkdir()
    (root / "config.php").write_text("<?php\n")
    assert m.code_dir(str(root)) == str(root)
    (root / "public").mkdir()
    assert m.code_dir(str(root)) == str(root), "a public/ folder without Moodle's version.php is not the 5.1 layout"
    (root / "public" / "version.php").write_text("<?php\n")
    assert m.code_dir(str(root)) == str(root / "public")


@pytest.fixture(scope="module")
def moodle_git(tmp_path_factory) -> tuple[Path, str]:
    """A tiny git repository that looks like Moodle 5.1 to the script (public/version.php with a release)."""
    repo = tmp_path_factory.mktemp("moodle-git")
    (repo / "public").mkdir()
    (repo / "public" / "version.php").write_text("<?php\n$release  = '5.1.2 (Build: 20251201)';\n")
    run = lambda *args: subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)
    run("init", "-q")
    run("add", ".")
    run("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "moodle")
    return repo / ".git", run("rev-parse", "HEAD").stdout.strip()


def script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def test_refuses_a_site_inside_the_repository(moodle_git):
    gitdir, commit = moodle_git
    inside = REPO / "var" / f"moodle-sites-{uuid.uuid4().hex[:8]}"
    run = script(str(gitdir), commit, "--sites", str(inside), "--no-phpunit", "--no-e2e")
    assert run.returncode != 0 and "inside the repository" in run.stderr
    assert not inside.exists()


def test_refuses_the_test_suites_postgresql_port_and_an_unknown_commit(moodle_git, tmp_path):
    gitdir, commit = moodle_git
    run = script(str(gitdir), commit, "--sites", str(tmp_path / "sites"), "--pg-port", "55432")
    assert run.returncode != 0 and "55432 is the test suite's PostgreSQL" in run.stderr
    run = script(str(gitdir), "0" * 40, "--sites", str(tmp_path / "sites"))
    assert run.returncode != 0 and "has no commit" in run.stderr
    assert not (tmp_path / "sites").exists()


def test_usage_is_printed_without_arguments():
    run = script()
    assert run.returncode == 2 and "GITDIR COMMIT" in run.stdout and "--exclude PATH" in run.stdout
