"""`watchdog` console script: parses arguments, dispatches, and maps every failure to an exit code.

No traceback reaches the user for bad input: configuration problems print FILE:LINE:COL lines and
exit 2; set WATCHDOG_DEBUG=1 to see the traceback of an unexpected internal error.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from typing import NoReturn

from watchdog import __version__
from watchdog.errors import ConfigError, ExitCode, UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(ExitCode.USAGE)


def parser() -> argparse.ArgumentParser:
    # Imported here, not with this module: entry() tunes the garbage collector before they load.
    from watchdog.commands import check, compile as compile_cmd, demo, schema, validate
    from watchdog.commands import ack, doctor, explain, init, packs, render, run

    root = _Parser(prog="watchdog", description="Invariant-checking watchdog for job schedulers.")
    root.add_argument("--version", action="version", version=f"watchdog {__version__}")
    sub = root.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in (validate, compile_cmd, check, schema, demo, render, run, ack, explain, packs, init, doctor):
        command.add_parser(sub)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        count = len(exc.problems)
        print(f"{count} problem{'s' if count != 1 else ''} found; nothing was run.", file=sys.stderr)
        return ExitCode.USAGE
    except UsageError as exc:
        print(f"watchdog: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, the traceback kept in a file
        trace = traceback.format_exc()
        if os.environ.get("WATCHDOG_DEBUG"):
            print(trace, file=sys.stderr, end="")
        kept = _keep_traceback(trace)
        where = f"; traceback in {kept}" if kept else ""
        print(f"watchdog: internal error (a bug in watchdog, please report it): {type(exc).__name__}: {exc}{where}",
              file=sys.stderr)
        return ExitCode.INTERNAL


def _keep_traceback(trace: str) -> str | None:
    """The traceback of an internal error, written where the user can attach it to a report."""
    try:
        handle, path = tempfile.mkstemp(prefix="watchdog-internal-error-", suffix=".log")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(trace)
        return path
    except OSError:
        return None


#: Allocations between two young collections of the cyclic GC (Python's default is 700).
YOUNG_COLLECTION = 10_000


def entry() -> NoReturn:
    """The console script (and `python -m watchdog`): main(), then the process ends.

    The cyclic garbage collector is tuned for a short process that imports much: the imports
    (jinja2, psycopg, PyYAML, ours) allocate a few hundred thousand objects that are never
    garbage, and collecting them cost `watchdog check` about 30 ms of 400 at start-up (every 700
    allocations) and 80-110 ms at exit. So young collections come every YOUNG_COLLECTION
    allocations, and before exit what is left is frozen (gc.freeze), which the interpreter's last
    collections skip. Exit handlers, flushes and finalizers run as before; cyclic garbage is still
    collected while the process runs (the daemon's too), only less often.
    """
    gc.set_threshold(YOUNG_COLLECTION, *gc.get_threshold()[1:])
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    entry()
