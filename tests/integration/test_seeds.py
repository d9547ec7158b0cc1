"""Each seed report's incident, replayed on SQLite and PostgreSQL, against the example rules.yaml.

Healthy data must leave every rule holding; each incident must violate exactly its seed's rules,
with the figures the report describes.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from watchdog.catalogue.registry import load_registry
from watchdog.demo.incidents import SEEDS
from watchdog.plan import build_plan

RULES = Path(__file__).resolve().parents[2] / "rules.yaml"

TRIGGER = "select net.http_post(url := 'https://project.supabase.co/functions/v1/daily-batch-trigger')"
RECONCILER = "select net.http_post(url := 'https://project.supabase.co/functions/v1/batch-reconciler')"
SLOTS_MS = (1770224100000, 1770224400000, 1770224700000)  # 2026-02-04 16:55, 17:00, 17:05 UTC

HEALTHY = {
    "reply_scheduler_started": {"status": "ok", "value": 300},
    "proof_scheduler_started": {"status": "ok", "value": 2},
    "proof_permits_created": {"status": "ok", "value": 2},
    "proof_permits_used": {"status": "ok", "value": 1},
    "proof_no_invalid_source_rejections": {"status": "ok", "value": 0},
    "batch_failure_ratio": {"status": "ok", "value": 1 / 32},
    "duplicate_notifications": {"status": "ok", "violations": 0},
}

INCIDENTS = {
    "000": {
        "duplicate_runs": {"violations": 3, "value": 3, "samples": [
            {"job_id": "digest", "run_at_ms": ms, "copies": 2} for ms in SLOTS_MS]},
        "scheduler_outside_production": {"violations": 3, "samples": [
            {"env": "staging", "run_at_ms": SLOTS_MS[2], "status": "error", "error": "bash: /tmp/claude-1001-cwd: Permission denied"},
            {"env": "staging", "run_at_ms": SLOTS_MS[1], "status": "success"},
            {"env": "staging", "run_at_ms": SLOTS_MS[0], "status": "success"}]},
    },
    "001": {
        "reply_scheduler_started": {"violations": 1, "value": 3900, "samples": []},
        "reply_permit_pipeline_source": {"violations": 2, "samples": [
            {"permit_id": "permit-tiered_scheduler-20", "pipeline_source": "tiered_scheduler"},
            {"permit_id": "permit-tiered_scheduler-50", "pipeline_source": "tiered_scheduler"}]},
        "proof_scheduler_started": {"violations": 1, "value": 0},
        "proof_permits_created": {"violations": 1, "value": 0},
        "proof_permits_used": {"violations": 1, "value": 0},
        # fires at 16:15, 16:30 and 16:45 with no started event within 15 minutes; 17:00's grace runs on
        "reply_scheduler_schedule": {"violations": 3, "samples": [
            {"problem": "missed", "fire_utc": f"2026-02-04T16:{minute}:00+00:00"} for minute in ("15", "30", "45")]},
    },
    "002": {
        "duplicate_notifications": {"violations": 1, "value": 1, "samples": [
            {"job_id": 32, "kind": "post_job_followup", "copies": 2, "min_gap_seconds": 3}]},
    },
    "003": {
        "batch_job_heartbeat": {"violations": 2, "samples": [
            {"org_id": "org-acme", "status": "running", "heartbeat_age_seconds": 1500},
            {"org_id": "org-globex", "status": "running", "heartbeat_age_seconds": 420}]},
        "batch_failure_ratio": {"violations": 1, "value": 6 / 37, "samples": [{"failed": 6, "total": 37}]},
        # 03:00 New York (08:00 UTC in February): nothing on Jan 31; on Feb 2 the EDT entry (07:00 UTC, 02:00
        # EST) ran it too, which falls in Feb 1's slot, as a second run for that date
        "daily_batch_schedule": {"violations": 2, "samples": [
            {"problem": "missed", "fire_utc": "2026-01-31T08:00:00+00:00", "fire_local": "2026-01-31T03:00:00-05:00"},
            {"problem": "duplicate", "fire_local": "2026-02-01T03:00:00-05:00", "runs": 2,
             "started": ["2026-02-01T08:00:20+00:00", "2026-02-02T07:00:20+00:00"]}]},
        # the same two dates as local New York days: none, and two completed batches; the EDT entry's run
        # at 07:00 UTC (02:00 EST) started outside 03:00-06:00 ET
        "daily_batch_once_per_date": {"violations": 2, "samples": [
            {"bucket": "2026-01-31", "value": 0, "start": "2026-01-31T05:00:00+00:00"}, {"bucket": "2026-02-02", "value": 2}]},
        "daily_batch_outside_window": {"violations": 1, "value": 1},
        "cron_duplicate_entries": {"violations": 1, "samples": [{"schedule": "0 5 * * *", "command": TRIGGER, "copies": 2}]},
        "cron_overlapping_schedules": {"violations": 2, "samples": [
            {"command": RECONCILER, "entries": 2}, {"command": TRIGGER, "entries": 2}]},
    },
    "004": {
        "sitemap_jobs_pending": {"violations": 3, "samples": [
            {"domain_id": 4, "age_seconds": 69 * 86400}, {"domain_id": 5, "age_seconds": 35 * 86400},
            {"domain_id": 6, "age_seconds": 7200}]},
        "submitted_domains_without_sitemaps": {"violations": 3, "samples": [
            {"id": 4, "domain": "delta-roofing.com", "age_seconds": 69 * 86400},
            {"id": 5, "domain": "evergreen-hvac.com", "age_seconds": 35 * 86400},
            {"id": 6, "domain": "fixit-garage.com", "age_seconds": 7200}]},
    },
}


def test_every_seed_has_a_replay_and_expectations():
    assert sorted(seed.id for seed in SEEDS) == sorted(INCIDENTS)


def test_rules_yaml_uses_every_kind_and_needs_no_environment():
    plan = build_plan(RULES, env={})
    registry, _ = load_registry()
    assert {rule.check for rule in plan.rules} == set(registry.kinds)
    assert plan.targets["main"].dsn == "sqlite:///watchdog-demo.db"
    assert {f"seed-{seed.id}" for seed in SEEDS} <= {tag for rule in plan.rules for tag in rule.tags}


def test_healthy_scheduler_holds_every_rule(replay, check, verify):
    replay()
    code, results = check()
    assert code == 0
    assert {r["status"] for r in results.values()} == {"ok"}
    verify(results, HEALTHY)


@pytest.mark.parametrize("seed", sorted(INCIDENTS))
def test_incident_violates_exactly_its_rules(seed, replay, check, verify):
    replay()
    assert check()[0] == 0
    replay([seed])
    code, results = check()
    assert code == 1
    assert {name for name, r in results.items() if r["status"] == "violated"} == set(INCIDENTS[seed])
    verify(results, {rule: {"status": "violated", **want} for rule, want in INCIDENTS[seed].items()})


def test_all_incidents_together(replay, check, verify):
    replay([seed.id for seed in SEEDS])
    code, results = check()
    assert code == 1
    expected = {rule: want for rules in INCIDENTS.values() for rule, want in rules.items()}
    assert {name for name, r in results.items() if r["status"] == "violated"} == set(expected)
    verify(results, expected)


def test_proof_tag_selects_the_post_deploy_queries(replay, check):
    replay(["001"])
    code, results = check("--tag", "proof")
    assert code == 1
    assert sorted(results) == ["daily_batch_once_per_date", "proof_no_invalid_source_rejections", "proof_permits_created",
                               "proof_permits_used", "proof_scheduler_started"]
