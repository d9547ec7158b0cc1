"""`watchdog run`: the daemon beside the scheduler; `--once` for cron-style deployment.

SIGTERM or SIGINT stops it: in-flight probes finish and the outbox is flushed within
--shutdown-timeout, then it exits 0. Anything not delivered by then waits in the state file.
A scheduler or notifier thread that dies stops it the same way, with exit code 4 (internal
error), so that systemd or Kubernetes restarts it instead of it running on idle.
SIGHUP reloads the rule file (as POST /-/reload does): a file that does not load is refused, its
problems logged, and the rules loaded before run on.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from typing import TYPE_CHECKING

from watchdog.commands.common import add_config, duration_arg, exit_code
from watchdog.errors import ConfigError, ExitCode, UsageError
from watchdog.output import text
from watchdog.plan import build_plan, config_path
from watchdog.runtime.address import parse_listen
from watchdog.runtime.logs import FORMATS

if TYPE_CHECKING:
    from watchdog.runtime.watchdog import Watchdog

DEFAULT_LISTEN = "127.0.0.1:9108"
DEFAULT_STATE = "watchdog-state.db"


def listen_arg(value: str) -> str:
    try:
        parse_listen(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("run", help="evaluate the rules on their intervals, export metrics, send alerts",
                            description="The daemon: each rule on its interval, /metrics for Prometheus, "
                                        "notifications to Slack, webhooks and Alertmanager.")
    add_config(parser)
    parser.add_argument("--listen", type=listen_arg, default=DEFAULT_LISTEN, metavar="HOST:PORT",
                        help=f"where /metrics, /-/healthy and /-/ready answer (default {DEFAULT_LISTEN}; :9108 for all interfaces)")
    parser.add_argument("--state", metavar="PATH|URL", help=f"SQLite file for alert state and undelivered notifications, "
                                                            f"or postgresql://... (schema=NAME, default watchdog) shared by "
                                                            f"replicas (default: $WATCHDOG_STATE, then ./{DEFAULT_STATE})")
    parser.add_argument("--once", action="store_true", help="evaluate every rule once, deliver notifications, exit with check's codes")
    parser.add_argument("--log-format", choices=FORMATS, default="text")
    parser.add_argument("--shutdown-timeout", type=duration_arg, default=10.0, metavar="DURATION",
                        help="on SIGTERM (or after --once), how long to finish probes and deliver notifications (default 10s)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    # The runtime (threads, HTTP, notifiers, requests) is imported here, not at the top, so that
    # `watchdog check` and the other commands start without it.
    from watchdog.runtime.logs import configure, release
    from watchdog.runtime.server import ListenError
    from watchdog.runtime.state import StateError
    from watchdog.runtime.watchdog import Watchdog

    plan = build_plan(config_path(args.config))
    state = args.state or os.environ.get("WATCHDOG_STATE") or DEFAULT_STATE
    handler, scrubber = configure(args.log_format, plan.secrets)
    try:
        watchdog = Watchdog(plan, state=state, listen=None if args.once else args.listen, on_secrets=scrubber.add)
    except (StateError, ListenError) as exc:
        release(handler)
        raise UsageError(str(exc)) from None
    scrubber.add(watchdog.secrets)
    try:
        if args.once:
            try:
                results = watchdog.check()
            except StateError as exc:
                watchdog.close()
                raise UsageError(str(exc)) from None
            watchdog.deliver(args.shutdown_timeout)
            watchdog.close()
            sys.stdout.write(text.render(results))
            return exit_code(results)
        return _serve(watchdog, args.shutdown_timeout)
    finally:
        release(handler)


def _log_thread_crash(args: threading.ExceptHookArgs) -> None:
    """A thread's uncaught exception, through the scrubbed log rather than raw to stderr."""
    if args.exc_type is not SystemExit and args.exc_value is not None:
        logging.getLogger("watchdog.run").critical("thread %s died: %s", getattr(args.thread, "name", "?"),
                                                   type(args.exc_value).__name__, exc_info=args.exc_value)


def _serve(watchdog: "Watchdog", shutdown_timeout: float) -> int:
    stopping = threading.Event()
    threading.excepthook = _log_thread_crash

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    reloading = threading.Event()
    signal.signal(signal.SIGHUP, lambda _signum, _frame: reloading.set())  # the reload itself runs on its own thread

    def on_reload() -> None:
        while True:
            reloading.wait()
            reloading.clear()
            if stopping.is_set():
                return
            try:
                watchdog.reload()
            except ConfigError:
                pass  # logged by reload(); the rules loaded before run on
            except Exception:  # a bug of ours must not end reloading for the rest of the run
                logging.getLogger("watchdog.run").exception("internal error reloading the rule file")

    def on_failure() -> None:
        watchdog.wait_failure()
        stopping.set()

    watchdog.start()
    threading.Thread(target=on_failure, name="watchdog-failure", daemon=True).start()
    threading.Thread(target=on_reload, name="watchdog-reload", daemon=True).start()
    # Python runs signal handlers on the main thread only, when it executes bytecode: a signal the
    # kernel hands to another thread waits until the main thread wakes, so it wakes twice a second.
    while not stopping.wait(0.5):
        pass
    code = ExitCode.OK if watchdog.failure is None else ExitCode.INTERNAL
    # stop() returns by its deadline: probes still running are cancelled (psycopg's cancel, sqlite3's
    # interrupt; a connection whose server does not answer the cancel is aborted), a notifier's
    # request under way is left to its daemon thread; what was not delivered stays in the state
    # file and goes out after the restart. Every thread of ours is a daemon: nothing holds the exit.
    watchdog.stop(shutdown_timeout)
    return code
