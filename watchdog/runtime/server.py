"""The HTTP side of `watchdog run`: /metrics for Prometheus, /-/healthy and /-/ready for supervisors,
and the status page and its API (watchdog.runtime.web) on every other path.

/-/healthy answers 200 while nothing is wrong, else 503 with one line per problem (a thread that
died, a state file that cannot be written, rules not evaluated for 2 intervals); /-/ready once every rule has been
evaluated at least once (until then /metrics is incomplete). Content negotiation (text format or
OpenMetrics, plain or gzip) is the Exposition's: it hands out bodies rendered in the background.
POSTs (acknowledgements, POST /-/reload) go to the site too, each behind the token (watchdog.runtime.auth).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from watchdog.runtime.address import parse_listen
from watchdog.runtime.exposition import Exposition
from watchdog.runtime.web import MAX_BODY, Reply, Site


log = logging.getLogger("watchdog.run")


class ListenError(Exception):
    """The listen address cannot be bound; the message says which and why."""


class MetricsServer:
    def __init__(self, listen: str, exposition: Exposition, healthy: Callable[[], list[str]], ready: Callable[[], bool],
                 site: Site | None = None) -> None:
        host, port = parse_listen(listen)
        self._exposition = exposition
        handler = _handler(exposition, healthy, ready, site)
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
             site: Site | None) -> type[BaseHTTPRequestHandler]:
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
            else:
                self._reply(lambda: site.get(self.path) if site else None)

        def do_POST(self) -> None:  # noqa: N802
            declared = self.headers.get("Content-Length") or "0"
            length = int(declared) if declared.isdigit() else -1
            if not 0 <= length <= MAX_BODY:
                self.close_connection = True  # the body is not read
                self._answer(413 if length > MAX_BODY else 400, b"a body of at most 64 KiB with its Content-Length\n",
                             {"Content-Type": "text/plain"})
                return
            body = self.rfile.read(length)
            self._reply(lambda: site.post(self.path.split("?", 1)[0], self.headers, body) if site else None)

        def _reply(self, make: Callable[[], Reply | None]) -> None:
            try:
                reply = make()
            except Exception:  # a bug must show in the log, and the client get an answer
                log.exception("internal error answering %s %s", self.command, self.path.split("?", 1)[0])
                reply = Reply(500, b"internal error; see watchdog's log\n", {"Content-Type": "text/plain"})
            if reply is None:
                self._answer(404, b"not found\n", {"Content-Type": "text/plain"})
            else:
                self._answer(reply.status, reply.body, reply.headers)

        def _status(self, ok: bool, yes: bytes, no: bytes) -> None:
            self._answer(200 if ok else 503, yes if ok else no, {"Content-Type": "text/plain"})

        def _answer(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass  # one line per event, not per scrape

    return Handler
