"""Which rules a silence matches, and which silences quiet a rule at an instant."""
from __future__ import annotations

from datetime import datetime, timezone

from watchdog.config.model import Rule
from watchdog.model.silences import Match, OneOff, Silence
from watchdog.silences.active import active_silences, matches, silences_of, target_silences

UTC = timezone.utc
START, END = datetime(2026, 12, 3, 8, tzinfo=UTC), datetime(2026, 12, 3, 12, tzinfo=UTC)
DURING, AFTER = datetime(2026, 12, 3, 9, tzinfo=UTC), datetime(2026, 12, 3, 13, tzinfo=UTC)


def rule(name: str = "sitemap_stale", target: str = "main", tags: tuple[str, ...] = ("seed-004",),
         severity: str = "warning") -> Rule:
    return Rule(name=name, check="count", target=target, params={}, tags=tags, severity=severity)


def silence(name: str = "s", **match: tuple[str, ...]) -> Silence:
    return Silence(name, Match(**match), OneOff(START, END))


def test_each_key_of_a_match_must_match_and_a_key_of_several_values_matches_any() -> None:
    assert matches(silence(tag=("seed-004",)), rule())
    assert matches(silence(tag=("other", "seed-004")), rule())
    assert not matches(silence(tag=("other",)), rule())
    assert matches(silence(target=("main",), severity=("warning",)), rule())
    assert not matches(silence(target=("main",), severity=("critical",)), rule())  # all keys must match
    assert matches(silence(rule=("sitemap_stale",)), rule())
    assert not matches(silence(rule=("sitemap_stale",)), rule(name="other"))
    assert not matches(silence(target=("replica",)), rule())


def test_the_status_page_sees_every_silence_of_a_rule_and_whether_it_holds() -> None:
    silences = [silence("by_tag", tag=("seed-004",)), silence("elsewhere", target=("replica",)), silence("by_rule", rule=("sitemap_stale",))]
    during = silences_of(silences, rule(), DURING)
    assert [(s.silence.name, s.active) for s in during] == [("by_tag", True), ("by_rule", True)]
    assert during[0].window is not None and (during[0].window.start, during[0].window.end) == (START, END)
    assert [(s.silence.name, s.active) for s in silences_of(silences, rule(), AFTER)] == [("by_tag", False), ("by_rule", False)]
    assert [s.name for s in active_silences(silences, rule(), DURING)] == ["by_tag", "by_rule"]
    assert active_silences(silences, rule(), AFTER) == []


def test_only_a_silence_of_the_target_alone_quiets_the_target_itself() -> None:
    silences = [silence("whole", target=("main",)), silence("some", target=("main",), tag=("seed-004",))]
    assert [s.name for s in target_silences(silences, "main", DURING)] == ["whole"]
    assert target_silences(silences, "main", AFTER) == []
    assert target_silences(silences, "replica", DURING) == []
