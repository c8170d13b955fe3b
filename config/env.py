"""Typed access to environment variables: the only place settings read os.environ."""

from __future__ import annotations

import json
import os
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
