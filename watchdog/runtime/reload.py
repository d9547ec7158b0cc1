"""What a reload of the rule file changes: the rules that stay as they were, the new, the changed, the gone.

A rule is unchanged when its typed definition (every key of the rule but where it is written, its
check kind, its target's settings and dialect) is equal to the one running: moving a rule in the
file or editing a comment changes nothing. An unchanged rule keeps its compiled probe, and a unit
(`watchdog.evaluation.units`) made only of unchanged probes in the same grouping is kept as the
same object, so the scheduler keeps its slot and the unit is not run at reload time. A batch that
gained, lost or changed a member is a new unit: its unchanged members run with it at once.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from watchdog.compiler.probe import Probe
from watchdog.errors import ConfigError, Problem
from watchdog.evaluation.units import Unit, plan_units
from watchdog.plan import Plan
from watchdog.probing.dsn import scrub

Key = tuple[str, str]  # (rule, target)


@dataclass(frozen=True)
class Delta:
    """The plan to run from now on (unchanged rules' probes are the running ones) and its units."""

    plan: Plan
    units: list[Unit]
    unchanged: frozenset[Key]
    changed: frozenset[Key]
    added: frozenset[Key]
    removed: frozenset[Key]

    def summary(self) -> str:
        counts = [(len(self.added), "added"), (len(self.changed), "changed"), (len(self.removed), "removed"),
                  (len(self.unchanged), "unchanged")]
        return ", ".join(f"{count} {what}" for count, what in counts)


def definition(probe: Probe, plan: Plan) -> tuple[Any, ...]:
    """What a probe is made from, as typed values (never its SQL text), without file positions."""
    target = plan.targets[probe.rule.target]
    return replace(probe.rule, location=None), probe.kind, replace(target, location=None), probe.dialect


def delta(old: Plan, old_units: Sequence[Unit], new: Plan) -> Delta:
    running = {(p.rule.name, p.rule.target): p for p in old.probes}
    probes: list[Probe] = []
    unchanged, changed, added = set(), set(), set()
    for probe in new.probes:
        key = (probe.rule.name, probe.rule.target)
        before = running.get(key)
        if before is None:
            added.add(key)
        elif definition(before, old) == definition(probe, new):
            unchanged.add(key)
            probe = before
        else:
            changed.add(key)
        probes.append(probe)
    plan = replace(new, probes=tuple(probes))
    return Delta(plan, _keep_units(old_units, plan_units(plan.probes)), frozenset(unchanged), frozenset(changed),
                 frozenset(added), frozenset(running.keys() - unchanged - changed))


def _keep_units(old: Sequence[Unit], new: list[Unit]) -> list[Unit]:
    """`new`, where a unit holds the very probes of a running unit, in the same order, that unit."""
    running = {tuple(map(id, unit.probes)): unit for unit in old}
    return [running.get(tuple(map(id, unit.probes)), unit) for unit in new]


def masked(error: ConfigError, known: Iterable[str]) -> ConfigError:
    """The problems of a refused file with the running watchdog's secrets masked too (the loader
    masks those the refused file refers to): a DSN password may be quoted in a problem."""
    return ConfigError([Problem(p.location, scrub(p.message, known), p.rule) for p in error.problems])
