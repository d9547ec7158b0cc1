"""`watchdog init --pack NAME ...`: a starter rule file that includes the packs, with every
parameter written out at its default, so what there is to tune is in front of the operator."""
from __future__ import annotations

import argparse
import sys
import textwrap

from watchdog.commands.packs import pack_named, written
from watchdog.config.packs import Pack
from watchdog.errors import ExitCode, UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("init", help="write a starter rules.yaml that includes rule packs")
    parser.add_argument("--pack", action="append", required=True, metavar="NAME", help="a pack to include (repeatable; `watchdog packs` lists them)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (never overwritten) instead of standard output")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if len(set(args.pack)) != len(args.pack):
        raise UsageError("each --pack once (include a pack twice by hand, with its own 'prefix' and 'target')")
    text = starter([pack_named(name) for name in args.pack], " ".join(f"--pack {name}" for name in args.pack))
    if args.output is None:
        sys.stdout.write(text)
        return ExitCode.OK
    try:
        with open(args.output, "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise UsageError(f"{args.output} exists; init never overwrites a file (remove it, or choose another -o)") from None
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror}") from None
    return ExitCode.OK


def starter(chosen: list[Pack], options: str) -> str:
    lines = [
        f"# Started by `watchdog init {options}`.",
        "# `watchdog packs show NAME` prints the rules a pack adds; `watchdog doctor` checks them",
        "# against the database (tables, grants, row-level security) before you trust them.",
        "version: 1",
        "targets:",
        "  main:",
        "    dsn: ${DATABASE_URL}          # the scheduler's database, as a read-only role",
        "    statement_timeout: 5s",
        "defaults: {interval: 1m, for: 0s, severity: warning, samples: 5}",
        "include:",
    ]
    for pack in chosen:
        lines += _include(pack)
    lines += ["rules: []                          # your own rules"]
    return "\n".join(lines) + "\n"


def _include(pack: Pack) -> list[str]:
    out = [f"  # {line}" for line in textwrap.wrap(pack.description, 96)]
    out += [f"  # Grants: {line}" if i == 0 else f"  #   {line}" for i, line in enumerate(textwrap.wrap(pack.grants, 88))]
    out += [f"  - pack: {pack.name}", "    with:                             # the defaults; change what differs for you"]
    for param in pack.params.values():
        doc = param.doc.split(". ")[0].rstrip(".")
        if param.default is None:
            out.append(f"      # {param.name}: ...  # {doc}")
        else:
            out.append(f"      {param.name}: {written(param.default.plain())}  # {doc}")
    first = pack.rules[0].value["name"].value
    out.append(f"    # rules: {{{pack.name}_{first}: {{enabled: false}}}}   # switch a rule off, or change its keys")
    return out
