"""Demo data: a healthy scheduler database, and a replay of each seed report's incident.

Every timestamp is relative to `now`, so the rules in rules.yaml see the incident as fresh. Each
seed gives the state of its tables either healthy or after its incident: some incidents are rows
that should not exist (duplicates), others rows that stopped appearing (missing events).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

Rows = dict[str, list[dict[str, Any]]]

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Seed:
    """One incident report: its number, the tables it touches, and what the replay does."""

    id: str
    tables: tuple[str, ...]
    rows: Callable[[datetime, bool], Rows]
    story: str


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def slots(now: datetime, count: int) -> list[datetime]:
    """The last `count` 5-minute cron slots that have finished running (newest first)."""
    latest = (now - MINUTE).replace(second=0, microsecond=0)
    latest -= timedelta(minutes=latest.minute % 5)
    return [latest - 5 * MINUTE * i for i in range(count)]


def _run(slot: datetime, env: str, delay: int, error: str | None = None) -> dict[str, Any]:
    started = slot + timedelta(seconds=delay)
    return {"job_id": "digest", "run_at_ms": epoch_ms(slot), "env": env, "status": "error" if error else "success",
            "started_at": started, "finished_at": started + timedelta(seconds=30), "error": error}


def seed_000(now: datetime, incident: bool) -> Rows:
    """Production runs the digest every 5 minutes; in the incident staging runs it too."""
    runs = [_run(slot, "production", 2) for slot in slots(now, 12)]
    if incident:
        latest, *earlier = slots(now, 3)
        runs += [_run(slot, "staging", 3) for slot in reversed(earlier)]
        runs.append(_run(latest, "staging", 3, "bash: /tmp/claude-1001-cwd: Permission denied"))
    return {"automation_runs": runs}


def _sms(job_id: int, kind: str, sent_at: datetime) -> dict[str, Any]:
    return {"job_id": job_id, "kind": kind, "recipient": f"+1555555{job_id:04d}", "sent_at": sent_at}


def seed_002(now: datetime, incident: bool) -> Rows:
    """One follow-up SMS per job; in the incident two cron instances both send job 32's, 3 s apart."""
    sent = [_sms(30, "post_job_followup", now - 180 * MINUTE), _sms(31, "post_job_followup", now - 50 * MINUTE),
            _sms(31, "send_reminder", now - 20 * 60 * MINUTE), _sms(31, "send_reminder", now - 2 * 60 * MINUTE)]
    if incident:
        first = now - 40 * MINUTE
        sent += [_sms(32, "post_job_followup", first), _sms(32, "post_job_followup", first + timedelta(seconds=3))]
    return {"notifications": sent}


def _permit(created: datetime, minutes_ago: int, source: str, used: bool) -> dict[str, Any]:
    return {"permit_id": f"permit-{source}-{minutes_ago}", "decision_id": f"decision-{minutes_ago}",
            "decision_type": "reply", "pipeline_source": source, "status": "USED" if used else "PENDING",
            "reason_code": None, "actual_tweet_id": f"18790{minutes_ago:05d}" if used else None, "created_at": created}


def seed_001(now: datetime, incident: bool) -> Rows:
    """The reply scheduler starts every 15 minutes and files a permit; in the incident it went
    silent an hour ago and permits came from 'tiered_scheduler' instead."""
    silent = 60 if incident else 0
    events, permits = [], []
    for minutes_ago in range(5, 180, 15):
        at = now - minutes_ago * MINUTE
        if minutes_ago > silent:
            events.append({"event_type": "reply_v2_scheduler_job_started", "severity": "info",
                           "message": f"Reply V2 scheduler job started: scheduler_run_id=scheduler_{minutes_ago}",
                           "created_at": at})
            permits.append(_permit(at + timedelta(seconds=10), minutes_ago, "reply_v2_scheduler", minutes_ago > 5))
        elif minutes_ago % 30 == 20:
            permits.append(_permit(at + timedelta(seconds=10), minutes_ago, "tiered_scheduler", True))
    permits.append({"permit_id": "permit-content-1", "decision_id": "decision-content-1", "decision_type": "single",
                    "pipeline_source": "content_scheduler", "status": "USED", "reason_code": None,
                    "actual_tweet_id": "1879000001", "created_at": now - 30 * MINUTE})
    return {"system_events": events, "post_attempts": permits}


