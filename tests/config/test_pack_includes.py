"""Packs in a rule file: `include:` expands a shipped pack into named rules, with parameters,
prefix, target and per-rule overrides; every mistake is reported at the include's place."""
from __future__ import annotations

import pytest

from watchdog.cli import main
from watchdog.config import packs
from watchdog.config.loader import load
from watchdog.errors import ConfigError


HEAD = """\
version: 1
targets:
  main: {dsn: "postgresql://watchdog@127.0.0.1/test"}
  replica: {dsn: "postgresql://watchdog@127.0.0.1/replica"}
"""


def loaded(write_rules, body: str):
    return load(write_rules(HEAD + body), {}).rule_file


def problems(write_rules, body: str) -> list[str]:
    path = write_rules(HEAD + body)
    with pytest.raises(ConfigError) as caught:
        load(path, {})
    return [str(p).replace(str(path), "rules.yaml") for p in caught.value.problems]


def test_every_shipped_pack_loads_and_documents_its_grants_and_faults() -> None:
    assert packs.names() == ["apscheduler", "celery", "pg_cron", "procrastinate"]
    for name in packs.names():
        pack = packs.load_pack(name)
        assert pack.grants and pack.proven and pack.rules
        assert all(p.doc for p in pack.params.values())


def test_an_include_adds_the_packs_rules_with_prefixed_names_defaults_and_the_pack_as_tag(write_rules) -> None:
    rule_file = loaded(write_rules, "include:\n  - pack: apscheduler\nrules: []\n")
    [rule] = rule_file.rules
    assert (rule.name, rule.check, rule.table, rule.time_unit, rule.params["older_than"]) == (
        "apscheduler_job_overdue", "stuck", "apscheduler_jobs", "s", 60.0)
    assert rule.tags == ("apscheduler",) and rule.target == "main"


def test_parameters_target_prefix_and_overrides(write_rules) -> None:
    body = """\
include:
  - pack: procrastinate
    target: replica
    prefix: jobs
    with: {schema: app, heartbeat_timeout: 10s}
    rules:
      jobs_job_run_twice: {enabled: false}
      jobs_periodic_stopped: {severity: critical, older_than: 2m}
rules:
  - {name: own, check: count, table: t, target: main}
"""
    rules = {r.name: r for r in loaded(write_rules, body).rules}
    assert sorted(rules) == ["jobs_job_run_twice", "jobs_job_worker_dead", "jobs_periodic_stopped", "jobs_queue_unserved",
                             "jobs_task_failing", "own"]
    assert not rules["jobs_job_run_twice"].enabled and rules["jobs_job_worker_dead"].enabled
    stopped = rules["jobs_periodic_stopped"]
    assert (stopped.severity, stopped.params["older_than"], stopped.table, stopped.target) == (
        "critical", 120.0, "app.procrastinate_periodic_defers", "replica")
    # Durations pasted into a pack's SQL are seconds; identifiers are quoted there.
    query = rules["jobs_job_worker_dead"].params["query"]
    assert 'FROM "app".procrastinate_jobs j' in query and "make_interval(secs => 10)" in query


def test_a_parameter_given_as_a_list_stays_a_list(write_rules) -> None:
    pack = packs.load_pack("pg_cron")
    values = {**packs.defaults(pack, _here()), "required_jobs": packs.Node([packs.Node("nightly", _here()), packs.Node("vacuum", _here())], _here())}
    [absent] = [r for r in packs.expand(pack, values, _here(), "pg_cron") if r.value["name"].value == "pg_cron_job_absent"]
    assert absent.plain()["expect_groups"] == ["nightly", "vacuum"]


def test_a_rule_whose_when_parameter_is_empty_is_left_out() -> None:
    pack = packs.load_pack("pg_cron")
    names = [r.value["name"].value for r in packs.expand(pack, packs.defaults(pack, _here()), _here(), "pg_cron")]
    assert "pg_cron_job_absent" not in names and "pg_cron_job_missed" in names


def test_unknown_pack_is_reported_at_the_include(write_rules) -> None:
    assert problems(write_rules, "include:\n  - pack: pgcron\nrules: []\n") == [
        "rules.yaml:6:11: unknown pack 'pgcron' (did you mean 'pg_cron'?) (packs: apscheduler, celery, pg_cron, procrastinate)"]


def test_bad_and_unknown_parameters_are_reported_where_they_are_written(write_rules) -> None:
    body = "include:\n  - pack: procrastinate\n    with: {heartbeat_timeout: soon, queue_wiat: 5m}\nrules: []\n"
    assert problems(write_rules, body) == [
        "rules.yaml:7:31: pack 'procrastinate': bad duration 'soon' (use a number and a unit: 500ms, 30s, 5m, 2h, 1d, 1w)",
        "rules.yaml:7:37: pack 'procrastinate': unknown procrastinate parameter 'queue_wiat' (did you mean 'queue_wait'?)",
    ]


def test_an_override_of_a_rule_the_pack_does_not_have_suggests_the_close_one(write_rules) -> None:
    body = "include:\n  - pack: apscheduler\n    rules: {apscheduler_job_overdu: {enabled: false}}\nrules: []\n"
    assert problems(write_rules, body) == [
        "rules.yaml:7:13: pack 'apscheduler': unknown rule 'apscheduler_job_overdu' (did you mean 'apscheduler_job_overdue'?)"]


def test_a_bad_override_is_reported_at_the_override_with_the_rule(write_rules) -> None:
    body = "include:\n  - pack: apscheduler\n    rules:\n      apscheduler_job_overdue: {older_than: soon}\nrules: []\n"
    assert problems(write_rules, body) == [
        "rules.yaml:8:45: rule 'apscheduler_job_overdue': bad duration 'soon' (use a number and a unit: 500ms, 30s, 5m, 2h, 1d, 1w)"]


def test_a_parameter_that_makes_a_rule_invalid_is_reported_at_the_parameter(write_rules) -> None:
    body = "include:\n  - pack: apscheduler\n    with: {table: 'jobs; drop'}\nrules: []\n"
    assert problems(write_rules, body) == [
        "rules.yaml:7:19: pack 'apscheduler': 'jobs; drop' is not a valid table name ([schema.]name): use letters, digits and _ only"]


def test_a_rule_of_the_file_with_a_pack_rules_name_is_a_duplicate(write_rules) -> None:
    body = "include:\n  - pack: apscheduler\nrules:\n  - {name: apscheduler_job_overdue, check: count, table: t}\n"
    assert problems(write_rules, body) == [
        "rules.yaml:8:12: rule 'apscheduler_job_overdue': duplicate rule name (first defined at line 6)"]


def test_an_unknown_target_is_reported_at_the_includes_target(write_rules) -> None:
    body = "include:\n  - {pack: apscheduler, target: standby}\nrules: []\n"
    assert problems(write_rules, body) == [
        "rules.yaml:6:33: rule 'apscheduler_job_overdue': unknown target 'standby'"]


def test_validate_exits_2_without_a_traceback_for_a_bad_include(write_rules, capsys) -> None:
    path = write_rules(HEAD + "include:\n  - pack: nope\nrules: []\n")
    assert main(["validate", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert "unknown pack 'nope'" in err and "Traceback" not in err


@pytest.mark.parametrize("name", ["pg_cron", "celery"])
def test_the_packs_with_grouped_rules_load(write_rules, name: str) -> None:
    rule_file = loaded(write_rules, f"include:\n  - pack: {name}\n    with: {{}}\nrules: []\n")
    assert rule_file.rules


def _here() -> packs.Location:
    return packs.Location("rules.yaml", 1, 1)
