"""One test per rule-file error message: the text and the FILE:LINE:COL are the contract."""
from __future__ import annotations

import pytest

from watchdog.cli import main
from watchdog.config.loader import load
from watchdog.errors import ConfigError
from watchdog.plan import build_plan

HEAD = """\
version: 1
targets:
  main: {dsn: "sqlite:////nonexistent/watchdog.db"}
rules:
"""


def problems(write_rules, body: str, env: dict[str, str] | None = None) -> list[str]:
    path = write_rules(HEAD + body)
    with pytest.raises(ConfigError) as caught:
        load(path, env or {})
    return [str(p).replace(str(path), "rules.yaml") for p in caught.value.problems]


def test_unknown_key_suggests_the_close_one(write_rules):
    body = """\
  - name: stuck_jobs
    check: stuck
    table: jobs
    time_column: created_at
    older_then: 5m
"""
    assert problems(write_rules, body) == [
        "rules.yaml:9:5: rule 'stuck_jobs': unknown key 'older_then' (did you mean 'older_than'?)"
    ]


def test_unknown_check_suggests_the_close_one(write_rules):
    assert problems(write_rules, "  - {name: a, check: stuk, table: jobs}\n") == [
        "rules.yaml:5:22: rule 'a': unknown check 'stuk' (did you mean 'stuck'?)"
    ]


def test_injection_in_table_name_is_refused(write_rules):
    body = "  - {name: a, check: duplicate, table: 'jobs; drop table jobs', key: [id]}\n"
    assert problems(write_rules, body) == [
        "rules.yaml:5:40: rule 'a': 'jobs; drop table jobs' is not a valid table name ([schema.]name): use letters, digits and _ only"
    ]


def test_injection_in_column_list_points_at_the_item(write_rules):
    body = "  - name: a\n    check: duplicate\n    table: jobs\n    key:\n      - id\n      - id) OR (1=1\n"
    assert problems(write_rules, body) == [
        "rules.yaml:10:9: rule 'a': 'id) OR (1=1' is not a valid column name: use letters, digits and _ only"
    ]


def test_bad_duration(write_rules):
    body = "  - {name: a, check: count, table: jobs, time_column: t, window: 5 minutes}\n"
    assert problems(write_rules, body) == [
        "rules.yaml:5:66: rule 'a': bad duration '5 minutes' (use a number and a unit: 500ms, 30s, 5m, 2h, 1d, 1w)"
    ]


def test_duration_without_unit(write_rules):
    body = "  - {name: a, check: count, table: jobs, interval: 5}\n"
    assert problems(write_rules, body) == [
        "rules.yaml:5:52: rule 'a': expected a duration such as 30s, 5m, 2h or 1d, got an integer"
    ]


def test_wrong_type(write_rules):
    body = "  - {name: a, check: ratio, table: t, failed: {status: failed}, max: high}\n"
    assert problems(write_rules, body) == ["rules.yaml:5:70: rule 'a': expected a number, got a string"]


def test_list_expected(write_rules):
    body = "  - {name: a, check: allowlist, table: t, column: c, allowed: reply}\n"
    assert problems(write_rules, body) == ["rules.yaml:5:63: rule 'a': expected a list of values, got a string"]


def test_unknown_where_operator(write_rules):
    body = "  - {name: a, check: count, table: t, where: {status: {like: x}}}\n"
    assert problems(write_rules, body) == ["rules.yaml:5:56: rule 'a': unknown operator 'like'"]


def test_missing_variable_names_it(write_rules):
    path = write_rules("version: 1\ntargets:\n  main: {dsn: '${NOPE_DSN}'}\nrules: []\n")
    with pytest.raises(ConfigError) as caught:
        load(path, {})
    assert [str(p).replace(str(path), "rules.yaml") for p in caught.value.problems] == [
        "rules.yaml:3:15: environment variable 'NOPE_DSN' is not set (give a default with ${NOPE_DSN:-value})"
    ]


def test_missing_variable_in_a_rule_is_its_only_problem_there(write_rules):
    assert problems(write_rules, "  - {name: a, check: count, table: '${NOPE_TABLE}'}\n") == [
        "rules.yaml:5:36: rule 'a': environment variable 'NOPE_TABLE' is not set (give a default with ${NOPE_TABLE:-value})"
    ]


def test_variable_default_and_value_are_used(write_rules):
    path = write_rules("version: 1\ntargets:\n  main: {dsn: '${A_DSN:-sqlite:///x.db}'}\n  b: {dsn: '${B_DSN}'}\nrules: []\n")
    loaded = load(path, {"B_DSN": "postgresql://u:hunter22@h/db"})
    assert loaded.rule_file.targets["main"].dsn == "sqlite:///x.db"
    assert loaded.rule_file.targets["b"].dsn == "postgresql://u:hunter22@h/db"
    assert "postgresql://u:hunter22@h/db" in loaded.rule_file.secrets


