"""`watchdog packs [show NAME]`: the rule packs the package ships, their parameters and rules."""
from __future__ import annotations

import argparse

import yaml

from watchdog.config import packs
from watchdog.errors import ExitCode, Location, UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("packs", help="list the rule packs and their parameters; `packs show NAME` prints a pack's rules")
    actions = parser.add_subparsers(dest="action", metavar="show")
    show = actions.add_parser("show", help="print the rules a pack expands to, with its default parameters (YAML)")
    show.add_argument("name", metavar="NAME")
    parser.set_defaults(handler=handle)


def pack_named(name: str) -> packs.Pack:
    """The pack, or a usage error that lists the packs there are."""
    if name not in packs.names():
        raise UsageError(f"no pack named '{name}' (packs: {', '.join(packs.names())})")
    return packs.load_pack(name)


def handle(args: argparse.Namespace) -> int:
    if args.action == "show":
        print(show(pack_named(args.name)), end="")
    else:
        print(listing(), end="")
    return ExitCode.OK


def listing() -> str:
    """Each pack: its description, then its parameters with type, default and meaning."""
    lines = []
    for name in packs.names():
        pack = packs.load_pack(name)
        lines += [f"{name}: {pack.description}", f"  grants: {pack.grants}"]
        for param in pack.params.values():
            default = written(param.default.plain()) if param.default is not None else "(none)"
            lines.append(f"  {param.name} ({param.type}, default {default}): {param.doc}")
        lines.append("")
    return "\n".join(lines)


def show(pack: packs.Pack) -> str:
    """The pack's rules as `include: [{pack: NAME}]` adds them, as YAML."""
    rules = [rule.plain() for rule in packs.expand(pack, packs.defaults(pack, Location("-", 1, 1)), Location("-", 1, 1), pack.name)]
    header = f"# The rules `include: [{{pack: {pack.name}}}]` adds, with the pack's default parameters.\n"
    return header + yaml.dump({"rules": rules}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


class _Dumper(yaml.SafeDumper):
    """Multi-line text (a pack's SQL) as a literal block, readable as the pack wrote it."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def written(value: object) -> str:
    """A parameter value as it is written in YAML, on one line."""
    return yaml.safe_dump(value, default_flow_style=True, width=1000).strip().removesuffix("\n...").strip()
