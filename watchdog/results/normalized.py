"""Duplicates of a key some of whose columns are compared in a canonical form (`normalize:`):
the database groups by the key as written, and groups whose canonical keys are equal are merged
here, where the canonical form can be computed (`* * * * *` and `*/1 * * * *` are one cron
schedule; SQL cannot tell)."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from watchdog.schedules.cron import normalize as cron

#: The canonical forms `normalize:` may name, column value -> canonical text.
FORMS: dict[str, Callable[[str], str]] = {"cron": cron}


def merged_duplicates(rows: Sequence[dict[str, Any]], key: Sequence[str], normalize: Mapping[str, str],
                      samples: int) -> tuple[int, tuple[dict[str, Any], ...]]:
    """(keys occurring more than once, the first `samples` of them): each with its canonical key,
    its `copies`, and how each normalized column was written (`schedule_as_written`)."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        canonical = tuple(_canonical(row[c], normalize.get(c)) for c in key)
        group = groups.setdefault(canonical, {"copies": 0, "written": {c: set() for c in normalize}})
        group["copies"] += int(row["copies"])
        for column in normalize:
            group["written"][column].add(row[column])
    duplicated = sorted(((k, g) for k, g in groups.items() if g["copies"] > 1), key=lambda kg: (-kg[1]["copies"], str(kg[0])))
    return len(duplicated), tuple(
        {**dict(zip(key, canonical)), "copies": group["copies"],
         **{f"{c}_as_written": sorted(map(str, group["written"][c])) for c in normalize}}
        for canonical, group in duplicated[:samples])


def _canonical(value: Any, form: str | None) -> Any:
    """The value in its canonical form; one that cannot be read (a bad schedule) stays as written."""
    if form is None or not isinstance(value, str):
        return value
    try:
        return FORMS[form](value)
    except ValueError:
        return value
