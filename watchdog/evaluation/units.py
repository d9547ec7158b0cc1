"""Work units: what one connection runs in one go, keyed by target and rule names.

A unit is a batch (the rules of one target and table with the same interval, one scan) or a lone
probe. A batch whose shared query fails with an SQL error is split: from then on its members run
one by one, so the error lands on the rule that causes it and the others are still checked.
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from watchdog.compiler.batch import Batch, split
from watchdog.compiler.probe import Probe


@dataclass(eq=False)
class Unit:
    item: Batch | Probe
    busy: threading.Lock = field(default_factory=threading.Lock)
    split: bool = False
    held: set[int] = field(default_factory=set)  # id() of the probes the last evaluation found holding

    @cached_property
    def probes(self) -> tuple[Probe, ...]:
        """The unit's probes (read several times per evaluation: made once)."""
        return members(self.item)

    @property
    def target(self) -> str:
        return self.probes[0].rule.target

    @property
    def interval(self) -> float:
        return self.probes[0].rule.interval

    @property
    def name(self) -> str:
        return ",".join(p.rule.name for p in self.probes)

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return self.target, tuple(p.rule.name for p in self.probes)

    @property
    def batch(self) -> Batch | None:
        """The shared query to run, unless there is none or it was split after failing."""
        return self.item if isinstance(self.item, Batch) and not self.split else None

    def offset(self) -> float:
        """A stable fraction of the interval, from the unit's name: slots survive restarts."""
        digest = hashlib.sha256(f"{self.target}/{self.name}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 * self.interval


def members(item: Batch | Probe) -> tuple[Probe, ...]:
    return item.members if isinstance(item, Batch) else (item,)


def plan_units(probes: Iterable[Probe]) -> list[Unit]:
    """Batches per (target, table, interval); everything else alone. Every command uses this."""
    groups: dict[tuple[str, float], list[Probe]] = {}
    for probe in probes:
        groups.setdefault((probe.rule.target, probe.rule.interval), []).append(probe)
    units: list[Unit] = []
    for group in groups.values():
        batches, alone = split(group)
        units += [Unit(batch) for batch in batches] + [Unit(probe) for probe in alone]
    return units
