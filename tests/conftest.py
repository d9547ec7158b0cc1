"""Shared fixtures: a real PostgreSQL (never a mock) and rule files written on the fly."""
