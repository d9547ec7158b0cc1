"""The HTTP side of `watchdog run`: /metrics for Prometheus, /-/healthy and /-/ready for supervisors.

/-/healthy answers 200 while nothing is wrong, else 503 with one line per problem (a thread that
died, a state file that cannot be written, rules not evaluated for 2 intervals); /-/ready once every rule has been
evaluated at least once (until then /metrics is incomplete). Content negotiation (text format or
OpenMetrics, plain or gzip) is the Exposition's: it hands out bodies rendered in the background.
POSTs go to the write API's actions (POST /-/reload), each behind the token (watchdog.runtime.auth).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from watchdog.runtime.address import parse_listen
from watchdog.runtime.auth import bearer, check_token
from watchdog.runtime.exposition import Exposition

INDEX = b"""<html><head><title>watchdog</title></head><body><h1>watchdog</h1>
<p><a href="/metrics">/metrics</a> &middot; <a href="/-/healthy">/-/healthy</a> &middot; <a href="/-/ready">/-/ready</a></p>
</body></html>
"""


class ListenError(Exception):
    """The listen address cannot be bound; the message says which and why."""


#: A write action: runs on the request's own thread, answers with an HTTP status and a short text.
Action = Callable[[], tuple[int, str]]
#: The largest request body read (no action takes one yet).
MAX_BODY = 64 * 1024


class MetricsServer:
    """`token` is asked at each request (a reload may change it); `actions` answer POSTs by path."""

    def __init__(self, listen: str, exposition: Exposition, healthy: Callable[[], list[str]], ready: Callable[[], bool],
                 token: Callable[[], str | None] = lambda: None, actions: Mapping[str, Action] | None = None) -> None:
        host, port = parse_listen(listen)
        self._exposition = exposition
        handler = _handler(exposition, healthy, ready, token, dict(actions or {}))
        try:
            self._httpd = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            raise ListenError(f"cannot listen on {listen}: {exc.strerror or exc}") from None
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.2,), name="watchdog-http", daemon=True)

    @property
    def address(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> None:
        self._exposition.start()
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._exposition.stop()


def _handler(exposition: Exposition, healthy: Callable[[], list[str]], ready: Callable[[], bool],
             token: Callable[[], str | None], actions: Mapping[str, Action]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                body, content_type, zipped = exposition.body(self.headers.get("Accept", ""), self.headers.get("Accept-Encoding", ""))
                self._answer(200, body, {"Content-Type": content_type, **({"Content-Encoding": "gzip"} if zipped else {})})
            elif path == "/-/healthy":
                problems = healthy()
                self._status(not problems, b"healthy\n", "".join(f"{p}\n" for p in problems).encode())
            elif path == "/-/ready":
                self._status(ready(), b"ready\n", b"not every rule has been evaluated yet\n")
            elif path == "/":
                self._answer(200, INDEX, {"Content-Type": "text/html; charset=utf-8"})
            else:
                self._answer(404, b"not found\n", {"Content-Type": "text/plain"})

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = self.headers.get("Content-Length") or "0"
            if not length.isdigit() or int(length) > MAX_BODY:  # before any token check: nobody makes us read a flood
                self.close_connection = True
                self._answer(413, b"request body too large\n", {"Content-Type": "text/plain", "Connection": "close"})
                return
            self.rfile.read(int(length))  # read, so that the connection stays usable
            action = actions.get(self.path.split("?", 1)[0])
            if action is None:
                self._answer(404, b"not found\n", {"Content-Type": "text/plain"})
                return
            refused = check_token(token(), bearer(self.headers))
            if refused is not None:
                status, reason = refused
                self._answer(status, f"{reason}\n".encode(), {"Content-Type": "text/plain",
                                                              **({"WWW-Authenticate": "Bearer"} if status == 401 else {})})
                return
            status, text = action()
            self._answer(status, text.encode(), {"Content-Type": "text/plain; charset=utf-8"})

        def _status(self, ok: bool, yes: bytes, no: bytes) -> None:
            self._answer(200 if ok else 503, yes if ok else no, {"Content-Type": "text/plain"})

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass  # one line per event, not per scrape

    return Handler
