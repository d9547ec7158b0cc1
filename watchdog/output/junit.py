"""`--format junit`: one testcase per rule, so CI test reporters show proofs like unit tests."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from watchdog.output.presented import Rules, summary
from watchdog.results.model import Result, jsonable, summarize


def render(results: Sequence[Result], rules: Rules | None = None, suite: str = "watchdog") -> str:
    counts = summarize(results)
    root = ET.Element("testsuites", name=suite, tests=str(len(results)), failures=str(counts["violated"]),
                      errors=str(counts["error"]), time=f"{sum(r.duration_seconds for r in results):.3f}")
    suites: dict[str, ET.Element] = {}
    for r in results:
        if r.target not in suites:
            suites[r.target] = ET.SubElement(root, "testsuite", name=f"{suite}.{r.target}", tests="0", failures="0", errors="0")
        node = suites[r.target]
        node.set("tests", str(int(node.get("tests", "0")) + 1))
        case = ET.SubElement(node, "testcase", classname=f"{suite}.{r.target}.{r.check}", name=r.rule, time=f"{r.duration_seconds:.3f}")
        if r.status == "violated":
            node.set("failures", str(int(node.get("failures", "0")) + 1))
            failure = ET.SubElement(case, "failure", type=r.check, message=_failure_message(r, summary(r, rules)))
            failure.text = "\n".join(json.dumps(jsonable(s), ensure_ascii=False) for s in r.samples) or None
        elif r.status == "error":
            node.set("errors", str(int(node.get("errors", "0")) + 1))
            ET.SubElement(case, "error", type="probe_error", message=r.error or "probe failed")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _failure_message(r: Result, said: str | None) -> str:
    """What the CI's test view shows first: the rule's summary, else the count (for a count, ratio
    or age the measured value says more than "1")."""
    if said:
        return f"{said} [{r.severity}]"
    measured = f", value {r.value:g}" if r.value is not None and r.value != r.violations else ""
    return f"{r.violations} violation(s){measured} [{r.severity}]"
