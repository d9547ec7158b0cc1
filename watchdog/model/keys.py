"""The rule keys about data that every kind may opt into with `uses:` in its spec (the one list)."""
from __future__ import annotations

DATA_KEYS = ("table", "where", "where_sql", "time_column", "time_unit", "window")
