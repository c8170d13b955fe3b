"""Entry point of the `mcp-index` console script: parse arguments, run, map errors to exits.

The sub-commands are not imported here: each package lists a `register(subparsers, parents)`
function under the `mcp_index.commands` entry-point group (see pyproject.toml), and
`build_parser` calls every one it finds.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from typing import Any

import httpx

from mcp_index_cli.config import DEFAULT_REGISTRY, REGISTRY_ENV
from mcp_index_cli.context import Context
from mcp_index_cli.errors import EXIT_CODES_HELP, EXIT_FAILURE, EXIT_USAGE, CliError
from mcp_index_cli.http import cli_version

DEBUG_ENV = "MCP_INDEX_DEBUG"
COMMANDS_GROUP = "mcp_index.commands"

Register = Callable[[Any, list[argparse.ArgumentParser]], None]


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """--registry and --json, accepted before or after the sub-command."""
    default_registry = argparse.SUPPRESS if suppress else None
    default_json = argparse.SUPPRESS if suppress else False
    parser.add_argument(
        "--registry", metavar="URL", default=default_registry,
        help=f"registry base URL (default: ${REGISTRY_ENV}, else the registry of the last "
        f"login, else {DEFAULT_REGISTRY})")
    parser.add_argument("--json", action="store_true", default=default_json,
                        help="machine-readable JSON on stdout")


class _HelpFormatter(argparse.HelpFormatter):
    """Wrap one-paragraph descriptions; keep multi-line text (the exit codes) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose --help (its sub-commands' too) ends with the exit codes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("epilog", EXIT_CODES_HELP)
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


def command_registrars() -> list[Register]:
    """Every `register` function in the entry-point group, in name order.

    Sorted so --help lists commands the same way whatever the installer wrote; a name seen
    twice (an editable install next to a stale egg-info) is loaded once.
    """
    found = {ep.name: ep for ep in entry_points(group=COMMANDS_GROUP)}
    return [found[name].load() for name in sorted(found)]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every sub-command."""
    parser = _Parser(prog="mcp-index",
                     description="Publish and manage MCP servers on an MCP Index registry.")
    parser.add_argument("--version", action="version", version=f"mcp-index {cli_version()}")
    _global_options(parser, suppress=False)
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, suppress=True)

    # Sub-parsers are created with the parent's class, so they inherit _Parser's epilog.
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parents = [common]
    for register in command_registrars():
        register(sub, parents)
    return parser


def main(argv: Sequence[str] | None = None, *, transport: httpx.BaseTransport | None = None) -> int:
    """Run one command and return its exit code; failures never show a traceback.

    `transport` answers the CLI's requests instead of the network (see `http.send`).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (exit 2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    ctx = Context(registry_flag=args.registry, json=args.json, transport=transport)
    try:
        return int(args.func(args, ctx))
    except CliError as exc:
        sys.stderr.write(f"error: {exc.message}\n")
        for detail in exc.details:
            sys.stderr.write(f"  - {detail}\n")
        return exc.code
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        sys.stderr.write(f"error: unexpected {type(exc).__name__}: {exc} "
                         f"(set {DEBUG_ENV}=1 for a traceback)\n")
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
