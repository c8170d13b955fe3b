"""Pure helpers on server.json documents: canonical digest, compact text, derived columns."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from mcp_index_common.canonical import canonical_json

OFFICIAL_META_KEY = "io.modelcontextprotocol.registry/official"
PUBLISHER_META_KEY = "io.modelcontextprotocol.registry/publisher-provided"


def compact_json(document: Any) -> str:
    """Compact JSON keeping key order: the text stored and served for a manifest."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def canonical_digest(document: Any) -> str:
    """sha256 hex of the RFC 8785 (JCS) canonical form: what signatures are made over."""
    return hashlib.sha256(canonical_json(document)).hexdigest()


def namespace_of(name: str) -> str:
    """`io.github.acme/db` -> `io.github.acme`."""
    return name.split("/", 1)[0]


# The covering list index (name, version) INCLUDE (..., search_text) holds these three in
# every row; a b-tree row must fit in a third of a page (2,704 bytes), so their UTF-8 is kept
# within this many bytes (and a CHECK constraint holds the database to it). Every valid
# manifest fits whole; only the tail of an oversized description stops being searchable.
INDEX_ROW_TEXT_BYTES = 2000


def search_text_of(document: dict[str, Any]) -> str:
    """Lower-cased name, title and description, the text `search` matches against."""
    parts = [document.get("name"), document.get("title"), document.get("description")]
    text = " ".join(p for p in parts if isinstance(p, str)).lower()
    key = [document.get("name"), document.get("version")]
    budget = INDEX_ROW_TEXT_BYTES - sum(_octets(k) for k in key if isinstance(k, str))
    return _utf8_prefix(text, max(budget, 0))


def _octets(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _utf8_prefix(text: str, size: int) -> str:
    """The longest prefix of `text` whose UTF-8 is at most `size` bytes."""
    if _octets(text) <= size:
        return text
    return text.encode("utf-8", "surrogatepass")[:size].decode("utf-8", "ignore")


def remote_urls_of(document: dict[str, Any]) -> list[str]:
    """The remote URLs a manifest declares (deduplicated, in order)."""
    urls: list[str] = []
    remotes = document.get("remotes")
    for remote in remotes if isinstance(remotes, list) else []:
        url = remote.get("url") if isinstance(remote, dict) else None
        if isinstance(url, str) and url and url not in urls:
            urls.append(url)
    return urls
