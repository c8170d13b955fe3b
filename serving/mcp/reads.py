"""What the MCP tools answer, read through the same code as the registry API.

Synchronous Django code (serving.mcp.server runs it in the database thread): search through
serving.search.search_page, versions through serving.reader, `_meta` through
serving.render.extras_for, client configuration through mcp_index_common.clientconfig, so a
tool answers exactly what the API and the web catalog answer for the same scope.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, get_args

from django.conf import settings
from mcp.server.mcpserver.exceptions import ToolError

from curation.selectors import BUILTIN_SLUG, CatalogRef, catalog_resolve
from mcp_index_common import clientconfig
from registry.api.render import entry_meta
from registry.errors import NotFound
from serving import reader, render
from serving.mcp import schemas as s
from serving.rows import EntryRow
from serving.search import SearchFilters, search_page


@dataclass(frozen=True)
class Access:
    """Who asks, in which scope: set per HTTP request by serving.mcp.http."""

    scope: CatalogRef
    caller: Any = None  # registry.api.auth.Caller, None when anonymous


def root_access() -> Access:
    """The registry root, anonymous: what an in-process client (no HTTP request) reads."""
    return Access(catalog_resolve(BUILTIN_SLUG))


def _trust(meta: dict[str, Any]) -> s.TrustSummary | None:
    block = meta.get(settings.MCP_INDEX_NAMESPACE + "/trust")
    return s.TrustSummary.model_validate(block) if isinstance(block, dict) else None


def _manifest(row: EntryRow) -> dict[str, Any]:
    value = json.loads(row.manifest_text)
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _summary(row: EntryRow, score: float, extra: dict[str, Any]) -> s.ServerSummary:
    manifest = _manifest(row)
    packages, remotes = _dicts(manifest.get("packages")), _dicts(manifest.get("remotes"))
    kinds = [(p.get("transport") or {}).get("type") if isinstance(p.get("transport"), dict)
             else None for p in packages] + [r.get("type") for r in remotes]
    repository = manifest.get("repository")
    catalog = extra.get(settings.MCP_INDEX_NAMESPACE + "/catalog")
    return s.ServerSummary(
        name=row.name, version=row.version, title=_text(manifest.get("title")),
        description=_text(manifest.get("description")) or "", status=row.status,
        is_latest=row.is_latest, published_at=row.published_at, updated_at=row.updated_at,
        registry_types=sorted({t for p in packages if (t := _text(p.get("registryType")))}),
        transports=sorted({k for k in kinds if isinstance(k, str) and k}),
        has_remote=bool(remotes),
        repository_url=_text(repository.get("url")) if isinstance(repository, dict) else None,
        website_url=_text(manifest.get("websiteUrl")), score=round(score, 6),
        trust=_trust(extra), catalog=catalog if isinstance(catalog, dict) else None)


# The cursor: what the next page needs, so that a client sending only the cursor gets the
# next results of the same search. Opaque to clients, checked strictly when it comes back.
_CURSOR_VERSION = 1


def cursor_encode(query: str, filters: SearchFilters, offset: int) -> str:
    doc = [_CURSOR_VERSION, query, filters.registry_type, filters.transport,
           filters.remote_only, filters.trusted_only, offset]
    raw = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[str, SearchFilters, int]:
    """(query, filters, offset) of a cursor this server minted; ToolError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        doc = json.loads(raw.decode())
    except (binascii.Error, ValueError):
        doc = None
    if not (isinstance(doc, list) and len(doc) == 7 and doc[0] == _CURSOR_VERSION):
        raise ToolError("cursor is not one this server issued: pass nextCursor unchanged")
    _, query, registry_type, transport, remote_only, trusted_only, offset = doc
    valid = (isinstance(query, str) and len(query) <= s.QUERY_MAX and text_ok(query)
             and registry_type in ("", *get_args(s.RegistryType))
             and transport in ("", *get_args(s.Transport))
             and isinstance(remote_only, bool) and isinstance(trusted_only, bool)
             and isinstance(offset, int) and not isinstance(offset, bool)
             and 0 <= offset <= 1_000_000)
    if not valid:
        raise ToolError("cursor is not one this server issued: pass nextCursor unchanged")
    return query, SearchFilters(registry_type=registry_type, transport=transport,
                                remote_only=remote_only, trusted_only=trusted_only), offset


def text_ok(value: str) -> bool:
    try:
        s.storable(value)
    except ValueError:
        return False
    return True


