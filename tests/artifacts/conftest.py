"""Fixtures of the artifact tests: the real promtool and amtool (skip when absent, unless
WATCHDOG_REQUIRE_E2E=1, where their absence fails the run)."""
from __future__ import annotations

import pytest

from artifacts.tools import require_binary


@pytest.fixture(scope="session")
def promtool() -> str:
    return require_binary("promtool")


@pytest.fixture(scope="session")
def amtool() -> str:
    return require_binary("amtool")
