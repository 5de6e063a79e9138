"""A process collects no garbage while it starts, and collects again once started (bridge/startup.py).

Run in a fresh interpreter: the collector's state is the whole process's, and pytest's must not change."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import gc
from bridge import startup
frozen = gc.get_freeze_count()
startup.starting()
collections = gc.get_stats()[0]["collections"]
garbage = [[] for _ in range(20000)]  # far past the young generation's threshold
for item in garbage:
    item.append(item)  # cycles: only the collector frees them
del garbage
print(gc.isenabled(), gc.get_stats()[0]["collections"] - collections)
import xml.dom.minidom  # what starting loads: frozen when started
startup.started()
print(gc.isenabled(), gc.get_freeze_count() > frozen)
collections = gc.get_stats()[0]["collections"]
garbage = [[] for _ in range(20000)]
for item in garbage:
    item.append(item)
del garbage
print(gc.get_stats()[0]["collections"] > collections)
"""


def test_nothing_is_collected_while_starting_and_collection_resumes_once_started():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    while_starting, once_started, collects_again = done.stdout.splitlines()
    assert while_starting == "False 0", "the collector ran while the process was starting"
    assert once_started == "True True", "started() must re-enable the collector and freeze what starting made"
    assert collects_again == "True"
