"""`watchdog run` reloading its rule file while it runs, as a real process over SQLite with a real
webhook receiver (issue 14's "Done when": SIGHUP with a changed, a broken and an unchanged file),
and POST /-/reload with and without the token."""
from __future__ import annotations

import signal
import sqlite3
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from run_helpers import Runner, documents, labels, scrape, series, terminate

from artifacts.conftest import receiver  # noqa: F401 (the HTTP receiver fixture)
from artifacts.servers import Daemon, Receiver, bearer_post, eventually
from hourly_rules import DONE, FAILED, WITH_TOKEN
from jobs_rule import JOBS_STUCK

TOKEN = "reload-token-of-the-test"
FAILED_2H = FAILED.replace("    expect:", "    interval: 2h\n    expect:")  # a unit of its own
DONE_3H = DONE + "    interval: 3h\n"
DONE_CHANGED = DONE_3H + '    expect: ">= 1"\n'  # the same verdicts, another definition: changed
PENDING = """  - {{name: jobs_pending, check: count, table: jobs, where: {{status: pending}}, expect: "== 0", interval: 4h}}
"""


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[Runner]:
    made = Runner(tmp_path)
    yield made
    made.close()


@pytest.fixture
def jobs_db(tmp_path: Path) -> Path:
    """A scheduler's SQLite database with a failed job (jobs_failed is violated from the start) and a done one."""
    path = tmp_path / "scheduler.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL)")
        conn.execute("INSERT INTO jobs (status, created_at) VALUES ('failed', datetime('now'))")
        conn.execute("INSERT INTO jobs (status, created_at) VALUES ('done', datetime('now'))")
    return path


def write(runner: Runner, db: Path, receiver: Receiver, *rules: str) -> None:
    text = WITH_TOKEN.format(db=db, hook=f"{receiver.url}/hook", token=TOKEN).lstrip() + "".join(r.format() for r in rules)
    runner.rules.write_text(text, encoding="utf-8")


def evaluations(daemon: Daemon) -> dict[str, int]:
    """How many times each rule exported has been evaluated (its probe-duration count)."""
    counts = series(scrape(daemon)["watchdog_probe_duration_seconds"], "_count")
    return {dict(key)["rule"]: int(value) for key, value in counts.items()}


def reload_gauges(daemon: Daemon) -> tuple[float, float]:
    families = scrape(daemon)
    return (series(families["watchdog_config_last_reload_successful"])[frozenset()],
            series(families["watchdog_config_last_reload_success_timestamp_seconds"])[frozenset()])


def hang_up(daemon: Daemon, until: str, condition: Callable[[], object]) -> None:
    daemon.process.send_signal(signal.SIGHUP)
    eventually(condition, until, timeout=20)


def post(daemon: Daemon, token: str | None) -> tuple[int, str]:
    return bearer_post(f"{daemon.url}/-/reload", token)


def test_sighup_with_a_changed_a_broken_and_an_unchanged_file_while_running(runner: Runner, jobs_db: Path,
                                                                         receiver: Receiver) -> None:
    write(runner, jobs_db, receiver, JOBS_STUCK, FAILED_2H, DONE_3H)
    daemon = runner.start()
    eventually(lambda: documents(receiver, "firing"), "jobs_failed's page")
    assert evaluations(daemon) == {"jobs_stuck": 1, "jobs_failed": 1, "jobs_done": 1}
    ok, started = reload_gauges(daemon)
    assert ok == 1 and abs(started - time.time()) < 60

    # Changed: jobs_stuck moves behind a comment (unchanged), jobs_done changes, jobs_failed goes,
    # jobs_pending comes.
    write(runner, jobs_db, receiver, "  # reordered\n", DONE_CHANGED, PENDING, JOBS_STUCK)
    hang_up(daemon, "the changed and the new rule evaluated after SIGHUP",
            lambda: evaluations(daemon) == {"jobs_stuck": 1, "jobs_done": 2, "jobs_pending": 1})
    [resolved] = eventually(lambda: documents(receiver, "resolved"), "jobs_failed's resolve")
    assert (resolved["rule"], len(documents(receiver))) == ("jobs_failed", 2)
    ok, changed_at = reload_gauges(daemon)
    assert ok == 1 and changed_at > started

    # Broken: refused, logged with its place, the rules loaded before run on and /-/healthy stays green.
    runner.rules.write_text(runner.rules.read_text().replace("check: count", "check: countt"), encoding="utf-8")
    hang_up(daemon, "the refused reload in the metrics", lambda: reload_gauges(daemon) == (0, changed_at))
    log = daemon.log.read_text()
    assert f"reload refused: {runner.rules}:11:12: rule 'jobs_done': unknown check 'countt'" in log
    assert f"reload refused: {runner.rules}:16:33: rule 'jobs_pending': unknown check 'countt'" in log
    assert "Traceback" not in log and TOKEN not in log
    assert evaluations(daemon) == {"jobs_stuck": 1, "jobs_done": 2, "jobs_pending": 1}
    with urllib.request.urlopen(f"{daemon.url}/-/healthy", timeout=5) as response:
        assert response.status == 200

    # Unchanged (the file as it ran before the broken one): taken, nothing runs again, nothing is sent.
    write(runner, jobs_db, receiver, "  # reordered\n", DONE_CHANGED, PENDING, JOBS_STUCK)
    hang_up(daemon, "the reload to take again", lambda: reload_gauges(daemon)[0] == 1)
    assert reload_gauges(daemon)[1] > changed_at
    assert evaluations(daemon) == {"jobs_stuck": 1, "jobs_done": 2, "jobs_pending": 1}
    assert len(documents(receiver)) == 2
    assert terminate(daemon) == 0


def test_post_reload_with_and_without_the_token(runner: Runner, jobs_db: Path, receiver: Receiver) -> None:
    write(runner, jobs_db, receiver, JOBS_STUCK)
    daemon = runner.start()
    assert post(daemon, None)[0] == 401
    assert post(daemon, "not-the-token")[0] == 401
    write(runner, jobs_db, receiver, JOBS_STUCK, DONE_3H)
    assert post(daemon, TOKEN) == (200, "reloaded: 1 added, 0 changed, 0 removed, 1 unchanged\n")
    eventually(lambda: labels(rule="jobs_done", target="main") in series(scrape(daemon)["watchdog_rule_up"]),
               "the new rule evaluated")
    runner.rules.write_text(runner.rules.read_text().replace("interval: 3h", "interval: soon"), encoding="utf-8")
    status, body = post(daemon, TOKEN)
    assert status == 400 and f"{runner.rules}:20:15: rule 'jobs_done'" in body
    assert terminate(daemon) == 0
