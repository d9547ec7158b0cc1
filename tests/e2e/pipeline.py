"""The whole alerting path on real processes: PostgreSQL <- `watchdog run` -> Prometheus (the alert
rules of alerts/ and of `watchdog render`) -> Alertmanager (the example configuration) -> receiver."""
from __future__ import annotations

import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from artifacts.servers import Daemon, Receiver, example_alertmanager_config, free_port, start_alertmanager, start_prometheus
from artifacts.tools import ALERTMANAGER_EXAMPLE, RULES_FILE, run_tool
from jobs_rule import JOBS_STUCK

RULES = """
version: 1
targets:
  main: {{dsn: "{dsn}", statement_timeout: 5s}}
  broken: {{dsn: "postgresql://watchdog@127.0.0.1:{closed_port}/none", connect_timeout: 1s}}
defaults: {{interval: 1s, severity: critical}}
notify:
  alertmanager: {{url: "{alertmanager}"}}
  webhook: {{url: "http://127.0.0.1:{closed_port}/hook"}}
rules:
""" + JOBS_STUCK + """    for: 2s
    runbook_url: https://example.org/runbooks/jobs-stuck
  - name: unreachable_probe
    check: sql
    target: broken
    query: SELECT 1
"""


@dataclass
class Pipeline:
    alertmanager: Daemon
    watchdog: Daemon
    prometheus: Daemon
    generated_rules: Path

    def stop(self) -> None:
        for daemon in (self.prometheus, self.watchdog, self.alertmanager):
            daemon.stop()


def start_pipeline(dsn: str, binaries: tuple[str, str], receiver: Receiver, workdir: Path) -> Pipeline:
    prometheus_binary, alertmanager_binary = binaries
    alertmanager = start_alertmanager(alertmanager_binary, example_alertmanager_config(ALERTMANAGER_EXAMPLE, receiver, workdir), workdir)
    rules = workdir / "rules.yaml"
    rules.write_text(textwrap.dedent(RULES).format(dsn=dsn, closed_port=free_port(), alertmanager=alertmanager.url))
    generated = workdir / "generated.rules.yml"
    run_tool([sys.executable, "-m", "watchdog", "render", "prometheus-rules", "-c", str(rules), "-o", str(generated)])
    port = free_port()
    watchdog = Daemon([sys.executable, "-m", "watchdog", "run", "-c", str(rules), "--listen", f"127.0.0.1:{port}",
                       "--state", str(workdir / "state.db")], port, workdir / "watchdog.log", ready="/metrics")
    prometheus = start_prometheus(prometheus_binary, {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES_FILE), str(generated)],
        "scrape_configs": [{"job_name": "watchdog", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager.url.removeprefix("http://")]}]}]},
    }, workdir)
    return Pipeline(alertmanager, watchdog, prometheus, generated)
