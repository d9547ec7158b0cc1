import pytest

from watchdog.model.durations import format_duration, parse_duration
from watchdog.validation.envexpand import MissingVariable, expand


@pytest.mark.parametrize("text,seconds", [("30s", 30), ("5m", 300), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("500ms", 0.5), ("0", 0)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5", "5 m", "m5", "-5m", "5min", ""])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("seconds,text", [(0, "0s"), (30, "30s"), (300, "5m"), (5400, "90m"), (86400, "1d"), (0.25, "250ms")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_expand_variables_defaults_and_escape():
    env = {"A": "x"}
    assert expand("${A}/${B:-dflt}/${C:-}/$${A}", env) == "x/dflt//${A}"
    with pytest.raises(MissingVariable, match="'B'"):
        expand("${B}", env)
