"""The floor: for every rule of rules.yaml, the SQL a DBA would write by hand for the same answer.

Independent of watchdog's compiler: nothing here is rendered from a rule or a template. A row-level
rule's answer is its violation count plus up to `samples` sample rows, in watchdog's order; it has two
natural forms, and the bench times both and keeps the faster one per rule and data set (`forms`):

- `split`: `SELECT count(*) ...`, then, only when something is wrong, `SELECT ... ORDER BY ... LIMIT 5`;
- `window`: one pass, `SELECT ..., count(*) OVER () ... ORDER BY ... LIMIT 5`.

An aggregate rule (absent, count, ratio) is its one plain query. Constants are written into the SQL
as a DBA writes them; only the cutoffs, which move with the clock, are parameters (`cutoffs`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg
from psycopg.rows import tuple_row

Params = Mapping[str, Any]


@dataclass(frozen=True)
class Answer:
    """What the floor found: the violation count of a row-level rule, or an aggregate rule's value."""

    measure: float | None
    samples: tuple[Any, ...] = ()


def cutoffs(now: datetime) -> dict[str, Any]:
    """Every cutoff the rules use, as of `now` (the `run_at_ms` column is epoch milliseconds)."""
    day = now - timedelta(hours=24)
    return {"now": now, "day": day, "day_ms": int(day.timestamp() * 1000), "hours5": now - timedelta(hours=5),
            "min30": now - timedelta(minutes=30), "min5": now - timedelta(minutes=5), "min2": now - timedelta(minutes=2),
            "days7": now - timedelta(days=7)}


Form = Callable[[psycopg.Connection[Any], Params], Answer]


def fetch(conn: psycopg.Connection[Any], sql: str, params: Params) -> list[tuple[Any, ...]]:
    """Rows as tuples, whatever the connection's row factory (watchdog's own hands out dicts)."""
    return conn.cursor(row_factory=tuple_row).execute(sql, params).fetchall()


@dataclass(frozen=True)
class Rows:
    """A row-level rule: `SELECT {columns} {body} ORDER BY {order}`; `grouped` when `body` ends
    in GROUP BY ... HAVING (then each group is one violation). `count`: where a DBA would count
    more simply than by wrapping the body, the count query of the split form."""

    columns: str
    body: str
    order: str
    grouped: bool = False
    count: str | None = None

    def forms(self, samples: int) -> dict[str, Form]:
        counted = self.count or (f"SELECT count(*) FROM (SELECT 1 {self.body}) AS v" if self.grouped else f"SELECT count(*) {self.body}")
        sampled = f"SELECT {self.columns} {self.body} ORDER BY {self.order} LIMIT {samples}"
        windowed = f"SELECT {self.columns}, count(*) OVER () AS total {self.body} ORDER BY {self.order} LIMIT {samples}"

        def split(conn: psycopg.Connection[Any], params: Params) -> Answer:
            [(count,)] = fetch(conn, counted, params)
            return Answer(count, tuple(fetch(conn, sampled, params)) if count else ())

        def window(conn: psycopg.Connection[Any], params: Params) -> Answer:
            rows = fetch(conn, windowed, params)
            return Answer(rows[0][-1] if rows else 0, tuple(row[:-1] for row in rows))
        return {"split": split, "window": window}


@dataclass(frozen=True)
class Aggregate:
    """An aggregate rule: one plain query; `value` turns its one row into the rule's value."""

    sql: str
    value: Callable[[tuple[Any, ...], datetime], float | None]

    def forms(self, samples: int) -> dict[str, Form]:
        def plain(conn: psycopg.Connection[Any], params: Params) -> Answer:
            [row] = fetch(conn, self.sql, params)
            return Answer(self.value(row, params["now"]))
        return {"plain": plain}


def _count(row: tuple[Any, ...], now: datetime) -> float:
    return float(row[0])


def _age(row: tuple[Any, ...], now: datetime) -> float | None:
    return None if row[0] is None else (now - row[0]).total_seconds()


def _ratio(row: tuple[Any, ...], now: datetime) -> float | None:
    failed, total = row
    return failed / total if total else None