def _batch(now: datetime, status: str, started_ago: timedelta, heartbeat_ago: timedelta, org: str) -> dict[str, Any]:
    done = status == "completed"
    return {"org_id": org, "status": status, "started_at": now - started_ago, "last_heartbeat": now - heartbeat_ago,
            "completed_at": now - heartbeat_ago if status != "running" else None, "tasks_total": 40,
            "tasks_done": 40 if done else 12}


CRON_HEALTHY = (
    ("daily-batch-trigger-resilient", "*/15 * * * *", "daily-batch-trigger"),
    ("batch-reconciler-cleanup", "*/30 * * * *", "batch-reconciler"),
    ("daily-scheduler-3am-edt", "0 7 * * *", "daily-batch-trigger"),
    ("daily-scheduler-3am-est", "0 8 * * *", "daily-batch-trigger"),
)
CRON_REDUNDANT = (
    ("daily-batch-trigger-every-5min", "*/5 * * * *", "daily-batch-trigger"),
    ("batch-reconciler-every-10min", "*/10 * * * *", "batch-reconciler"),
    ("daily-batch-midnight-edt", "0 5 * * *", "daily-batch-trigger"),
    ("daily-batch-midnight-est", "0 4 * * *", "daily-batch-trigger"),
    ("daily-batch-trigger-12am-est", "0 5 * * *", "daily-batch-trigger"),
)


def _cron(name: str, schedule: str, function: str) -> dict[str, Any]:
    command = f"select net.http_post(url := 'https://project.supabase.co/functions/v1/{function}')"
    return {"jobname": name, "schedule": schedule, "command": command, "active": True}


NEW_YORK = ZoneInfo("America/New_York")


def _daily_batches(now: datetime, incident: bool) -> list[dict[str, Any]]:
    """The daily batch runs once per New York date at 03:00 local: pg_cron's 07:00 UTC entry in EDT,
    its 08:00 UTC entry in EST (the report's two entries for one job, to survive daylight saving).
    In the incident both entries ran it two dates ago (once each: a duplicate for that date, one of
    them outside 03:00-06:00 ET in winter) and neither ran it four dates ago."""
    runs = []
    today = now.astimezone(NEW_YORK).date()
    for back in range(8):
        day = today - timedelta(days=back)
        local = datetime.combine(day, time(3), NEW_YORK).astimezone(timezone.utc)
        starts = [local]
        if incident and back == 2:
            starts = [datetime.combine(day, time(7), timezone.utc), datetime.combine(day, time(8), timezone.utc)]
        elif incident and back == 4:
            starts = []
        for start in starts:
            started = start + timedelta(seconds=20)
            if started + 20 * MINUTE <= now:
                runs.append({"function_name": "daily-batch-trigger", "status": "completed", "started_at": started,
                             "completed_at": started + 20 * MINUTE})
    return runs


def seed_003(now: datetime, incident: bool) -> Rows:
    """31 batch jobs completed in the last day and one runs with a fresh heartbeat; in the incident
    4 were cancelled and 2 failed (the report's 84% success), two running jobs stopped beating,
    pg_cron holds the report's nine overlapping entries instead of four, and the daily batch ran
    twice on one New York date and not at all on another."""
    if incident:
        total, failed = 37, {3: "cancelled", 9: "cancelled", 15: "cancelled", 21: "cancelled", 27: "failed", 33: "failed"}
    else:
        total, failed = 32, {5: "failed"}
    jobs = [_batch(now, failed.get(i, "completed"), (60 + 30 * i) * MINUTE, (56 + 30 * i) * MINUTE, f"org-{i % 7}")
            for i in range(total)]
    jobs.append(_batch(now, "running", 3 * MINUTE, timedelta(seconds=30), "org-live"))
    if incident:
        jobs += [_batch(now, "running", 40 * MINUTE, 25 * MINUTE, "org-acme"),
                 _batch(now, "running", 12 * MINUTE, 7 * MINUTE, "org-globex")]
    cron = CRON_HEALTHY + (CRON_REDUNDANT if incident else ())
    return {"batch_jobs": jobs, "cron_jobs": [_cron(*entry) for entry in cron], "scheduler_runs": _daily_batches(now, incident)}


