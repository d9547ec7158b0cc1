"""Real HTTP servers on 127.0.0.1 that record requests and answer from a script; a fake clock."""
from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from watchdog.notify.message import Notification


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Server:
    """Answers POSTs with the scripted replies in turn, then with `default`; records every request."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[Request] = []
        self.script: deque[Reply] = deque()
        self.default = Reply()
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with owner.lock:
                    owner.requests.append(Request(self.path, dict(self.headers.items()), body))
                    reply = owner.script.popleft() if owner.script else owner.default
                time.sleep(reply.delay)
                payload = reply.body.encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def reply(self, *replies: Reply) -> None:
        self.script.extend(replies)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeClock:
    """Unix time that only moves when someone sleeps: retries with backoff take no real time."""

    def __init__(self, start: float = 1_770_224_700.0) -> None:
        self.now = start
        self.slept: list[float] = []
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.slept.append(seconds)
            self.now += seconds


STARTS = datetime(2026, 2, 4, 17, 5, tzinfo=timezone.utc)
ENDS = datetime(2026, 2, 4, 17, 47, 30, tzinfo=timezone.utc)


def notification(**overrides: Any) -> Notification:
    """A firing duplicate_runs alert, as the runtime would build it."""
    fields: dict[str, Any] = dict(
        status="firing", rule="duplicate_runs", target="main", check="duplicate", severity="critical",
        violations=2, value=2.0,
        samples=({"job_id": "digest", "run_at_ms": 1738688100000, "copies": 2},
                 {"job_id": "nightly-export", "run_at_ms": 1738688400000, "copies": 3}),
        summary="2 duplicated runs of the same (job_id, run_at_ms)",
        description="Two workers claimed the same run: see incident 000.",
        runbook_url="https://example.org/runbooks/duplicate-runs", labels={"team": "scheduler"},
        fingerprint="5f1c0a9d3e2b7c41", starts_at=STARTS, ends_at=None,
    )
    fields.update(overrides)
    return Notification(**fields)


def resolved(**overrides: Any) -> Notification:
    return notification(status="resolved", ends_at=ENDS, violations=0, value=0.0, samples=(),
                        summary="duplicate_runs on main holds again", **overrides)
