"""Tasks whose outcomes the tests choose: a charge that fails on request, and a long export."""
from __future__ import annotations

import time

from celery import shared_task


@shared_task(name="wd.charge")
def charge(order: int, fail: bool) -> int:
    """Fails when told to, so a test sets the failure ratio through real task runs."""
    if fail:
        raise RuntimeError(f"card declined for order {order}")
    return order


@shared_task(name="wd.export")
def export(seconds: float) -> str:
    """Runs long enough for a test to kill its worker mid-task."""
    time.sleep(seconds)
    return "exported"


@shared_task(name="wd.heartbeat")
def heartbeat() -> str:
    """The periodic task beat sends."""
    return "alive"
