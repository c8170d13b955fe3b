"""A server's tool set in canonical form and its digest (Django-free: verifiers recompute it).

A tool is reduced to the fields that say what it does: name, title, description, input
schema, output schema and annotations. The set's digest is the sha256 of the RFC 8785
canonical JSON of those tools sorted by name, so the order a server lists them in, and the
pages it splits them over, do not change it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

import rfc8785

TOOL_FIELDS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")
# What a stored tool may carry at most: longer text is cut, deeper or odd values dropped.
MAX_TEXT_CHARS = 8192
MAX_TOOLS = 1000
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # PostgreSQL text and jsonb refuse these


def _clean(value: Any, depth: int = 0) -> Any:
    """JSON values PostgreSQL and RFC 8785 accept: no NUL or lone surrogates, bounded depth,
    integers within I-JSON's range, no non-finite floats (dropped as None)."""
    if depth > 32:
        return None
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) <= 2**53 - 1 else float(value)
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, Mapping):
        return {_clean(str(k)): _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v, depth + 1) for v in value]
    return None


def tool_normalize(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    """A tool in canonical form (absent or null fields left out), or None without a name."""
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        return None
    tool: dict[str, Any] = {}
    for key in TOOL_FIELDS:
        value = raw.get(key)
        if value is None:
            continue
        if key in ("name", "title", "description"):
            if not isinstance(value, str):
                continue
            value = value[:MAX_TEXT_CHARS]
        elif not isinstance(value, Mapping):
            continue
        tool[key] = _clean(value)
    return tool


def tools_normalize(raw: Iterable[Any]) -> list[dict[str, Any]]:
    """Canonical tools sorted by name (the first of duplicate names kept, at most MAX_TOOLS)."""
    seen: dict[str, dict[str, Any]] = {}
    for item in raw:
        tool = tool_normalize(item) if isinstance(item, Mapping) else None
        if tool is not None and tool["name"] not in seen:
            seen[tool["name"]] = tool
    return [seen[name] for name in sorted(seen)][:MAX_TOOLS]


def tools_digest(tools: Iterable[Any]) -> str:
    """`sha256:<hex>` of the RFC 8785 canonical JSON of the normalized, sorted tool set."""
    return "sha256:" + hashlib.sha256(rfc8785.dumps(tools_normalize(tools))).hexdigest()


def declared_tools(manifest: Any, key: str) -> list[dict[str, Any]] | None:
    """Tools a publisher declares in server.json under `_meta[key]` or under
    `_meta["io.modelcontextprotocol.registry/publisher-provided"][key]`; None when absent."""
    meta = manifest.get("_meta") if isinstance(manifest, Mapping) else None
    if not isinstance(meta, Mapping):
        return None
    found = meta.get(key)
    provided = meta.get("io.modelcontextprotocol.registry/publisher-provided")
    if found is None and isinstance(provided, Mapping):
        found = provided.get(key)
    if not isinstance(found, list):
        return None
    return tools_normalize(found)


def tool_names(tools: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """The set of tool names (what declared and observed tool sets are compared on)."""
    return frozenset(str(t.get("name")) for t in tools if t.get("name"))
