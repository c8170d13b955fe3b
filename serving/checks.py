"""System checks: the read backend the settings name exists and suits the databases."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register
from django.db import connections

BACKENDS = ("sql", "orm")


@register()
def read_backend_check(app_configs: Any, **kwargs: Any) -> list[Error]:
    """MCP_INDEX_READ_BACKEND is `sql` or `orm`, and `sql` only on PostgreSQL."""
    backend = settings.MCP_INDEX_READ_BACKEND
    if backend not in BACKENDS:
        return [Error(f"MCP_INDEX_READ_BACKEND must be one of {', '.join(BACKENDS)}, got {backend!r}",
                      id="serving.E001")]
    if backend == "sql":
        others = sorted(alias for alias in connections if connections[alias].vendor != "postgresql")
        if others:
            return [Error("MCP_INDEX_READ_BACKEND=sql needs PostgreSQL; database(s) "
                          f"{', '.join(others)} are not (use orm)", id="serving.E002")]
    return []
