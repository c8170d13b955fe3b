"""Reads of the tool inventory: the `_meta` block per version, a version's tools, tool search
and the tool text of search documents."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q

from curation.models import CatalogEntry
from curation.selectors import CatalogRef
from discovery.models import Inventory, Probe, Tool
from registry.api.render import rfc3339
from registry.models import ServerVersion, Status

META_SUFFIX = "/inventory"
MAX_SEARCH_LIMIT = 100


def meta_key() -> str:
    """`<namespace>/inventory`, the `_meta` key of the inventory block."""
    return settings.MCP_INDEX_NAMESPACE + META_SUFFIX


def _when(value: datetime | None) -> str | None:
    return rfc3339(value) if value is not None else None


def inventory_block(inventory: Inventory) -> dict[str, Any]:
    """The served summary: {status, checkedAt, protocolVersion, toolCount, toolsDigest, drift}."""
    return {
        "status": inventory.status or "pending",
        "checkedAt": _when(inventory.checked_at),
        "protocolVersion": inventory.protocol_version or None,
        "toolCount": inventory.tool_count,
        "toolsDigest": inventory.tools_digest or None,
        "drift": inventory.drift or None,
    }


_BLOCK_FIELDS = ("server_version_id", "status", "checked_at", "protocol_version", "tool_count",
                 "tools_digest", "drift")


def inventory_meta_for_versions(version_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """`{version id: {<ns>/inventory: block}}` for the versions that have an inventory: one
    query, none for no ids."""
    if not version_ids:
        return {}
    key = meta_key()
    found: dict[int, dict[str, Any]] = {}
    for values in Inventory.objects.filter(server_version_id__in=list(version_ids)).values_list(
            *_BLOCK_FIELDS):
        row = Inventory(**dict(zip(_BLOCK_FIELDS, values, strict=True)))
        found[values[0]] = {key: inventory_block(row)}
    return found


@dataclass(frozen=True)
class VersionTools:
    """A version's inventory as the tools endpoint serves it."""

    inventory: Inventory | None
    tools: list[dict[str, Any]]
    last_probe: Probe | None

    def as_json(self) -> dict[str, Any]:
        inv = self.inventory
        body: dict[str, Any] = {"tools": self.tools}
        if inv is None:
            body["inventory"] = None
            return body
        block = inventory_block(inv)
        block.update(url=inv.url, transport=inv.transport, reason=inv.reason or None,
                     lastOkAt=_when(inv.last_ok_at), serverInfo=inv.server_info or None,
                     promptCount=inv.prompt_count, resourceCount=inv.resource_count,
                     declaredDigest=inv.declared_digest or None,
                     declaredTools=inv.declared_names if inv.declared_digest else None,
                     driftAt=_when(inv.drift_at),
                     authorizationServers=inv.authorization_servers or None,
                     nextProbeAt=_when(inv.next_probe_at))
        body["inventory"] = block
        return body


def version_tools(version_id: int) -> VersionTools:
    """A version's observed tools (name order) and its inventory: three small queries."""
    inventory = Inventory.objects.filter(server_version_id=version_id).first()
    if inventory is None:
        return VersionTools(None, [], None)
    tools = list(Tool.objects.filter(inventory=inventory).order_by("name")
                 .values_list("document", flat=True))
    last = Probe.objects.filter(inventory=inventory).order_by("-checked_at", "-id").first()
    return VersionTools(inventory, tools, last)


def probes_of(version_id: int, *, limit: int = 10) -> list[Probe]:
    """The latest probes of a version, newest first (the web page's history)."""
    return list(Probe.objects.filter(inventory__server_version_id=version_id)
                .order_by("-checked_at", "-id")[:limit])


@dataclass(frozen=True)
class ToolHit:
    """One matching tool and the server version offering it."""

    name: str
    title: str
    description: str
    server: str
    version: str
    score: float

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title or None, "description": self.description,
                "server": self.server, "version": self.version}


def _score(words: list[str], query: str, name: str, text: str) -> float:
    """Lexical: every word must occur; an exact or prefix name match ranks first."""
    lowered = name.lower()
    score = sum(text.count(w) for w in words) + 3.0 * sum(w in lowered for w in words)
    if lowered == query:
        score += 20
    elif lowered.startswith(query):
        score += 5
    return score


def search_tools(*, scope: CatalogRef | None = None, query: str, limit: int = 20,
                 server: str | None = None) -> list[ToolHit]:
    """Tools of the latest visible versions (of the scope: the registry or a catalog) whose
    name, title or description contain every word of the query, best first."""
    words = [w for w in query.lower().split() if w][:10]
    limit = max(1, min(int(limit), MAX_SEARCH_LIMIT))
    latest: Any  # a subquery of version ids (registry rows or catalog entries)
    if scope is not None and scope.catalog is not None:
        latest = (CatalogEntry.objects.listed_in(scope.catalog).visible().latest_only()
                  .values("server_version_id"))
    else:
        latest = ServerVersion.objects.filter(is_latest=True).exclude(
            status=Status.DELETED).values("id")
    qs = Tool.objects.filter(server_version_id__in=latest)
    if server:
        qs = qs.filter(server_version__name=server)
    condition = Q()
    for word in words:
        condition &= Q(search_text__contains=word)
    rows = (qs.filter(condition).values_list("name", "title", "description", "search_text",
                                             "server_version__name", "server_version__version")
            .order_by("server_version__name", "name")[:2000])
    phrase = " ".join(words)
    hits = [ToolHit(name, title, description, sname, version,
                    _score(words, phrase, name, text) if words else 0.0)
            for name, title, description, text, sname, version in rows]
    hits.sort(key=lambda h: (-h.score, h.server, h.name))
    return hits[:limit]


def tool_texts(version_ids: Iterable[int]) -> dict[int, str]:
    """The names and descriptions of each version's observed tools, one text per version,
    for search documents (versions without tools are left out). One query."""
    ids = list(version_ids)
    texts: dict[int, list[str]] = {}
    if not ids:
        return {}
    for vid, name, description in (Tool.objects.filter(server_version_id__in=ids)
                                    .order_by("server_version_id", "name")
                                    .values_list("server_version_id", "name", "description")):
        texts.setdefault(vid, []).append(f"{name}: {description}" if description else name)
    return {vid: "\n".join(parts) for vid, parts in texts.items()}
