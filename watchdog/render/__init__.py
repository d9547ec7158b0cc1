"""Artifacts generated from the rule file for other tools (`watchdog render ...`)."""
