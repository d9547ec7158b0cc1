"""The loader reads a bounded amount of a rule file and keeps the values of variables apart."""
from __future__ import annotations

import pytest

from watchdog.cli import main
from watchdog.config.loader import MAX_FILE_BYTES, load
from watchdog.errors import ConfigError


def test_a_rule_file_over_the_size_limit_is_refused_saying_the_limit(tmp_path, capsys):
    path = tmp_path / "big.yaml"
    path.write_text("version: 1\n" + "# padding\n" * (MAX_FILE_BYTES // 10))
    assert main(["validate", "-c", str(path)]) == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        f"{path}:1:1: the rule file is larger than 4 MiB: refused (split it, or remove what is not rules)"
    )


def test_an_endless_file_is_not_read_to_its_end():
    with pytest.raises(ConfigError, match="larger than 4 MiB"):
        load("/dev/zero", {})


def test_a_file_just_under_the_limit_is_read(tmp_path):
    head = 'version: 1\ntargets: {main: {dsn: "sqlite:///x.db"}}\nrules: []\n'
    path = tmp_path / "r.yaml"
    path.write_text(head + "#" * (MAX_FILE_BYTES - len(head) - 1) + "\n")
    assert load(path, {}).rule_file.rules == ()


def test_variable_values_are_secrets_and_the_strings_they_were_expanded_in_are_kept(write_rules):
    path = write_rules("""
        version: 1
        targets: {main: {dsn: "sqlite:///x.db"}}
        rules:
          - {name: a, check: count, table: t, where: {tenant: "${TENANT}", code: "x-${CODE}"}}
    """)
    rule_file = load(path, {"TENANT": "acme-corp", "CODE": "7", "UNUSED": "not-referenced"}).rule_file
    assert rule_file.expanded == {"acme-corp", "x-7"}
    assert rule_file.secrets == {"acme-corp"}


def test_api_token_from_the_file_or_the_environment(tmp_path) -> None:
    from watchdog.config.loader import load
    base = "version: 1\ntargets: {main: {dsn: 'sqlite:///x.db'}}\nrules: []\n"
    (tmp_path / "a.yaml").write_text(base)
    assert load(tmp_path / "a.yaml", env={}).rule_file.api_token is None
    assert load(tmp_path / "a.yaml", env={"WATCHDOG_API_TOKEN": "from-env-1"}).rule_file.api_token == "from-env-1"
    (tmp_path / "b.yaml").write_text(base + "api: {token: '${T}'}\n")
    loaded = load(tmp_path / "b.yaml", env={"T": "from-file-1", "WATCHDOG_API_TOKEN": "from-env-1"}).rule_file
    assert loaded.api_token == "from-file-1" and "from-file-1" in loaded.secrets


def test_a_bad_value_from_a_variable_or_a_file_is_not_echoed_in_its_problem(tmp_path, capsys, monkeypatch) -> None:
    # Fails before: `validate` printed "'supersecretvalue' is not one of info, warning, critical".
    from watchdog.cli import main
    (tmp_path / "level").write_text("filesecretvalue\n")
    path = tmp_path / "rules.yaml"
    path.write_text('version: 1\ntargets: {main: {dsn: "sqlite:///x.db"}}\nrules:\n'
                    '  - {name: a, check: count, table: jobs, severity: "${SEV}"}\n'
                    '  - {name: b, check: count, table: jobs, severity: "${file:level}"}\n')
    monkeypatch.setenv("SEV", "supersecretvalue")
    assert main(["validate", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert "supersecretvalue" not in err and "filesecretvalue" not in err
    assert err.count("'***' is not one of info, warning, critical") == 2
