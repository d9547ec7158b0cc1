"""Renderers of check results: text table, JSON record, JUnit XML."""
