"""watchdog: invariant checks for job schedulers, compiled from YAML rules to read-only SQL probes.

`from watchdog import Watchdog` embeds the runtime of `watchdog run` in a Python process.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Watchdog", "__version__"]

if TYPE_CHECKING:
    from watchdog.runtime.watchdog import Watchdog


def __getattr__(name: str) -> Any:
    """Import the runtime on first use, so the command line starts without its threads' modules."""
    if name == "Watchdog":
        from watchdog.runtime.watchdog import Watchdog

        return Watchdog
    raise AttributeError(f"module 'watchdog' has no attribute {name!r}")