def search(access: Access, *, query: str, filters: SearchFilters, limit: int,
           cursor: str | None) -> s.SearchResult:
    """search_servers: one page of serving.search, its hits with their `_meta` blocks."""
    offset = 0
    if cursor is not None:
        carried, carried_filters, offset = cursor_decode(cursor)
        if query and query != carried:
            raise ToolError("cursor belongs to another query: send it with the same query, or "
                            "alone")
        query, filters = carried, carried_filters
    page = search_page(access.scope, query, filters, limit=limit, offset=offset, facets=False,
                       highlights=False)
    rows = [hit.row for hit in page.hits]
    extras = render.extras_for(access.scope, rows)
    servers = [_summary(hit.row, hit.score, dict(extras.get(hit.row.id, {})))
               for hit in page.hits]
    following = (cursor_encode(query, filters, page.next_offset)
                 if page.next_offset is not None else None)
    return s.SearchResult(catalog=access.scope.slug, query=query, servers=servers,
                          total=page.total, next_cursor=following)


def _version_row(access: Access, name: str, version: str) -> EntryRow:
    try:
        return reader.server_version(access.scope, name, version, include_deleted=False)
    except NotFound:
        where = "the registry" if access.scope.builtin else f"catalog {access.scope.slug}"
        what = name if version == "latest" else f"{name} version {version}"
        raise ToolError(f"No server {what} in {where}: search_servers finds names") from None


def _meta(access: Access, row: EntryRow) -> dict[str, Any]:
    return entry_meta(row, render.extras_for(access.scope, [row]).get(row.id))


def server(access: Access, *, name: str, version: str) -> s.ServerDetail:
    """get_server: the version as GET …/servers/{name}/versions/{version} serves it."""
    row = _version_row(access, name, version)
    meta = _meta(access, row)
    return s.ServerDetail(catalog=access.scope.slug, name=row.name, version=row.version,
                          status=row.status, is_latest=row.is_latest,
                          published_at=row.published_at, server=_manifest(row), meta=meta,
                          trust=_trust(meta))


def versions(access: Access, *, name: str) -> s.VersionList:
    """list_versions: GET …/servers/{name}/versions, newest publish first."""
    try:
        rows = reader.server_versions(access.scope, name, include_deleted=False)
    except NotFound:
        where = "the registry" if access.scope.builtin else f"catalog {access.scope.slug}"
        raise ToolError(f"No server {name} in {where}: search_servers finds names") from None
    return s.VersionList(catalog=access.scope.slug, name=name, versions=[
        s.VersionInfo(version=r.version, status=r.status, status_message=r.status_message or None,
                      is_latest=r.is_latest, published_at=r.published_at,
                      updated_at=r.updated_at, trusted=r.attested) for r in rows])


_TARGETS = {
    "claude-desktop": "claude_desktop_config.json (Settings > Developer > Edit Config)",
    "claude-code": "a shell: the command registers the server with Claude Code",
    "vscode": ".vscode/mcp.json in the workspace (or the user's mcp.json)",
    "cursor": ".cursor/mcp.json in the project, or ~/.cursor/mcp.json",
    "generic": "the client's MCP servers file (the common mcpServers shape)",
}


def _option(launch: clientconfig.Launch) -> s.InstallOption:
    if "identifier" in launch.source:  # built from a package (clientconfig.launches)
        return s.InstallOption(label=launch.label, kind="package", transport=launch.transport,
                               registry_type=_text(launch.source.get("registryType")))
    return s.InstallOption(label=launch.label, kind="remote", transport=launch.transport)


def _pick(launches: Sequence[clientconfig.Launch], prefer: str | None, name: str
          ) -> clientconfig.Launch:
    usable = [launch for launch in launches if launch.configurable]
    if not usable:
        bundles = [launch.download for launch in launches if launch.download]
        hint = f" It ships as a bundle to download: {bundles[0]}" if bundles else ""
        raise ToolError(f"{name} has no package or remote a client can be configured with."
                        + hint)
    if prefer is None:
        return usable[0]
    for launch in usable:
        option = _option(launch)
        if prefer == option.kind or prefer == option.registry_type:
            return launch
    offered = "; ".join(_option(launch).label for launch in usable)
    raise ToolError(f"{name} has no {prefer} option. It offers: {offered}")


def install_config(access: Access, *, name: str, client: str, version: str | None,
                   prefer: str | None) -> s.InstallConfig:
    """get_install_config: the web catalog's configuration text for one client."""
    row = _version_row(access, name, version or "latest")
    launches = clientconfig.launches(_manifest(row))
    chosen = _pick(launches, prefer, row.name)
    renderer, fmt = clientconfig.CLIENTS[client]
    style = "vscode" if client == "vscode" else "placeholder"
    prompts = [s.InstallPrompt(id=p.id, description=p.description, secret=p.secret,
                               placeholder=f"${{input:{p.id}}}" if style == "vscode"
                               else p.placeholder) for p in chosen.prompts]
    meta = _meta(access, row)
    return s.InstallConfig(
        catalog=access.scope.slug, name=row.name, version=row.version, client=client,
        format="shell" if fmt == "shell" else "json", target=_TARGETS[client],
        config=renderer(chosen), option=_option(chosen), prompts=prompts,
        note=chosen.note or None,
        alternatives=[_option(launch) for launch in launches
                      if launch.configurable and launch is not chosen],
        trust=_trust(meta))
