"""The JSON Schema of the rule file, built from the same fields the loader validates with."""
from __future__ import annotations

from typing import Any

from watchdog.catalogue.registry import Registry
from watchdog.validation.fields import object_schema
from watchdog.config.loader import rule_fields
from watchdog.config.spec import top_fields


def rule_file_schema(registry: Registry) -> dict[str, Any]:
    top = object_schema(top_fields())
    variants = []
    for name in registry.names():
        kind = registry.kinds[name]
        fields = dict(rule_fields(kind))
        schema = object_schema(fields)
        schema["properties"]["check"] = {"const": name, "description": kind.description}
        schema["title"] = name
        variants.append({"if": {"properties": {"check": {"const": name}}, "required": ["check"]}, "then": schema})
    top["properties"]["rules"] = {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["name", "check"],
            "properties": {"check": {"enum": registry.names()}},
            "allOf": variants,
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/scheduler-watchdog/watchdog/rules.schema.json",
        "title": "watchdog rule file",
        **top,
    }
