"""The /metrics body, rendered in the background so a scrape costs a memory copy.

prometheus_client takes about 0.15 s to render a thousand rules (some 24,000 samples, mostly
histogram buckets), far too long to do per scrape. A renderer thread re-renders each format that
has been asked for (text or OpenMetrics, plain or gzip) after the ledger changes, at most once per
`min_interval` and never using more than 1/COST_SHARE of a core, so the body served is at most
about a second old. Only the first scrape of a format renders while the client waits.
"""
from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable

from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import CollectorRegistry

COST_SHARE = 10
Encoder = Callable[[CollectorRegistry], bytes]


class Exposition:
    def __init__(self, registry: CollectorRegistry, changed: threading.Event, min_interval: float = 1.0) -> None:
        self._registry = registry
        self._changed = changed
        self._min_interval = min_interval
        self._lock = threading.Lock()
        self._bodies: dict[tuple[str, bool], bytes] = {}
        self._wanted: dict[str, tuple[Encoder, bool]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def body(self, accept: str, accept_encoding: str) -> tuple[bytes, str, bool]:
        """(body, content type, gzipped) for a scrape's Accept and Accept-Encoding headers."""
        encoder, content_type = choose_encoder(accept)
        zipped = "gzip" in accept_encoding
        with self._lock:
            cached = self._bodies.get((content_type, zipped))
            if cached is None:
                self._wanted[content_type] = (encoder, zipped or self._wanted.get(content_type, (encoder, False))[1])
        if cached is None:
            self._render(content_type, encoder, zipped)
            with self._lock:
                cached = self._bodies[(content_type, zipped)]
        return cached, content_type, zipped

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="watchdog-exposition", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._changed.set()
        if self._thread is not None:
            self._thread.join()

    def _render(self, content_type: str, encoder: Encoder, zipped: bool) -> None:
        plain = encoder(self._registry)
        bodies = {(content_type, False): plain}
        if zipped:
            bodies[(content_type, True)] = gzip.compress(plain, compresslevel=1)
        with self._lock:
            self._bodies.update(bodies)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._changed.wait()
            self._changed.clear()
            if self._stop.is_set():
                return
            began = time.perf_counter()
            with self._lock:
                wanted = list(self._wanted.items())
            for content_type, (encoder, zipped) in wanted:
                self._render(content_type, encoder, zipped)
            cost = time.perf_counter() - began
            self._stop.wait(max(self._min_interval - cost, cost * (COST_SHARE - 1)))
