"""A probe's SQL as people read it: the statement, then its bound parameters, a value that came
from a ${VAR} masked however short. `watchdog compile` prints it; the status page shows it."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watchdog.compiler.probe import Probe

MASK = "*** (from a variable)"


def probe_listing(probe: Probe, expanded: frozenset[str]) -> str:
    rule = probe.rule
    return (f"-- rule {rule.name} ({rule.check}) on target {rule.target} [{probe.dialect.name}]\n"
            f"{probe.sql};\n{parameters(probe.params, expanded)}")


def parameters(params: Mapping[str, Any], expanded: frozenset[str]) -> str:
    """Bound values; time-dependent ones (cutoffs, bucket edges) say how they are bound."""
    lines = [f"--   {key} = {shown(value, expanded)}" for key, value in params.items()]
    return "-- parameters:\n" + ("\n".join(lines) or "--   (none)") + "\n"


def shown(value: Any, expanded: frozenset[str]) -> str:
    """A bound value as the listing shows it: one that came from a ${VAR} is masked, however short."""
    if isinstance(value, str) and value in expanded:
        return MASK
    if isinstance(value, (list, tuple)):
        return f"[{', '.join(shown(v, expanded) for v in value)}]"
    return str(value) if hasattr(value, "unit") else repr(value)
