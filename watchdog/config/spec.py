"""The rule file's own keys: targets, defaults, notify and the keys common to every rule."""
from __future__ import annotations

from watchdog.validation.fields import (
    Bool, Duration, Enum, Field, Filter, Identifier, Int, MapOf, Obj, Raw, Str, StrList, StrMap, Template,
)

SEVERITIES = ("info", "warning", "critical")
TIME_UNITS = ("timestamp", "s", "ms")
RULE_NAME = r"[a-z][a-z0-9_]*"
# PostgreSQL takes statement_timeout in milliseconds as a 32-bit integer (24.8 days); 0 means none.
MAX_STATEMENT_TIMEOUT = 86400.0


def statement_timeout(doc: str, default: float | None = None) -> Duration:
    """A probe's time limit: never 0 (no limit at all), at most a day."""
    return Duration(doc=doc, default=default, minimum=0.001, maximum=MAX_STATEMENT_TIMEOUT)


def target_field() -> Obj:
    return Obj(doc="A database to probe.", fields={
        "dsn": Str(required=True, doc="postgresql://... or sqlite:///path; ${VAR} is expanded."),
        "statement_timeout": statement_timeout("Per-probe time limit on this target (1ms to 1d).", default=5.0),
        "connect_timeout": Duration(default=5.0, minimum=1.0, maximum=3600.0, doc="Time limit to open a connection (1s to 1h)."),
        "pool_size": Int(default=2, minimum=1, maximum=64, doc="Connections `watchdog run` keeps to this target."),
    })


def schedule_fields() -> dict[str, Field]:
    """Keys allowed both under `defaults` and on each rule."""
    return {
        "target": Identifier(doc="Which target the rule probes (default: the only target, or 'main')."),
        "interval": Duration(minimum=1.0, doc="How often `watchdog run` evaluates the rule (1s to 10 years)."),
        "for": Duration(doc="How long a violation must last before the alert fires (up to 10 years)."),
        "severity": Enum(choices=SEVERITIES),
        "samples": Int(minimum=0, maximum=100, doc="How many offending rows a result carries."),
        "statement_timeout": statement_timeout("Overrides the target's statement_timeout for this rule (1ms to 1d)."),
        "repeat_interval": Duration(minimum=1.0, doc="How often a firing alert is re-sent (1s to 10 years)."),
        "error_threshold": Int(minimum=1, doc="Failed evaluations in a row before `probe_failing` fires."),
        "labels": StrMap(doc="Extra labels on alerts."),
    }


DEFAULTS = {"interval": 60.0, "for": 0.0, "severity": "warning", "samples": 5, "repeat_interval": 4 * 3600.0, "error_threshold": 3}


def common_rule_fields() -> dict[str, Field]:
    return {
        "name": Str(required=True, pattern=RULE_NAME, pattern_hint="is not a valid rule name (lower-case letters, digits and _, starting with a letter)"),
        "check": Str(required=True, doc="The check kind (see `checks/`)."),
        "table": Identifier(qualified=True, doc="Table (or schema.table) the rule watches."),
        "where": Filter(doc="column: value | [values] | {op: value}; op in = != < <= > >= in not_in is_null."),
        "where_sql": Str(doc="A trusted raw SQL condition, ANDed with `where`."),
        "time_column": Identifier(doc="The column windows and ages are measured on."),
        "time_unit": Enum(choices=TIME_UNITS, doc="How time columns are stored: timestamp, epoch s or epoch ms."),
        "window": Duration(minimum=0.001, doc="Only rows whose time_column is within this window count (up to 10 years)."),
        **schedule_fields(),
        "summary": Template(doc="jinja2 one-liner for alerts; sees the rule and its result."),
        "description": Template(doc="jinja2 text for alerts."),
        "runbook_url": Str(),
        "tags": StrList(doc="Select rules with `watchdog check --tag`."),
        "enabled": Bool(default=True),
    }


def notify_field() -> Obj:
    timeout = Duration(default=10.0, minimum=0.001, maximum=3600.0, doc="HTTP request time limit (1ms to 1h).")
    return Obj(doc="Where `watchdog run` sends alerts; any subset. An empty URL disables a notifier.", fields={
        "slack": Obj(fields={"webhook_url": Str(required=True), "samples": Int(default=5, minimum=0, maximum=20), "timeout": timeout}),
        "webhook": Obj(fields={"url": Str(required=True), "secret": Str(), "headers": StrMap(), "timeout": timeout}),
        "alertmanager": Obj(fields={"url": Str(required=True), "generator_url": Str(), "timeout": timeout}),
    })


def top_fields() -> dict[str, Field]:
    return {
        "version": Int(required=True, minimum=1, maximum=1, doc="Always 1."),
        "targets": MapOf(required=True, item=target_field()),
        "defaults": Obj(fields=schedule_fields()),
        "notify": notify_field(),
        "check_paths": StrList(doc="Folders of your own check kinds (NAME.yaml + NAME.sql), relative to this file."),
        "rules": Raw(required=True, doc="The invariants."),
    }