def test_duplicate_rule_name(write_rules):
    body = "  - {name: a, check: count, table: t}\n  - {name: a, check: count, table: u}\n"
    assert problems(write_rules, body) == ["rules.yaml:6:12: rule 'a': duplicate rule name (first defined at line 5)"]


def test_a_duplicate_rule_is_still_checked(write_rules):
    body = "  - {name: a, check: count, table: t}\n  - {name: a, check: stuk}\n"
    assert problems(write_rules, body) == [
        "rules.yaml:6:12: rule 'a': duplicate rule name (first defined at line 5)",
        "rules.yaml:6:22: rule 'a': unknown check 'stuk' (did you mean 'stuck'?)",
    ]


def test_a_missing_required_key_is_reported_beside_the_other_problems(write_rules):
    body = "  - {name: a, check: stuck, table: 'jobs; drop', older_than: 5m}\n"
    assert problems(write_rules, body) == [
        "rules.yaml:5:5: rule 'a': check 'stuck' needs 'time_column'",
        "rules.yaml:5:36: rule 'a': 'jobs; drop' is not a valid table name ([schema.]name): use letters, digits and _ only",
    ]


def test_rule_not_a_mapping(write_rules):
    assert problems(write_rules, "  - just a string\n") == [
        "rules.yaml:5:5: each rule must be a mapping with at least 'name' and 'check'"
    ]


def test_bad_rule_name(write_rules):
    assert problems(write_rules, "  - {name: Bad-Name, check: count, table: t}\n") == [
        "rules.yaml:5:12: rule 'Bad-Name': 'Bad-Name' is not a valid rule name (lower-case letters, digits and _, starting with a letter)"
    ]


def test_missing_required_parameter(write_rules):
    assert problems(write_rules, "  - {name: a, check: stuck, table: t, time_column: c}\n") == [
        "rules.yaml:5:5: rule 'a': missing required key 'older_than'"
    ]


def test_kind_requirement(write_rules):
    assert problems(write_rules, "  - {name: a, check: stuck, table: t, older_than: 5m}\n") == [
        "rules.yaml:5:5: rule 'a': check 'stuck' needs 'time_column'"
    ]


def test_window_needs_time_column(write_rules):
    assert problems(write_rules, "  - {name: a, check: count, table: t, window: 1h}\n") == [
        "rules.yaml:5:39: rule 'a': 'window' needs 'time_column'"
    ]


def test_common_key_the_kind_does_not_use(write_rules):
    assert problems(write_rules, "  - {name: a, check: sql, query: 'select 1', table: t}\n") == [
        "rules.yaml:5:46: rule 'a': check 'sql' does not use 'table'"
    ]


def test_bad_expectation(write_rules):
    assert problems(write_rules, "  - {name: a, check: count, table: t, expect: 'more than 0'}\n") == [
        "rules.yaml:5:47: rule 'a': bad expectation 'more than 0': write an operator and a number, such as \"> 0\", \"== 0\" or \">= 2\""
    ]


def test_sql_must_be_one_select(write_rules):
    assert problems(write_rules, "  - {name: a, check: sql, query: 'select 1; delete from t'}\n") == [
        "rules.yaml:5:34: rule 'a': the query must be a single statement (found ';')"
    ]
    assert problems(write_rules, "  - {name: a, check: sql, query: 'delete from t'}\n") == [
        "rules.yaml:5:34: rule 'a': the query must be a SELECT (or WITH ... SELECT)"
    ]


def test_unknown_target(write_rules):
    assert problems(write_rules, "  - {name: a, check: count, table: t, target: mian}\n") == [
        "rules.yaml:5:47: rule 'a': unknown target 'mian' (did you mean 'main'?)"
    ]


def test_bad_severity(write_rules):
    assert problems(write_rules, "  - {name: a, check: count, table: t, severity: page}\n") == [
        "rules.yaml:5:49: rule 'a': 'page' is not one of info, warning, critical"
    ]


def test_bad_summary_template(write_rules):
    assert problems(write_rules, "  - {name: a, check: count, table: t, summary: '{{ violations '}\n") == [
        "rules.yaml:5:48: rule 'a': bad template: unexpected end of template, expected 'end of print statement'."
    ]


def test_yaml_syntax_error(write_rules):
    path = write_rules("version: 1\nrules: [\n")
    with pytest.raises(ConfigError) as caught:
        load(path, {})
    assert str(caught.value).replace(str(path), "rules.yaml") == (
        "rules.yaml:3:1: YAML syntax error: expected the node content, but found '<stream end>'"
    )


def test_duplicate_yaml_key(write_rules):
    assert problems(write_rules, "  - {name: a, check: count, table: t, table: u}\n") == [
        "rules.yaml:5:39: rule 'a': duplicate key 'table'"
    ]


