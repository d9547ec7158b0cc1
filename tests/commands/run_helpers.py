"""`watchdog run` as a real process for the command tests: its rule file, its processes (always
stopped after the test), its /metrics parsed the way Prometheus parses them, and the documents its
webhook delivered. Kept apart from the tests so each test reads as the behaviour it asserts."""
from __future__ import annotations

import hashlib
import hmac
import resource
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import psycopg
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from artifacts.servers import Daemon, Receiver, eventually, free_port

SECRET = "s3cret-signing-key"
SHUTDOWN_TIMEOUT = 3.0
# Python's own exit after the runtime stopped (thread joins, interpreter teardown) on a busy machine.
EXIT_GRACE = 2.0
HOOK = "/hook"
RULES = """
version: 1
targets:
  main: {{dsn: "{dsn}"}}
{extra_targets}
defaults: {{interval: 1s, for: 0s}}
notify:
  webhook: {{url: "{hook}", secret: "{secret}"}}
rules:
  - name: jobs_stuck
    check: stuck
    table: jobs
    where: {{status: pending}}
    time_column: created_at
    older_than: 5m
    severity: critical
    labels: {{team: scheduling}}
    summary: "{{{{ violations }}}} jobs pending for more than 5 minutes"
    description: "Jobs nobody picked up; is the worker running?"
    runbook_url: https://example.org/runbooks/jobs-stuck
{extra_rules}
"""
JOBS_TABLE = "CREATE TABLE jobs (id serial PRIMARY KEY, status text NOT NULL, created_at timestamptz NOT NULL)"
INCIDENT = "INSERT INTO jobs (status, created_at) VALUES ('pending', now() - interval '1 hour')"
FIX = "UPDATE jobs SET status = 'done'"
# product.md, "Notifications": the generic webhook's document.
DOCUMENT_FIELDS = {"status", "rule", "target", "check", "severity", "violations", "value", "samples", "summary",
                   "description", "runbook_url", "labels", "fingerprint", "starts_at", "ends_at"}


def sql(dsn: str, statement: str) -> None:
    """One statement, committed, as the scheduler would write it."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(statement)


class Runner:
    """Writes the rule file and starts `watchdog run` on it with one state file; every daemon it
    started is stopped by `close()`, so no test leaves a process behind."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.rules = workdir / "rules.yaml"
        self.state = workdir / "state.db"
        self.daemons: list[Daemon] = []

    def write(self, dsn: str, hook: str, extra_targets: str = "", extra_rules: str = "") -> Path:
        self.rules.write_text(RULES.format(dsn=dsn, hook=hook, secret=SECRET, extra_targets=extra_targets,
                                           extra_rules=extra_rules), encoding="utf-8")
        return self.rules

    def argv(self, *extra: str) -> list[str]:
        return [sys.executable, "-m", "watchdog", "run", "-c", str(self.rules), "--state", str(self.state),
                "--shutdown-timeout", f"{SHUTDOWN_TIMEOUT:g}s", *extra]

    def start(self, *extra: str) -> Daemon:
        """A daemon on a free port, returned once /-/ready says every rule has been evaluated."""
        port = free_port()
        log = self.workdir / f"watchdog-{len(self.daemons)}.log"
        daemon = Daemon(self.argv("--listen", f"127.0.0.1:{port}", *extra), port, log, ready="/-/ready")
        self.daemons.append(daemon)
        return daemon

    def run(self, *extra: str, max_file_size: int | None = None) -> subprocess.CompletedProcess[str]:
        """A run that is expected to end by itself (`--once`, or bad input). `max_file_size`: no file
        the process writes may grow past it (RLIMIT_FSIZE: a full disk, for that process only)."""
        def limit() -> None:
            if max_file_size is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_size, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
        return subprocess.run(self.argv(*extra), check=False, capture_output=True, text=True, timeout=60, preexec_fn=limit)

    def close(self) -> None:
        for daemon in self.daemons:
            daemon.stop()


def terminate(daemon: Daemon) -> int:
    """SIGTERM, then the exit code; a process still running after its --shutdown-timeout (and
    Python's exit) fails the test with subprocess.TimeoutExpired."""
    daemon.process.send_signal(signal.SIGTERM)
    return daemon.process.wait(timeout=SHUTDOWN_TIMEOUT + EXIT_GRACE)


def documents(receiver: Receiver, status: str | None = None) -> list[dict[str, Any]]:
    """The webhook documents received so far, in arrival order, optionally of one status."""
    return [d for d in receiver.at(HOOK) if status is None or d["status"] == status]


def signature_ok(receiver: Receiver, document: dict[str, Any]) -> bool:
    """Whether the delivery that carried `document` bears the HMAC-SHA256 of its exact body."""
    [delivery] = [d for d in receiver.deliveries if d.body == document]
    expected = "sha256=" + hmac.new(SECRET.encode(), delivery.raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest((delivery.headers or {}).get("X-Watchdog-Signature", ""), expected)


def scrape(daemon: Daemon) -> dict[str, Metric]:
    """GET /metrics, parsed by prometheus_client; families by name (counters lose `_total` there)."""
    with urllib.request.urlopen(f"{daemon.url}/metrics", timeout=5) as response:
        return {family.name: family for family in text_string_to_metric_families(response.read().decode())}


def series(family: Metric, suffix: str = "") -> dict[frozenset[tuple[str, str]], float]:
    """Sample values by label set, of the family's samples named `name + suffix` (`_total`, `_count`)."""
    return {frozenset(s.labels.items()): s.value for s in family.samples if s.name == family.name + suffix}


def labels(**pairs: str) -> frozenset[tuple[str, str]]:
    return frozenset(pairs.items())


def evaluations(daemon: Daemon) -> int:
    """How many times the daemon has evaluated jobs_stuck on main (its probe-duration count)."""
    counts = series(scrape(daemon)["watchdog_probe_duration_seconds"], "_count")
    return int(counts.get(labels(rule="jobs_stuck", target="main"), 0))


def after_evaluations(daemon: Daemon, more: int) -> None:
    """Returns once the daemon has evaluated the rule `more` times since the call: what a test waits
    for before asserting that those evaluations sent nothing. A process has no clock a test can move,
    so this counts what it did instead of sleeping and hoping it did something; the notification of
    one evaluation is out long before the next one (1s later), so all but the last are covered."""
    target = evaluations(daemon) + more
    eventually(lambda: evaluations(daemon) >= target, f"{more} more evaluations", timeout=10 + 5 * more)
