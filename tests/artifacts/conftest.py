"""Fixtures of the artifact tests: the real Prometheus tools (skip when absent, unless
WATCHDOG_REQUIRE_E2E=1, where their absence fails the run) and an HTTP receiver for notifications."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from artifacts.servers import Receiver
from artifacts.tools import require_binary


@pytest.fixture(scope="session")
def promtool() -> str:
    return require_binary("promtool")


@pytest.fixture(scope="session")
def amtool() -> str:
    return require_binary("amtool")


@pytest.fixture(scope="session")
def prometheus_binary() -> str:
    return require_binary("prometheus")


@pytest.fixture(scope="session")
def alertmanager_binary() -> str:
    return require_binary("prometheus-alertmanager", "alertmanager")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()
