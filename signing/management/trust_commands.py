"""What the trust `manage.py` commands share: the actor, the service call, key files.

For operators without an API token (a shell on the server is the credential). Bodies are
parsed by `signing.api.inputs`, exactly as the API parses them, and written by the audited
services with the actor `manage:<OS user>`.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from django.core.management.base import CommandError

from registry.errors import RegistryError

T = TypeVar("T")


def manage_actor() -> str:
    """`manage:<the OS user running the command>`, as audit events record it."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        user = "unknown"
    return f"manage:{user}"


def refusing(call: Callable[[], T]) -> T:
    """Run a parse-and-save step; a refusal becomes a CommandError with its message."""
    try:
        return call()
    except RegistryError as exc:
        raise CommandError(exc.message) from exc


def read_text(path: str, what: str) -> str:
    """A file's text, or a CommandError naming it."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {what} {path}: {exc}") from exc


def read_public_key(path: str) -> str:
    """A PEM public key file; a private key is refused before it goes anywhere."""
    text = read_text(path, "public key")
    if "PRIVATE KEY" in text:
        raise CommandError(f"{path} holds a private key; give its public half")
    return text


def given(options: dict[str, Any], pairs: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """Body fields for the options that were given (not None), renamed option -> field."""
    return {field: options[option] for option, field in pairs if options.get(option) is not None}
