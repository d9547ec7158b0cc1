"""The listen address of `watchdog run`, parsed apart from the server so the CLI checks it cheaply."""
from __future__ import annotations


def parse_listen(text: str) -> tuple[str, int]:
    """HOST:PORT, [v6]:PORT or :PORT (all interfaces)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"'{text}' is not HOST:PORT")
    return host.strip("[]") or "0.0.0.0", int(port)
