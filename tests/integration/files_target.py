"""A rule file pointed at DuckDB over the demo tables written as JSONL files (issue 15's target kind)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

def on_files(path: Path, files: Path, tables: dict[str, Any]) -> Path:
    """A copy of the rule file `path` whose targets read `tables` (JSONL under `files`) through DuckDB."""
    import yaml

    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec = {name: {"path": source.path, "format": source.format} for name, source in tables.items()}
    document["targets"] = {name: {"dsn": "duckdb://", "tables": spec} for name in document["targets"]}
    copy = files / f"duckdb-{path.name}"
    copy.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return copy