def test_every_bad_where_column_is_reported(write_rules):
    body = "  - {name: a, check: count, table: t, where: {'bad col': 1, status: {like: x}}}\n"
    assert problems(write_rules, body) == [
        "rules.yaml:5:47: rule 'a': 'bad col' is not a valid column name: use letters, digits and _ only",
        "rules.yaml:5:70: rule 'a': unknown operator 'like'",
    ]


def test_target_without_dsn(write_rules):
    path = write_rules("version: 1\ntargets:\n  main: {statement_timeout: 5s}\nrules: []\n")
    with pytest.raises(ConfigError) as caught:
        load(path, {})
    assert str(caught.value).replace(str(path), "rules.yaml") == "rules.yaml:3:9: missing required key 'dsn'"


@pytest.mark.parametrize("dsn, message", [
    ("oracle://app:hunter22@db/x", "unsupported DSN scheme 'oracle': use postgresql://..., mysql://..., mariadb://..., sqlite:///path or duckdb://"),
    ("postgresq://app:hunter22@db/x", "unsupported DSN scheme 'postgresq': use postgresql://..., mysql://..., mariadb://..., sqlite:///path or duckdb://"),
    ("postgresql:/app:hunter22@db/x", "a PostgreSQL DSN starts with postgresql:// (use postgresql://..., mysql://..., mariadb://..., sqlite:///path or duckdb://)"),
    ("host=db password=hunter22", "not a DSN URL: use postgresql://..., mysql://..., mariadb://..., sqlite:///path or duckdb://"),
    ("sqlite:x.db", "an SQLite DSN looks like sqlite:///relative/path.db or sqlite:////absolute/path.db"),
])
def test_bad_dsn_points_at_it(write_rules, dsn, message):
    path = write_rules(f"version: 1\ntargets:\n  main: {{dsn: '{dsn}'}}\nrules: []\n")
    with pytest.raises(ConfigError) as caught:
        build_plan(path, env={})
    assert str(caught.value).replace(str(path), "rules.yaml") == f"rules.yaml:3:15: target 'main': {message}"


def test_file_not_a_mapping(write_rules):
    path = write_rules("- a\n- b\n")
    with pytest.raises(ConfigError) as caught:
        load(path, {})
    assert str(caught.value).replace(str(path), "rules.yaml") == (
        "rules.yaml:1:1: the rule file must be a mapping with 'version', 'targets' and 'rules'"
    )


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_empty_file(write_rules, text):
    path = write_rules(text)
    with pytest.raises(ConfigError) as caught:
        load(path, {})
    assert str(caught.value).replace(str(path), "rules.yaml") == (
        "rules.yaml:1:1: the file is empty (expected a mapping with 'version', 'targets' and 'rules')"
    )


def test_file_not_utf8_points_at_the_byte(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_bytes(b"version: 1\n# caf\xe9\n")
    with pytest.raises(ConfigError) as caught:
        load(path, {})
    assert str(caught.value).replace(str(path), "rules.yaml") == "rules.yaml:2:6: not UTF-8 text (byte 0xe9)"


def test_wrong_version(write_rules):
    path = write_rules("version: 2\ntargets: {main: {dsn: 'sqlite:///x'}}\nrules: []\n")
    with pytest.raises(ConfigError) as caught:
        load(path, {})
    assert str(caught.value).replace(str(path), "rules.yaml") == "rules.yaml:1:10: must be at most 1, got 2"


def test_all_problems_reported_in_one_run(write_rules):
    body = "  - {name: a, check: stuk}\n  - {name: b, check: count, table: 'x y'}\n  - {name: c, check: count, table: t, for: soon}\n"
    found = problems(write_rules, body)
    assert len(found) == 3
    assert [f.split(":")[1] for f in found] == ["5", "6", "7"]


@pytest.mark.parametrize("body", [
    "  - {name: a, check: stuk}\n",
    "  - {name: a, check: duplicate, table: 'jobs; drop table jobs', key: [id]}\n",
    "  - {name: a, check: count, table: t, window: 5 minutes, time_column: c}\n",
])
def test_cli_exits_2_without_traceback_and_runs_nothing(write_rules, capsys, body):
    path = write_rules(HEAD + body)
    assert main(["check", "-c", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    assert err.startswith(f"{path}:5:")
    assert err.rstrip().endswith("nothing was run.")


def test_missing_rule_file(tmp_path, capsys):
    assert main(["validate", "-c", str(tmp_path / "nope.yaml")]) == 2
    assert capsys.readouterr().err == (
        f"{tmp_path / 'nope.yaml'}:1:1: no such rule file (use -c FILE or set WATCHDOG_CONFIG)\n"
        "1 problem found; nothing was run.\n"
    )


def test_rule_file_is_a_directory(tmp_path, capsys):
    assert main(["validate", "-c", str(tmp_path)]) == 2
    assert capsys.readouterr().err.splitlines()[0] == f"{tmp_path}:1:1: is a directory, not a rule file (use -c FILE)"
