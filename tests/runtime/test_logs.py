"""watchdog run's log handler: on, then off again leaving the process's logging as it was."""
from __future__ import annotations

import io
import logging

from watchdog.runtime.logs import configure, release


def test_release_gives_the_process_its_logging_back_and_secrets_never_show():
    logger = logging.getLogger("watchdog")
    before = (logger.level, logger.propagate)
    stream = io.StringIO()
    handler, scrubber = configure("text", ["s3cret-pass"], stream=stream)
    assert logger.propagate is False  # while watchdog run logs, its lines go to its own stream only
    logging.getLogger("watchdog.run").info("dsn postgresql://u:s3cret-pass@db/x")
    release(handler)
    assert "s3cret-pass" not in stream.getvalue() and "postgresql://u:***@db/x" in stream.getvalue()
    assert (logger.level, logger.propagate) == before  # caplog and an embedding app see records again
