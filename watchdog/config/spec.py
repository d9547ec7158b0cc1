"""The rule file's own keys: targets, defaults, notify and the keys common to every rule."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from watchdog.config.silences import SilencesField
from watchdog.model.values import TableSource
from watchdog.schedules.calendar import PERIODS
from watchdog.validation.fields import (
    Bool, Ctx, Duration, Enum, Field, Filter, GroupValues, Identifier, Identifiers, Int, Invalid, MapOf, Obj, Raw, Str,
    StrList, StrMap, Template, TimeZoneField,
)
from watchdog.validation.yamlsource import Node

SEVERITIES = ("info", "warning", "critical")
TIME_UNITS = ("timestamp", "s", "ms")
FILE_FORMATS = ("jsonl", "csv", "parquet")


@dataclass
class TableSources(MapOf):
    """`tables:` of a duckdb:// target: each name a TableSource, its relative glob made absolute
    against the rule file's directory (as check_paths are), so it reads the same files from anywhere."""

    def convert(self, node: Node, ctx: Ctx) -> dict[str, TableSource]:
        base = os.path.dirname(os.path.abspath(node.loc.file))
        return {name: TableSource(os.path.join(base, spec["path"]), spec["format"])
                for name, spec in super().convert(node, ctx).items()
                if spec and spec.get("path") is not None and spec.get("format") is not None}  # else reported


@dataclass
class TargetObj(Obj):
    """A target; `tables:` belongs to duckdb:// targets, which cannot do without it."""

    def convert(self, node: Node, ctx: Ctx) -> dict[str, Any]:
        out = super().convert(node, ctx)
        duckdb = str(out.get("dsn") or "").lower().startswith("duckdb:")
        if duckdb and not out.get("tables") and "tables" not in node.value:
            raise Invalid("a duckdb:// target needs 'tables:' (name: {path: GLOB, format: jsonl|csv|parquet})")
        if "tables" in node.value and out.get("dsn") is not None and not duckdb:
            ctx.add(node.value["tables"].key_loc, "'tables:' is for duckdb:// targets only (a database has its own tables)")
        return out


RULE_NAME = r"[a-z][a-z0-9_]*"
# PostgreSQL takes statement_timeout in milliseconds as a 32-bit integer (24.8 days); 0 means none.
MAX_STATEMENT_TIMEOUT = 86400.0


def statement_timeout(doc: str, default: float | None = None) -> Duration:
    """A probe's time limit: never 0 (no limit at all), at most a day."""
    return Duration(doc=doc, default=default, minimum=0.001, maximum=MAX_STATEMENT_TIMEOUT)


#: The defaults of a rule's keys (under `defaults:` a file may change them) and of a target's: the one
#: place they are set; the loader, the model's dataclasses and the JSON Schema all read them from here.
DEFAULTS = {"interval": 60.0, "for": 0.0, "severity": "warning", "samples": 5, "repeat_interval": 4 * 3600.0,
            "error_threshold": 3, "time_unit": "timestamp", "enabled": True}
TARGET_DEFAULTS = {"statement_timeout": 5.0, "connect_timeout": 5.0, "pool_size": 2}


def target_field() -> Obj:
    return TargetObj(doc="A database to probe.", fields={
        "dsn": Str(required=True, doc="postgresql://..., mysql://..., mariadb://..., sqlite:///path or duckdb://; ${VAR} is expanded."),
        "statement_timeout": statement_timeout("Per-probe time limit on this target (1ms to 1d).", default=TARGET_DEFAULTS["statement_timeout"]),
        "connect_timeout": Duration(default=TARGET_DEFAULTS["connect_timeout"], minimum=1.0, maximum=3600.0,
                                    doc="Time limit to open a connection (1s to 1h)."),
        "pool_size": Int(default=TARGET_DEFAULTS["pool_size"], minimum=1, maximum=64,
                         doc="Connections to this target, at most: probes of one target run this many at a time."),
        "tables": TableSources(doc="duckdb:// only: each table a glob of run-history files.", item=Obj(fields={
            "path": Str(required=True, doc="A glob of files, e.g. /var/log/automation-runs/*.jsonl; a relative one is read from the rule file's folder."),
            "format": Enum(choices=FILE_FORMATS, default="jsonl", doc="How the files are written."),
        })),
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



def common_rule_fields() -> dict[str, Field]:
    return {
        "name": Str(required=True, pattern=RULE_NAME, pattern_hint="is not a valid rule name (lower-case letters, digits and _, starting with a letter)"),
        "check": Str(required=True, doc="The check kind (see `checks/`)."),
        "table": Identifier(qualified=True, doc="Table (or schema.table) the rule watches."),
        "where": Filter(doc="column: value | [values] | {op: value}; op in = != < <= > >= in not_in is_null."),
        "where_sql": Str(doc="A trusted raw SQL condition, ANDed with `where`."),
        "time_column": Identifier(doc="The column windows and ages are measured on."),
        "time_unit": Enum(choices=TIME_UNITS, default=DEFAULTS["time_unit"], doc="How time columns are stored: timestamp, epoch s or epoch ms."),
        "window": Duration(minimum=0.001, doc="Only rows whose time_column is within this window count (up to 10 years)."),
        "timezone": TimeZoneField(doc="IANA time zone of `per` buckets and of a declared cron schedule (default UTC)."),
        "group_by": Identifiers(doc="Judge each group of these columns alone (count, ratio, absent)."),
        "expect_groups": GroupValues(doc="Groups that must be present: a missing one is a violation, not silence."),
        "per": Enum(choices=PERIODS, doc="Judge each local hour, day or week (in `timezone`) of the window alone."),
        "local_window": Obj(doc="A matching row whose time falls outside this local time of day is a violation.", fields={
            "from": Str(required=True, doc="HH:MM"), "to": Str(required=True, doc="HH:MM (before `from`: the window spans midnight)"),
            "timezone": TimeZoneField(default="UTC")}),
        "min_population": Int(minimum=1, doc="Fewer rows matching `where` than this is an error, not a pass "
                                              "(a rule that sees nothing, e.g. hidden by row-level security, must not hold)."),
        **schedule_fields(),
        "summary": Template(doc="jinja2 one-liner for alerts; sees the rule and its result."),
        "description": Template(doc="jinja2 text for alerts."),
        "runbook_url": Str(),
        "tags": StrList(doc="Select rules with `watchdog check --tag`."),
        "enabled": Bool(default=DEFAULTS["enabled"]),
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
        "api": Obj(doc="The running daemon's write API (acknowledgements, reload).", fields={
            "token": Str(doc="Bearer token that POSTs to watchdog run's HTTP API must carry; ${VAR} or ${file:PATH} "
                             "(default: $WATCHDOG_API_TOKEN; with neither, the write API is off)."),
        }),
        "check_paths": StrList(doc="Folders of your own check kinds (NAME.yaml + NAME.sql), relative to this file."),
        "silences": SilencesField(severities=SEVERITIES, doc="Maintenance windows: recurring {name, match, cron, duration, "
                                  "timezone} or one-off {name, match, from, until}; a silenced rule is evaluated but pages nobody."),
        "include": Raw(doc="Rule packs: [{pack: NAME, target: T, prefix: P, with: {param: value}, rules: {NAME: {key: value}}}]."),
        "rules": Raw(required=True, doc="The invariants."),
    }
