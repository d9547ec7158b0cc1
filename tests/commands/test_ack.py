"""`watchdog ack` against a real `watchdog run` process on PostgreSQL: exit codes, messages, and the
token never printed."""
from __future__ import annotations

import subprocess
import uuid
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from run_helpers import HOOK, INCIDENT, JOBS_TABLE, Runner, documents, sql, terminate

from artifacts.conftest import receiver  # noqa: F401 (the HTTP receiver fixture)
from artifacts.servers import Daemon, Receiver, eventually, free_port

TOKEN = "ack-cli-token-5678"


@pytest.fixture
def runner(postgres_dsn: str, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runner]:
    """jobs_stuck violated, $WATCHDOG_API_TOKEN set (for the daemon, and as the CLI's default token)."""
    sql(postgres_dsn, JOBS_TABLE)
    sql(postgres_dsn, INCIDENT)
    monkeypatch.setenv("WATCHDOG_API_TOKEN", TOKEN)
    made = Runner(tmp_path)
    made.write(postgres_dsn, f"{receiver.url}{HOOK}")
    yield made
    made.close()


@pytest.fixture
def daemon(runner: Runner, receiver: Receiver) -> Daemon:
    """`watchdog run` with jobs_stuck firing."""
    started = runner.start()
    eventually(lambda: documents(receiver, "firing"), "the first page")
    return started


def ack(daemon: Daemon, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "watchdog", "ack", *args, "--url", daemon.url],
                          capture_output=True, text=True, timeout=60, check=False)


def alert(daemon: Daemon) -> dict[str, object]:
    [found] = [a for a in requests.get(f"{daemon.url}/api/v1/status", timeout=5).json()["alerts"] if a["rule"] == "jobs_stuck"]
    return found


@pytest.mark.postgres
def test_ack_acknowledges_the_firing_alert_and_exits_0(daemon: Daemon) -> None:
    done = ack(daemon, "jobs_stuck", "--target", "main", "--for", "4h", "--comment", "draining", "--by", "ana")
    assert done.returncode == 0, done.stderr
    assert "acknowledged jobs_stuck on main until" in done.stdout and "draining" in done.stdout
    assert TOKEN not in done.stdout + done.stderr
    ack_shown = alert(daemon)["ack"]
    assert isinstance(ack_shown, dict) and (ack_shown["by"], ack_shown["comment"]) == ("ana", "draining")
    assert TOKEN not in daemon.log.read_text()
    assert "acknowledged" in daemon.log.read_text()


@pytest.mark.postgres
@pytest.mark.parametrize(("args", "message"), [
    (["jobs_stuck", "--for", "4h", "--comment", "x", "--token", "wrong-token"], "not acknowledged (401)"),
    (["no_such_rule", "--for", "4h", "--comment", "x"], "not acknowledged (404): no rule 'no_such_rule'"),
    (["jobs_stuck", "--target", "nowhere", "--for", "4h", "--comment", "x"], "not acknowledged (404)"),
    (["jobs_stuck", "--for", "4 hours", "--comment", "x"], "bad duration"),
    (["jobs_stuck", "--for", "4h"], "--comment"),
])
def test_a_refused_or_bad_ack_exits_2_with_the_reason_and_no_traceback(daemon: Daemon, args: list[str], message: str) -> None:
    done = ack(daemon, *args)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and TOKEN not in done.stdout + done.stderr
    assert alert(daemon)["ack"] is None


@pytest.mark.postgres
def test_ack_of_a_rule_without_a_firing_alert_exits_2(daemon: Daemon, postgres_dsn: str) -> None:
    assert ack(daemon, "jobs_stuck", "--for", "1h", "--comment", "x").returncode == 0
    sql(postgres_dsn, "UPDATE jobs SET status = 'done'")
    eventually(lambda: not requests.get(f"{daemon.url}/api/v1/status", timeout=5).json()["alerts"], "the alert to resolve")
    done = ack(daemon, "jobs_stuck", "--for", "1h", "--comment", "x")
    assert done.returncode == 2 and "(409)" in done.stderr


def test_an_unreachable_daemon_exits_3(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "watchdog", "ack", "jobs_stuck", "--for", "1h", "--comment", "x",
                           "--token", TOKEN, "--url", f"http://127.0.0.1:{free_port()}"],
                          capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path)
    assert done.returncode == 3 and "cannot reach watchdog" in done.stderr and TOKEN not in done.stderr


def test_without_any_token_ack_exits_2_saying_where_to_put_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_API_TOKEN", raising=False)
    monkeypatch.delenv("WATCHDOG_CONFIG", raising=False)
    done = subprocess.run([sys.executable, "-m", "watchdog", "ack", "jobs_stuck", "--for", "1h", "--comment", "x"],
                          capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path)
    assert done.returncode == 2 and "no API token" in done.stderr and "Traceback" not in done.stderr


def test_the_token_defaults_to_api_token_of_the_rule_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Read from -c, then sent: an unreachable daemon shows that the token was found (3, not 2).
    monkeypatch.delenv("WATCHDOG_API_TOKEN", raising=False)
    rules = tmp_path / "rules.yaml"
    rules.write_text(f'version: 1\ntargets:\n  main: {{dsn: "sqlite:///x.db"}}\napi: {{token: "{TOKEN}"}}\nrules: []\n')
    done = subprocess.run([sys.executable, "-m", "watchdog", "ack", "jobs_stuck", "--for", "1h", "--comment", "x",
                           "-c", str(rules), "--url", f"http://127.0.0.1:{free_port()}"],
                          capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path)
    assert done.returncode == 3 and TOKEN not in done.stderr, done.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("shared", [False, True], ids=["sqlite-state", "postgresql-state"])
def test_a_restart_keeps_the_ack(runner: Runner, receiver: Receiver, postgres_dsn: str, shared: bool) -> None:
    schema = f"wd_state_{uuid.uuid4().hex[:10]}"
    state = ["--state", f"{postgres_dsn}{'&' if '?' in postgres_dsn else '?'}schema={schema}"] if shared else []
    try:
        _restart_keeps_the_ack(runner, receiver, state)
    finally:
        sql(postgres_dsn, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _restart_keeps_the_ack(runner: Runner, receiver: Receiver, state: list[str]) -> None:
    first = runner.start(*state)
    eventually(lambda: documents(receiver, "firing"), "the first page")
    assert ack(first, "jobs_stuck", "--for", "4h", "--comment", "draining", "--by", "ana").returncode == 0
    assert terminate(first) == 0
    second = runner.start(*state)
    shown = alert(second)["ack"]
    assert isinstance(shown, dict) and (shown["by"], shown["comment"]) == ("ana", "draining")
    assert len(documents(receiver, "firing")) == 1  # and the restart paged nobody again
