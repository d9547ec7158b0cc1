"""The metrics of product.md, produced at scrape time from the ledger by one collector.

Our own registry, never prometheus_client's global one, so an embedding process keeps its own
metrics apart. Every series is built from a snapshot: a scrape never runs SQL.

A probe that could not run sets `watchdog_rule_up` to 0 and leaves `watchdog_rule_violations` and
`watchdog_rule_value` at the figures of the last evaluation that ran (NaN before the first one), so
an alert on violations neither fires nor resolves because a probe failed.
"""
from __future__ import annotations

import math
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from watchdog import __version__
from watchdog.runtime.ledger import Ledger, RuleLine

RULE = ["rule", "target"]


def _value(line: RuleLine) -> float:
    ran = line.last_ran
    return math.nan if ran is None or ran.value is None else float(ran.value)


class RuntimeCollector(Collector):
    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def collect(self) -> Iterator[Metric]:
        snap = self._ledger.snapshot()
        violations = GaugeMetricFamily("watchdog_rule_violations", "Violations found by the rule's last evaluation that ran.",
                                       labels=["rule", "target", "check", "severity"])
        up = GaugeMetricFamily("watchdog_rule_up", "1 if the rule's last probe ran, 0 if it failed.", labels=RULE)
        value = GaugeMetricFamily("watchdog_rule_value", "The measured figure: ratio, age in seconds, count.", labels=RULE)
        evaluated = GaugeMetricFamily("watchdog_rule_last_evaluation_timestamp_seconds",
                                      "Unix time of the rule's last evaluation, whether it ran or failed.", labels=RULE)
        duration = HistogramMetricFamily("watchdog_probe_duration_seconds", "Time the rule's probe took.", labels=RULE)
        errors = CounterMetricFamily("watchdog_probe_errors", "Evaluations whose probe could not run.", labels=RULE)
        skipped = CounterMetricFamily("watchdog_evaluations_skipped",
                                      "Evaluations skipped because the previous one was still running.", labels=RULE)
        silenced = GaugeMetricFamily("watchdog_rule_silenced", "1 while a silence of the rule file quiets the rule's "
                                     "pages (it is still evaluated), else 0.", labels=RULE)
        for line in snap.rules:
            labels = [line.rule.name, line.rule.target]
            silenced.add_metric(labels, 1 if (line.rule.name, line.rule.target) in snap.silenced else 0)
            errors.add_metric(labels, line.errors)
            skipped.add_metric(labels, line.skipped)
            duration.add_metric(labels, line.durations.cumulative(), line.durations.total)
            if line.latest is None:
                continue
            ran = line.last_ran
            violations.add_metric([*labels, line.rule.check, line.rule.severity], math.nan if ran is None else ran.violations)
            up.add_metric(labels, 0 if line.latest.status == "error" else 1)
            value.add_metric(labels, _value(line))
            evaluated.add_metric(labels, line.latest.evaluated_at.timestamp())
        targets = GaugeMetricFamily("watchdog_target_up", "1 if the target answered the last connection attempt.", labels=["target"])
        for name, reachable in sorted(snap.targets.items()):
            targets.add_metric([name], 1 if reachable else 0)
        notifications = CounterMetricFamily("watchdog_notifications", "Delivery attempts by outcome (sent, retry, failed).",
                                            labels=["notifier", "result"])
        for (notifier, result), count in sorted(snap.notifications.items()):
            notifications.add_metric([notifier, result], count)
        splits = CounterMetricFamily("watchdog_batch_splits", "Batch queries that failed with an SQL error and were "
                                     "split into their rules' own probes from then on.", labels=["target"])
        for name, count in sorted(snap.splits.items()):
            splits.add_metric([name], count)
        state_errors = CounterMetricFamily("watchdog_state_errors", "Writes or reads of the state file that failed "
                                           "(what could not be written is kept in memory and tried again).")
        state_errors.add_metric([], snap.state_errors)
        build = GaugeMetricFamily("watchdog_build_info", "Always 1; the version is a label.", labels=["version"])
        build.add_metric([__version__], 1)
        yield from (violations, up, value, evaluated, duration, errors, skipped, silenced, targets, notifications, splits, state_errors,
                    build)
        if snap.reload is not None:  # `watchdog run` (and an embedding Watchdog), whose rule file can be reloaded
            yield GaugeMetricFamily("watchdog_config_last_reload_successful",
                                    "1 if the last reload of the rule file took, 0 if it was refused (the rules before it run on).",
                                    value=1 if snap.reload.successful else 0)
            yield GaugeMetricFamily("watchdog_config_last_reload_success_timestamp_seconds",
                                    "Unix time of the last reload that took (or of the start).", value=snap.reload.success_at)


def registry_for(ledger: Ledger) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RuntimeCollector(ledger))
    return registry