# One entry per rule of rules.yaml, by name; how long an absent rule's age may drift between two
# runs a moment apart is the only tolerance (TOLERANCE) when the bench checks that both agree.
RULES: dict[str, Rows | Aggregate] = {
    "duplicate_runs": Rows(
        "job_id, run_at_ms, count(*) AS copies",
        "FROM automation_runs WHERE run_at_ms >= %(day_ms)s GROUP BY job_id, run_at_ms HAVING count(*) > 1",
        "copies DESC, job_id, run_at_ms", grouped=True),
    "scheduler_outside_production": Rows(
        "*", "FROM automation_runs WHERE started_at >= %(day)s AND (env <> 'production' OR env IS NULL)",
        "started_at DESC"),
    "reply_scheduler_started": Aggregate(
        "SELECT max(created_at) FROM system_events"
        " WHERE event_type = 'reply_v2_scheduler_job_started' AND created_at >= %(hours5)s", _age),
    "reply_permit_pipeline_source": Rows(
        "*", "FROM post_attempts WHERE decision_type = 'reply' AND created_at >= %(day)s"
             " AND (pipeline_source <> 'reply_v2_scheduler' OR pipeline_source IS NULL)",
        "created_at DESC"),
    "proof_scheduler_started": Aggregate(
        "SELECT count(*) FROM system_events WHERE event_type = 'reply_v2_scheduler_job_started' AND created_at >= %(min30)s",
        _count),
    "proof_permits_created": Aggregate(
        "SELECT count(*) FROM post_attempts WHERE decision_type = 'reply' AND pipeline_source = 'reply_v2_scheduler'"
        " AND created_at >= %(min30)s", _count),
    "proof_permits_used": Aggregate(
        "SELECT count(*) FROM post_attempts WHERE decision_type = 'reply' AND pipeline_source = 'reply_v2_scheduler'"
        " AND status = 'USED' AND actual_tweet_id IS NOT NULL AND created_at >= %(min30)s", _count),
    "proof_no_invalid_source_rejections": Aggregate(
        "SELECT count(*) FROM post_attempts WHERE decision_type = 'reply' AND status = 'REJECTED'"
        " AND reason_code = 'invalid_pipeline_source' AND created_at >= %(min30)s", _count),
    "duplicate_notifications": Rows(
        "job_id, kind, count(*) AS copies, extract(epoch FROM min(before)) AS min_gap_seconds",
        "FROM (SELECT job_id, kind, sent_at - lag(sent_at) OVER w AS before, lead(sent_at) OVER w - sent_at AS after"
        "      FROM notifications WHERE sent_at >= %(day)s WINDOW w AS (PARTITION BY job_id, kind ORDER BY sent_at)) AS r"
        " WHERE before <= interval '5 minutes' OR after <= interval '5 minutes' GROUP BY job_id, kind",
        "copies DESC, job_id, kind", grouped=True,
        # a key has a copy within 5 minutes if one of its sends follows another that closely
        count="SELECT count(*) FROM (SELECT DISTINCT job_id, kind FROM"
              " (SELECT job_id, kind, sent_at - lag(sent_at) OVER (PARTITION BY job_id, kind ORDER BY sent_at) AS before"
              "  FROM notifications WHERE sent_at >= %(day)s) AS r WHERE before <= interval '5 minutes') AS k"),
    "batch_job_heartbeat": Rows(
        "*, extract(epoch FROM %(now)s - last_heartbeat) AS heartbeat_age_seconds",
        "FROM batch_jobs WHERE status = 'running'"
        " AND (last_heartbeat < %(min2)s OR (last_heartbeat IS NULL AND started_at < %(min2)s))",
        "last_heartbeat"),
    "batch_failure_ratio": Aggregate(
        "SELECT count(*) FILTER (WHERE status IN ('failed', 'cancelled')), count(*) FROM batch_jobs"
        " WHERE status IN ('completed', 'failed', 'cancelled') AND started_at >= %(day)s", _ratio),
    "cron_duplicate_entries": Rows(
        "schedule, command, count(*) AS copies",
        "FROM cron_jobs WHERE active GROUP BY schedule, command HAVING count(*) > 1",
        "copies DESC, schedule, command", grouped=True),
    "cron_overlapping_schedules": Rows(
        "command, count(*) AS entries",
        "FROM cron_jobs WHERE active AND schedule LIKE '*/%%' GROUP BY command HAVING count(*) > 1",
        "command", grouped=True),
    "sitemap_jobs_pending": Rows(
        "*, extract(epoch FROM %(now)s - created_at) AS age_seconds",
        "FROM jobs WHERE job_type = 'sitemap' AND status = 'pending' AND created_at < %(min5)s",
        "created_at"),
    "submitted_domains_without_sitemaps": Rows(
        "d.*, extract(epoch FROM %(now)s - d.updated_at) AS age_seconds",
        "FROM domains d WHERE d.sitemap_analysis_status = 'submitted' AND d.updated_at < %(min5)s"
        " AND NOT EXISTS (SELECT 1 FROM sitemap_files f WHERE f.domain_id = d.id)",
        "d.updated_at"),
    # per: day in New York: each whole local date of the last 7 days must hold exactly one completed batch
    "daily_batch_once_per_date": Aggregate(
        "SELECT count(*) FROM generate_series((%(days7)s AT TIME ZONE 'America/New_York')::date + 1,"
        " (%(now)s AT TIME ZONE 'America/New_York')::date - 1, interval '1 day') AS d(day)"
        " LEFT JOIN (SELECT (started_at AT TIME ZONE 'America/New_York')::date AS day, count(*) AS n FROM scheduler_runs"
        "  WHERE function_name = 'daily-batch-trigger' AND status = 'completed' AND started_at >= %(days7)s GROUP BY 1) AS r"
        " ON r.day = d.day::date WHERE coalesce(r.n, 0) <> 1", _count),
    "daily_batch_outside_window": Aggregate(
        "SELECT count(*) FROM scheduler_runs WHERE function_name = 'daily-batch-trigger' AND started_at >= %(days7)s"
        " AND NOT (started_at AT TIME ZONE 'America/New_York')::time BETWEEN time '03:00' AND time '05:59:59.999999'",
        _count),
}
TOLERANCE = {"reply_scheduler_started": 5.0}  # seconds


def entry(rule: str) -> Rows | Aggregate:
    """The hand-written SQL of `rule`; a rule the floor does not know is a bench bug, said plainly."""
    try:
        return RULES[rule]
    except KeyError:
        raise SystemExit(f"bench/floor.py has no hand-written SQL for rule '{rule}': add it to RULES") from None


def runner(conn: psycopg.Connection[Any], form: Form) -> Callable[[], Answer]:
    """One run of `form` as of now, cutoffs bound as watchdog binds them: fresh on every run."""
    return lambda: form(conn, cutoffs(datetime.now(timezone.utc)))


def agrees(rule: str, floor: float | None, watchdog: float | None) -> bool:
    """Whether the floor's answer is watchdog's (an absent rule's age may drift by TOLERANCE)."""
    if floor is None or watchdog is None:
        return floor is None and watchdog is None
    return abs(floor - watchdog) <= TOLERANCE.get(rule, 1e-9)
