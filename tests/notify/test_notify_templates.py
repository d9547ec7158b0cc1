"""Alert text: user templates in a sandbox, never failing the alert."""
from __future__ import annotations

import pytest

from watchdog.notify.templates import default_templates, render_text

CONTEXT = {"rule": "stuck_jobs", "target": "main", "check": "stuck", "violations": 3, "value": 3, "error": "timeout"}


def test_user_template_renders() -> None:
    assert render_text("{{ violations }} jobs pending too long on {{ target }}", "x", CONTEXT) == "3 jobs pending too long on main"


def test_no_template_uses_the_default() -> None:
    summary, description = default_templates("stuck_jobs", "firing", "stuck_jobs")
    assert render_text(None, summary, CONTEXT) == "stuck_jobs on main: 3 violations"
    assert render_text("", description, CONTEXT) == "The stuck check of rule stuck_jobs on target main found 3 violations (value 3)."
    assert render_text(None, default_templates("stuck_jobs", "resolved", "stuck_jobs")[0], CONTEXT) == "stuck_jobs on main holds again"


def test_synthetic_alerts_have_their_own_defaults() -> None:
    assert render_text(None, default_templates("target_down", "firing", "stuck_jobs")[0], CONTEXT) == "target main is unreachable: timeout"
    assert "keeps failing" in render_text(None, default_templates("probe_failing", "firing", "stuck_jobs")[0], CONTEXT)


@pytest.mark.parametrize(("template", "reason"), [
    ("{{ violations", "TemplateSyntaxError"),
    ("{{ 1 / 0 }}", "ZeroDivisionError"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "SecurityError"),
])
def test_a_failing_template_yields_the_default_and_a_note(template: str, reason: str) -> None:
    text = render_text(template, "{{ rule }} violated", CONTEXT)
    assert text.startswith("stuck_jobs violated (template failed: ")
    assert reason in text


def test_missing_variables_render_empty() -> None:
    assert render_text("[{{ nothing }}]", "x", CONTEXT) == "[]"
