"""Typed access to environment variables: the only place settings read os.environ."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ImproperlyConfiguredEnv(RuntimeError):
    """Raised at startup when a required variable is missing or malformed."""


_MISSING: Any = object()


def env_str(name: str, default: str = _MISSING) -> str:
    """A string variable; without a default it is required."""
    value = os.environ.get(name)
    if value is None:
        if default is _MISSING:
            raise ImproperlyConfiguredEnv(f"environment variable {name} is required")
        return default
    return value


def env_bool(name: str, default: bool = False) -> bool:
    """A boolean variable: 1/true/yes/on or 0/false/no/off."""
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfiguredEnv(f"environment variable {name} must be a boolean, got {value!r}")


def env_int(name: str, default: int = _MISSING) -> int:
    """An integer variable."""
    value = os.environ.get(name)
    if value is None or value == "":
        if default is _MISSING:
            raise ImproperlyConfiguredEnv(f"environment variable {name} is required")
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfiguredEnv(f"environment variable {name} must be an integer") from exc


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """A comma-separated list variable (empty items dropped)."""
    value = os.environ.get(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_json(name: str, default: Any = _MISSING) -> Any:
    """A JSON-encoded variable (objects and lists for structured settings)."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        if default is _MISSING:
            raise ImproperlyConfiguredEnv(f"environment variable {name} is required")
        return default
    try:
        return json.loads(value)
    except ValueError as exc:
        raise ImproperlyConfiguredEnv(f"environment variable {name} must be valid JSON") from exc


def env_secret(name: str, *, local_file: Path | None, generate: Callable[[], str],
               hint: str = "") -> str:
    """A secret from the environment (set and non-empty). Without one it is required, unless
    `local_file` is given (development): then it is made on first use and kept there."""
    value = os.environ.get(name, "")
    if value:
        return value
    if local_file is None:
        raise ImproperlyConfiguredEnv(f"environment variable {name} is required{hint}")
    return local_secret(local_file, name, generate)


def local_secret(path: Path, name: str, generate: Callable[[], str]) -> str:
    """`name` from a JSON file of development secrets (mode 0600, directory 0700 when made
    here), generated and stored on first use. The file is locked while it is read and
    written, so processes starting together (web workers, a worker, migrate) agree."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ImproperlyConfiguredEnv(
            f"cannot keep development secrets in {path} ({exc.strerror}): export {name}, or set "
            "MCP_INDEX_LOCAL_SECRETS_FILE to a writable path") from exc
    with os.fdopen(fd, "r+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        os.fchmod(handle.fileno(), 0o600)
        text = handle.read()
        try:
            values = json.loads(text) if text.strip() else {}
        except ValueError:
            values = None
        if not isinstance(values, dict):
            raise ImproperlyConfiguredEnv(
                f"{path} is not a JSON object of secrets; delete it to make new ones")
        value = values.get(name)
        if isinstance(value, str) and value:
            return value
        values[name] = value = generate()
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(values, indent=2, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return value
