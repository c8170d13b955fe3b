"""Printing: human text on stdout, warnings and errors on stderr, JSON for `--json`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from typing import Any


def emit_json(value: Any) -> None:
    """Write one JSON document to stdout (the only stdout output in `--json` mode)."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def say(message: str = "") -> None:
    """A line of human output on stdout."""
    sys.stdout.write(message + "\n")


def warn(message: str) -> None:
    """A warning on stderr; never part of machine-readable output."""
    sys.stderr.write(f"warning: {message}\n")


def note(message: str) -> None:
    """Advice on stderr, so that stdout stays clean for pipes."""
    sys.stderr.write(message + "\n")


def format_issue(issue: Mapping[str, Any]) -> str:
    """One validation issue as `severity  path: message [reference]`."""
    severity = str(issue.get("severity") or "error")
    path = str(issue.get("path") or "")
    message = str(issue.get("message") or "")
    reference = str(issue.get("reference") or "")
    where = f"{path}: " if path else ""
    ref = f" [{reference}]" if reference else ""
    return f"  {severity:<7} {where}{message}{ref}"


def print_issues(issues: Iterable[Mapping[str, Any]], *, to_stderr: bool = False) -> None:
    """List validation issues, one per line."""
    stream = sys.stderr if to_stderr else sys.stdout
    for issue in issues:
        stream.write(format_issue(issue) + "\n")
