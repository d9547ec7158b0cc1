"""The harness's own guarantees: a missing package fails CI instead of skipping, and a wait ends at
its deadline or as soon as a watched process dies, with that process's output."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from sched_harness import Processes, require_packages, wait_until

MISSING = "wd_no_such_package_f3a1"


def test_a_missing_package_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_REQUIRE_POSTGRES", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"not installed: {MISSING}"):
        require_packages(["pytest", MISSING])


def test_a_missing_package_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_REQUIRE_POSTGRES", "1")
    with pytest.raises(pytest.fail.Exception, match=f"WATCHDOG_REQUIRE_POSTGRES=1.*{MISSING}"):
        require_packages([MISSING])


def test_installed_packages_pass() -> None:
    require_packages(["pytest", "psycopg"])


def test_wait_returns_the_condition_value() -> None:
    calls = iter([None, [], {"id": 1}])
    assert wait_until(lambda: next(calls), 5, "a row") == {"id": 1}


def test_wait_fails_at_its_deadline() -> None:
    with pytest.raises(pytest.fail.Exception, match="timed out after 0.3s waiting for nothing"):
        wait_until(lambda: None, 0.3, "nothing")


def test_wait_fails_at_once_when_a_watched_process_dies_with_its_output(tmp_path: Path) -> None:
    processes = Processes(tmp_path)
    proc = processes.start("crasher", ["-c", "print('bad settings'); raise SystemExit(3)"], os.environ)
    proc.popen.wait(timeout=30)
    with pytest.raises(pytest.fail.Exception, match="(?s)crasher exited waiting for a row.*bad settings"):
        wait_until(lambda: None, 60, "a row", [proc])


def _running(pid: int) -> bool:
    """Whether `pid` is alive: a killed child no one has reaped yet is a zombie, not running."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_kill_all_ends_the_process_and_its_children(tmp_path: Path) -> None:
    processes = Processes(tmp_path)
    script = ("import subprocess, sys, time\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
              "print('child', child.pid, flush=True)\n"
              "time.sleep(60)\n")
    proc = processes.start("parent", ["-c", script], os.environ)
    line = wait_until(lambda: [word for word in proc.log_tail().split() if word.isdigit()], 30, "the child", [proc])
    child = int(line[0])
    assert _running(child)
    processes.kill_all()
    assert proc.popen.returncode == -9
    wait_until(lambda: not _running(child), 5, "the child to die")