def _domain(domain_id: int, domain: str, status: str, updated_at: datetime) -> dict[str, Any]:
    return {"id": domain_id, "domain": domain, "sitemap_analysis_status": status, "updated_at": updated_at}


def _sitemap_job(domain_id: int, status: str, created_at: datetime, updated_at: datetime) -> dict[str, Any]:
    return {"job_type": "sitemap", "status": status, "domain_id": domain_id, "created_at": created_at, "updated_at": updated_at}


def seed_004(now: datetime, incident: bool) -> Rows:
    """Submitted domains get a sitemap job that completes and sitemap files; in the incident the
    processor is gone: jobs stay pending (the oldest since 69 days) and no files appear."""
    domains = [_domain(1, "acme-plumbing.com", "submitted", now - 2 * DAY),
               _domain(2, "brightdental.com", "submitted", now - MINUTE),
               _domain(3, "citylocksmith.com", "queued", now - 3 * MINUTE)]
    jobs = [_sitemap_job(1, "complete", now - 2 * DAY, now - 2 * DAY + MINUTE), _sitemap_job(2, "pending", now - MINUTE, now - MINUTE)]
    files = [{"domain_id": 1, "url": f"https://acme-plumbing.com/{name}.xml", "created_at": now - 2 * DAY + MINUTE}
             for name in ("sitemap", "sitemap-posts")]
    if incident:
        for domain_id, domain, age in ((4, "delta-roofing.com", 69 * DAY), (5, "evergreen-hvac.com", 35 * DAY),
                                       (6, "fixit-garage.com", 2 * 60 * MINUTE)):
            domains.append(_domain(domain_id, domain, "submitted", now - age))
            jobs.append(_sitemap_job(domain_id, "pending", now - age, now - age))
    return {"domains": domains, "jobs": jobs, "sitemap_files": files}


SEEDS = (
    Seed("000", ("automation_runs",), seed_000,
         story="staging's CronService also ran the digest in the last 3 slots: duplicate (job_id, run_at_ms), env 'staging'"),
    Seed("001", ("system_events", "post_attempts"), seed_001,
         story="no reply_v2_scheduler_job_started for an hour; reply permits from pipeline_source 'tiered_scheduler'"),
    Seed("002", ("notifications",), seed_002,
         story="two cron instances sent job 32's follow-up SMS 3 seconds apart"),
    Seed("003", ("batch_jobs", "cron_jobs", "scheduler_runs"), seed_003,
         story="two running batch jobs without a heartbeat for 7 and 25 min; 6 of 37 jobs failed; 9 overlapping pg_cron "
               "entries; the daily batch ran twice on one New York date and not at all on another"),
    Seed("004", ("jobs", "domains", "sitemap_files"), seed_004,
         story="sitemap jobs pending for up to 69 days; their domains 'submitted' with no sitemap_files"),
)


def dataset(now: datetime, incidents: Iterable[str]) -> Rows:
    """Every demo table's rows at `now` (whole seconds, UTC), with the given seeds' incidents replayed."""
    now = now.astimezone(timezone.utc).replace(microsecond=0)
    chosen = set(incidents)
    unknown = chosen - {seed.id for seed in SEEDS}
    if unknown:
        raise ValueError(f"no seed {', '.join(sorted(unknown))}")
    rows: Rows = {}
    for seed in SEEDS:
        rows.update(seed.rows(now, seed.id in chosen))
    return rows
