"""Fixtures of the notify tests: real HTTP servers on 127.0.0.1 and a fake clock."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from notify_helpers import FakeClock, Server


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.close()


@pytest.fixture
def make_server() -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def make(port: int = 0) -> Server:
        servers.append(Server(port))
        return servers[-1]

    yield make
    for srv in servers:
        srv.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
