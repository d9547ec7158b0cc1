"""Fuzzing the rule loader: whatever the file holds, `watchdog validate` answers 0, or 2 with every
problem at FILE:LINE:COL; never a traceback, never an internal error (3), never a hang.

Two generators: text spliced from YAML's sharp edges (anchors, aliases, tags, flow collections,
quotes, variables, documents, control characters), and well-formed YAML of rule-like structures
with hostile values. Derandomized, so CI sees the same examples on every run.
"""
from __future__ import annotations

import contextlib
import io
import re
import tempfile
from datetime import timedelta
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchdog.cli import main

FUZZ = settings(max_examples=200, deadline=timedelta(seconds=5), derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])

HEAD = 'version: 1\ntargets: {main: {dsn: "sqlite:///nowhere.db"}}\n'
FRAGMENTS = [
    "version: 1\n", "targets:\n", "rules:\n", "  - ", "    ", "- ", "name: r", "check: sql", "check: count",
    "table: t", "query: ", "where: ", "interval: ", "window: ", "0s", "99999999999d", "1h30m", "-5m",
    "{", "}", "[", "]", ", ", ": ", "? ", "&a ", "&b ", "*a", "*b", "<<: ", "!!python/object:os.system ",
    "!!int ", "!!float ", "!!binary ", "!!timestamp ", "!!set ", "!foo ", "'", '"', "''", "\\", "|\n", ">-\n",
    "${X}", "${X:-d}", "$${", "${", "---\n", "...\n", "%YAML 1.1\n", "#", "\t", "\n", "\r", "\x00", "\x85",
    "\ufeff", "é", "1e400", "0x1F", "~", "null", "on", "yes", "2024-13-45", "select 1; delete from t",
    "select $q$;$q$", "/* ' */;", "[" * 300, "{a: " * 100, "- " * 100, "&a [*a]", "x: &l [1, 2, 3]\ny: [*l, *l, *l]\n",
]


def validate(text: str) -> None:
    """Run `watchdog validate` on `text`; assert its contract."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rules.yaml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["validate", "-c", str(path)])
    lines = err.getvalue().splitlines()
    assert code in (0, 2), err.getvalue()
    assert "Traceback" not in err.getvalue() and "internal error" not in err.getvalue()
    if code == 2:
        assert lines and re.fullmatch(r"\d+ problems? found; nothing was run\.", lines[-1]), lines
        located = re.compile(rf"{re.escape(str(path))}:\d+:\d+: ")
        assert all(located.match(line) for line in lines[:-1]), lines


@FUZZ
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=60))
def test_spliced_yaml_is_answered_with_located_problems(parts):
    validate("".join(parts))


@FUZZ
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=60), st.integers(min_value=1, max_value=9))
def test_spliced_yaml_after_a_valid_head(parts, repeat):
    validate(HEAD + "rules:\n" + "".join(parts) * repeat)


KEYS = ["name", "check", "table", "where", "where_sql", "time_column", "time_unit", "window", "interval",
        "for", "severity", "labels", "summary", "description", "samples", "tags", "enabled", "statement_timeout",
        "repeat_interval", "error_threshold", "query", "expect", "key", "older_than", "child", "target", "on", "bogus"]
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
           | st.sampled_from(["count", "sql", "stuck", "orphan", "duplicate", "0s", "30s", "99999999999d", "> 0",
                              "select 1", "select 1; select 2", "{{ x", "jobs; drop table jobs", "${X}", "r_1"])
           | st.text(max_size=12))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=4), max_leaves=20)
RULES = st.lists(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=8), max_size=5)


@FUZZ
@given(RULES, st.booleans())
def test_rule_structures_are_answered_with_located_problems(rules, shared):
    """`shared`: every rule is the same object, which the YAML dumper writes as one anchor and aliases."""
    document = {"version": 1, "targets": {"main": {"dsn": "sqlite:///nowhere.db"}},
                "rules": [rules[0]] * 3 if shared and rules else rules}
    validate(yaml.safe_dump(document, allow_unicode=True))
