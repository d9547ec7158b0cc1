"""Field caps: values that would fail at run time, or never fire, are refused by validate."""
from __future__ import annotations

import pytest

from watchdog.errors import Location
from watchdog.validation.fields import MAX_VALUES, Ctx, Filter, Invalid, Number, Scalars
from watchdog.validation.yamlsource import Node, parse


def node(text: str) -> Node:
    root, problems = parse(f"v: {text}\n", "r.yaml", {})
    assert problems == []
    return root.value["v"]


@pytest.mark.parametrize("text", [".nan", ".inf", "-.inf"])
def test_a_number_must_be_finite(text):
    with pytest.raises(Invalid, match="expected a finite number"):
        Number().convert(node(text), Ctx())


def test_a_list_of_values_is_capped():
    values = "[" + ", ".join(str(i) for i in range(MAX_VALUES + 1)) + "]"
    with pytest.raises(Invalid, match=f"at most {MAX_VALUES} values, got {MAX_VALUES + 1}"):
        Scalars().convert(node(values), Ctx())
    assert len(Scalars().convert(node(values.replace(f", {MAX_VALUES}]", "]")), Ctx())) == MAX_VALUES


def test_a_where_list_is_capped_at_its_column():
    values = "[" + ", ".join(str(i) for i in range(MAX_VALUES + 1)) + "]"
    ctx = Ctx()
    Filter().convert(node(f"{{id: {values}}}"), ctx)
    assert [(p.location, p.message) for p in ctx.problems] == [
        (Location("r.yaml", 1, 9), f"at most {MAX_VALUES} values, got {MAX_VALUES + 1} (each is a bound parameter)")
    ]
