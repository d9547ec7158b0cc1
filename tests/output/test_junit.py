"""`--format junit`: what a CI test view shows for each rule."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from watchdog.output.junit import render
from watchdog.results.model import Result

NOW = datetime(2026, 2, 4, 17, 5, tzinfo=timezone.utc)


def failure_message(**fields) -> str:
    result = Result(rule="r", target="main", status="violated", severity="critical", evaluated_at=NOW, **fields)
    return ET.fromstring(render([result])).find(".//failure").get("message")


def test_failure_of_an_aggregate_kind_shows_the_measured_value():
    assert failure_message(check="count", violations=1, value=0.0) == "1 violation(s), value 0 [critical]"
    assert failure_message(check="ratio", violations=1, value=0.1622) == "1 violation(s), value 0.1622 [critical]"


def test_failure_of_a_row_kind_shows_the_count_once():
    assert failure_message(check="stuck", violations=3, value=3.0) == "3 violation(s) [critical]"
