"""Real Prometheus and Alertmanager processes on free 127.0.0.1 ports with storage in a temp dir,
and an HTTP receiver standing in for Slack and webhooks. Nothing outlives the test that starts it."""
from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def eventually(probe: Callable[[], T | None], what: str, timeout: float = 30.0, every: float = 0.25) -> T:
    """The first truthy result of `probe`, polled until `timeout`; else the test fails saying `what`."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


def http_json(url: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def bearer_post(url: str, token: str | None) -> tuple[int, str]:
    """POST with no body and `Authorization: Bearer TOKEN` (none without a token): status and text,
    whatever the status."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(url, data=b"", headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@dataclass(frozen=True)
class Delivery:
    path: str
    body: Any
    raw: bytes = b""
    headers: dict[str, str] | None = None


class Receiver:
    """Records every JSON POST (Slack, webhooks, Alertmanager's webhook_configs) by path, on a free
    port or on `port` (a receiver that comes up where a notifier has been failing to connect)."""

    def __init__(self, port: int = 0) -> None:
        self.deliveries: list[Delivery] = []
        received = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append(Delivery(self.path, json.loads(body), body, dict(self.headers.items())))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def at(self, path: str) -> list[Any]:
        return [d.body for d in list(self.deliveries) if d.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Daemon:
    """A server process whose output goes to a log file, ready once `GET {url}{ready}` answers 200."""

    def __init__(self, argv: Sequence[str], port: int, log: Path, ready: str = "/-/ready") -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.ready = ready
        with log.open("wb") as out:
            self.process = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT)
        try:
            eventually(self._ready, f"{argv[0]} to be ready (log: {log})", timeout=30)
        except BaseException:  # the caller never gets the Daemon to stop: never leave the process behind
            self.stop()
            raise

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.process.args[0]} exited {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{self.url}{self.ready}", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_alertmanager(binary: str, config: Mapping[str, Any], workdir: Path) -> Daemon:
    path = workdir / "alertmanager.yml"
    path.write_text(yaml.safe_dump(dict(config)), encoding="utf-8")
    port = free_port()
    return Daemon([binary, f"--config.file={path}", f"--storage.path={workdir / 'alertmanager-data'}",
                   f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                  port, workdir / "alertmanager.log")


def start_prometheus(binary: str, config: Mapping[str, Any], workdir: Path) -> Daemon:
    path = workdir / "prometheus.yml"
    path.write_text(yaml.safe_dump(dict(config)), encoding="utf-8")
    port = free_port()
    # resend-delay 1s: an alert that fired before Alertmanager was discovered is sent again within a
    # second instead of a minute (Prometheus's default), so the tests wait seconds, not minutes.
    return Daemon([binary, f"--config.file={path}", f"--storage.tsdb.path={workdir / 'prometheus-data'}",
                   f"--web.listen-address=127.0.0.1:{port}", "--rules.alert.resend-delay=1s"],
                  port, workdir / "prometheus.log")


def instant_query(prometheus: Daemon, expr: str) -> list[dict[str, Any]]:
    """The result of an instant query; a PromQL error fails the test with Prometheus's message."""
    url = f"{prometheus.url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    try:
        answer = http_json(url)
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"{expr}: {exc.read().decode()}") from None
    assert answer["status"] == "success", answer
    return list(answer["data"]["result"])


def example_alertmanager_config(example: Path, receiver: Receiver, workdir: Path) -> dict[str, Any]:
    """alerts/alertmanager.example.yml as it is, but delivering to `receiver` (webhooks at
    /<receiver name>, Slack at /slack through the same secret file) and waiting seconds, not minutes."""
    config = yaml.safe_load(example.read_text(encoding="utf-8"))
    slack_url = workdir / "slack-webhook-url"
    slack_url.write_text(f"{receiver.url}/slack")
    config["global"]["slack_api_url_file"] = str(slack_url)
    config["templates"] = [str(example.parent / t) for t in config["templates"]]
    for entry in config["receivers"]:
        for webhook in entry.get("webhook_configs", ()):
            webhook["url"] = f"{receiver.url}/{entry['name']}"
    _hurry(config["route"])
    return config


def _hurry(route: dict[str, Any]) -> None:
    for key in ("group_wait", "group_interval"):
        if key in route:
            route[key] = "1s"
    for child in route.get("routes", ()):
        _hurry(child)
