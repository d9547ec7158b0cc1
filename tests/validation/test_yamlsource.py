"""Hostile YAML is refused quickly, at a place in the file, never with an internal error."""
from __future__ import annotations

import resource
import time

import pytest

from watchdog.cli import main
from watchdog.errors import Location
from watchdog.validation.yamlsource import MAX_ALIASED, MAX_DEPTH, parse

# Time is measured in CPU seconds (time.process_time): the refusal takes milliseconds, the bound
# is half a second, and a loaded machine's wall clock must not make the test fail.
# Nine levels of nine aliases: 9**9 (387 million) strings once expanded, 746 bytes on disk.
LEVELS = "abcdefghi"
BILLION_LAUGHS = "version: 1\nx0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"x{n}: &x{n} [{', '.join([f'*x{n - 1}'] * 9)}]\n" for n in range(1, len(LEVELS))
) + f"rules: *x{len(LEVELS) - 1}\n"


def problems(text: str) -> list[str]:
    root, found = parse(text, "r.yaml", {})
    assert root is None
    return [str(p) for p in found]


def test_billion_laughs_is_refused_at_the_alias_that_crosses_the_limit():
    started = time.process_time()
    assert problems(BILLION_LAUGHS) == [
        f"r.yaml:7:10: YAML aliases expand to more than {MAX_ALIASED} values: refused (is this a 'billion laughs' file?)"
    ]
    assert time.process_time() - started < 0.5


def test_billion_laughs_through_the_cli_exits_2_fast_in_little_memory(tmp_path, capsys):
    path = tmp_path / "laughs.yaml"
    path.write_text(BILLION_LAUGHS)
    assert len(BILLION_LAUGHS.encode()) < 800
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.process_time()
    assert main(["validate", "-c", str(path)]) == 2
    assert time.process_time() - started < 0.5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:7:10: YAML aliases expand") and "Traceback" not in err


@pytest.mark.parametrize("text, where", [
    ("a: &a [1, *a]\n", "r.yaml:1:11"),
    ("a: &a {b: {c: *a}}\n", "r.yaml:1:15"),
])
def test_a_recursive_alias_is_a_located_problem(text, where):
    assert problems(text) == [f"{where}: YAML alias '*a' refers to a value that contains it"]


@pytest.mark.parametrize("text", [
    "rules: " + "[" * 5000 + "]" * 5000 + "\n",
    "rules: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
    "rules:\n" + "".join(" " * i + "- \n" for i in range(3000)),
])
def test_deep_nesting_is_a_located_problem(text):
    found = problems(text)
    assert len(found) == 1 and found[0].startswith("r.yaml:")
    assert found[0].endswith(f"YAML nesting deeper than {MAX_DEPTH} levels: refused")


def test_aliases_within_the_limit_are_expanded_where_they_are_used():
    root, found = parse("base: &w {status: failed}\nrules:\n  - where: *w\n", "r.yaml", {})
    assert found == []
    where = root.value["rules"].value[0].value["where"]
    assert where.plain() == {"status": "failed"}
    assert where.key_loc == Location("r.yaml", 3, 5)


def test_a_second_document_and_an_undefined_alias_are_located():
    assert problems("a: 1\n---\nb: 2\n") == ["r.yaml:2:1: YAML syntax error: expected a single document in the stream"]
    assert problems("a: *nope\n") == ["r.yaml:1:4: YAML syntax error: found undefined alias 'nope'"]


def test_python_tags_and_bad_typed_scalars_are_located_problems():
    root, found = parse("a: !!python/object:os.system x\nb: !!int nope\nc: ok\n", "r.yaml", {})
    assert [str(p) for p in found] == [
        "r.yaml:1:4: YAML tag 'tag:yaml.org,2002:python/object:os.system' is not supported",
        "r.yaml:2:4: not a valid !!int value: 'nope'",
    ]
    assert root.value["c"].value == "ok"


def test_a_key_that_is_not_plain_text_is_a_problem():
    root, found = parse("? [a, b]\n: 1\nc: 2\n", "r.yaml", {})
    assert [str(p) for p in found] == ["r.yaml:1:3: a key must be plain text, not a list or a mapping"]
    assert root.plain() == {"c": 2}


def test_scalars_that_break_pyyamls_constructors_are_located_problems():
    root, found = parse("a: !!int\nb: !!timestamp x\n", "r.yaml", {})
    assert [str(p) for p in found] == [
        "r.yaml:1:4: not a valid !!int value: ''",
        "r.yaml:2:4: not a valid !!timestamp value: 'x'",
    ]


def test_a_control_character_is_located_on_one_line():
    assert problems("a: 1\nb: x\x1fy\n") == [
        "r.yaml:2:5: YAML error: control characters are not allowed (#x001f)"
    ]


def test_a_merge_key_is_refused_and_a_lone_merge_value_is_text():
    root, found = parse("a: <<\nb: {<<: {x: 1}, c: 2}\n", "r.yaml", {})
    assert [str(p) for p in found] == ["r.yaml:2:5: YAML merge keys ('<<') are not supported"]
    assert root.plain() == {"a": "<<", "b": {"c": 2}}
