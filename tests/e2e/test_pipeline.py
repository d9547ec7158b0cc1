"""An incident in the database becomes a page through Prometheus and Alertmanager, and its fix
resolves it; every PromQL expression of the dashboard and of the alert rules returns series from the
real metrics; the runtime's direct Alertmanager notifier reaches the real Alertmanager."""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from artifacts.servers import Daemon, Receiver, eventually, http_json, instant_query
from artifacts.tools import RULES_FILE, alert_rules, dashboard_expressions, load_dashboard
from e2e.pipeline import Pipeline, start_pipeline

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

# Alerts whose condition a short test cannot bring about: only their metrics are required to exist.
QUIET = {
    "WatchdogProbeErrors": "needs a probe that fails now and then but runs now (up == 1)",
    "WatchdogEvaluationsStale": "needs a rule not evaluated for 15 minutes",
    "WatchdogConfigReloadFailed": "needs a rule file refused at reload (tests/commands/test_run_reload.py)",
    "unreachable_probe": "its probe never runs, so it never finds a violation",
}
# Alerts that need watchdog gone: checked after it is stopped.
WATCHDOG_GONE = {"WatchdogDown", "WatchdogAbsent"}
SELECTOR = re.compile(r"\b(?:watchdog_\w+|up)(?:\{[^}]*\})?")


@pytest.fixture
def pipeline(postgres_dsn: str, prometheus_binary: str, alertmanager_binary: str, receiver: Receiver,
             tmp_path: Path) -> Iterator[Pipeline]:
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE jobs (id serial PRIMARY KEY, status text NOT NULL, created_at timestamptz NOT NULL)")
        conn.execute("INSERT INTO jobs (status, created_at) VALUES ('done', now() - interval '1 hour')")
    started = start_pipeline(postgres_dsn, (prometheus_binary, alertmanager_binary), receiver, tmp_path)
    yield started
    started.stop()


def sql(dsn: str, statement: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(statement)


def prometheus_pages(receiver: Receiver, alertname: str, status: str) -> list[dict[str, Any]]:
    """Pager webhook deliveries about `alertname` that came through Prometheus (they carry `job`)."""
    return [page for page in receiver.at("/pager") if page["status"] == status
            and any(a["labels"]["alertname"] == alertname and a["labels"].get("job") == "watchdog" for a in page["alerts"])]


def expressions(pipeline: Pipeline) -> dict[str, str]:
    found = {name: str(rule["expr"]) for path in (RULES_FILE, pipeline.generated_rules) for name, rule in alert_rules(path).items()}
    return found | dashboard_expressions(load_dashboard())


def wait_for_series(prometheus: Daemon, exprs: dict[str, str], timeout: float) -> None:
    """Each expression returns series at some point within `timeout`; fails naming those that never did."""
    pending = dict(exprs)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        pending = {name: expr for name, expr in pending.items() if not instant_query(prometheus, expr)}
        time.sleep(0.5 if pending else 0)
    assert not pending, f"no series within {timeout:.0f}s from {pending}"


def test_an_incident_pages_and_its_fix_resolves_through_prometheus_and_alertmanager(pipeline: Pipeline, postgres_dsn: str,
                                                                                      receiver: Receiver) -> None:
    began = time.monotonic()
    sql(postgres_dsn, "INSERT INTO jobs (status, created_at) VALUES ('pending', now() - interval '1 hour')")

    [page] = eventually(lambda: prometheus_pages(receiver, "jobs_stuck", "firing"), "the page through Prometheus", timeout=60)
    [alert] = [a for a in page["alerts"] if a["labels"].get("job") == "watchdog"]
    labels = dict(alert["labels"])
    assert labels.pop("instance").startswith("127.0.0.1:")
    assert labels == {"alertname": "jobs_stuck", "rule": "jobs_stuck", "target": "main", "check": "stuck",
                      "severity": "critical", "job": "watchdog"}
    assert alert["annotations"] == {"summary": "1 jobs pending for more than 5 minutes",
                                    "description": "The stuck check of rule jobs_stuck on target main found 1 violations.",
                                    "runbook_url": "https://example.org/runbooks/jobs-stuck"}
    assert eventually(lambda: receiver.at("/heartbeat"), "the dead man's switch")

    # While the incident lasts, every expression returns series, except the quiet alerts'.
    exprs = expressions(pipeline)
    gone = {name: exprs.pop(name) for name in WATCHDOG_GONE}
    quiet = {name: exprs.pop(name) for name in QUIET}
    wait_for_series(pipeline.prometheus, exprs, timeout=30)
    for name, expr in quiet.items():
        for selector in SELECTOR.findall(expr):
            assert instant_query(pipeline.prometheus, selector), f"{name}: {selector} has no series"

    # The runtime's own notifier posted the same rule's alert to the same Alertmanager.
    direct = eventually(lambda: [a for a in http_json(f"{pipeline.alertmanager.url}/api/v2/alerts?filter=rule%3D%22jobs_stuck%22")
                                 if "job" not in a["labels"]], "the runtime's alert in Alertmanager")
    assert direct[0]["labels"]["alertname"] == "jobs_stuck" and direct[0]["labels"]["target"] == "main"

    sql(postgres_dsn, "UPDATE jobs SET status = 'done'")
    eventually(lambda: prometheus_pages(receiver, "jobs_stuck", "resolved"), "the resolution through Prometheus", timeout=60)

    pipeline.watchdog.stop()
    wait_for_series(pipeline.prometheus, gone, timeout=15)
    print(f"end to end in {time.monotonic() - began:.1f}s")
