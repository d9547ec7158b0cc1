"""The rule keys about data that every kind may opt into with `uses:` in its spec (the one list)."""
from __future__ import annotations

DATA_KEYS = ("table", "where", "where_sql", "time_column", "time_unit", "window", "timezone",
             "group_by", "expect_groups", "per", "local_window")
#: Keys that come with `table`: any kind reading a table may use them.
TABLE_KEYS = ("min_population",)
