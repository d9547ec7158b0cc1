"""Log lines of `watchdog run`: one line per event, as text or JSON, never carrying a secret.

Messages are scrubbed where they are made; the handler's filter scrubs again every known secret
(DSN passwords, webhook URLs and secrets), so a library's message cannot leak one either.
"""
from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TextIO

from watchdog.probing.dsn import scrub

FORMATS = ("text", "json")


class Scrubber(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted({*self._secrets, *(s for s in secrets if s)}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage(), self._secrets), None
        if record.exc_info:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info), self._secrets)
            record.exc_info = None
        return True


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{_time(record)} {record.levelname:<7} {record.getMessage()}"
        return line + (f"\n{record.exc_text}" if record.exc_text else "")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": _time(record), "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def configure(fmt: str, secrets: Iterable[str], level: int = logging.INFO,
              stream: TextIO | None = None) -> tuple[logging.Handler, Scrubber]:
    """Route the `watchdog` loggers to `stream` (stderr) in `fmt`; returns the handler (to remove
    later) and its scrubber (to add secrets learnt later)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    scrubber = Scrubber(secrets)
    handler.addFilter(scrubber)
    logger = logging.getLogger("watchdog")
    handler.previous = (logger.level, logger.propagate)  # type: ignore[attr-defined]  # restored by release()
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return handler, scrubber


def release(handler: logging.Handler) -> None:
    """Undo configure(): the logger's level and propagation as they were, so an embedding process
    (or a test calling main() again) finds its own logging as it left it."""
    logger = logging.getLogger("watchdog")
    logger.removeHandler(handler)
    level, propagate = getattr(handler, "previous", (logging.NOTSET, True))
    logger.setLevel(level)
    logger.propagate = propagate
    handler.close()
