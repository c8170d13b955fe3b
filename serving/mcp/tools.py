"""The registry's MCP tools: thin async wrappers over serving.mcp.reads.

Each tool takes typed arguments (schemas: their JSON Schema, checked by the SDK before the
tool runs; a bad argument is a tool error the model can read), finds who asks and in which
catalog (serving.mcp.http put it on the request), and runs the read in the database thread.

Adding a tool: write it here (or in a module of its own) like these, with `ctx: Context`
last, and append it to TOOLS; serving.mcp.server registers every entry as read-only with
structured output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from mcp.server.mcpserver import Context

from discovery import inventory
from serving.mcp import reads
from serving.mcp.schemas import (
    LIMIT_DEFAULT,
    Client,
    Cursor,
    InstallConfig,
    Limit,
    Prefer,
    Query,
    RegistryType,
    SearchResult,
    ServerDetail,
    ServerName,
    ToolMatch,
    ToolSearchResult,
    Transport,
    Version,
    VersionList,
)
from serving.search import SearchFilters

# Where serving.mcp.http leaves the request's Access in the ASGI scope.
ACCESS_KEY = "mcp_index.access"


def _db_call(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    # No Django request cycle runs for /mcp, so do what its signals do around a request:
    # drop a connection that broke or outlived CONN_MAX_AGE.
    close_old_connections()
    try:
        return fn(*args, **kwargs)
    finally:
        close_old_connections()


# One thread per process holds the database connection (asgiref's thread-sensitive
# executor), as a sync gunicorn worker does: never one connection per event-loop thread.
run_db = sync_to_async(_db_call, thread_sensitive=True)


def access_of(ctx: Context) -> reads.Access:
    """The caller and scope of this request; the registry root (anonymous, no query needed)
    for an in-process client, which has no HTTP request."""
    request = ctx.request_context.request
    access = getattr(request, "scope", {}).get(ACCESS_KEY) if request is not None else None
    return access if isinstance(access, reads.Access) else reads.root_access()


async def search_servers(query: Query = "", registry_type: RegistryType | None = None,
                         transport: Transport | None = None, remote_only: bool = False,
                         trusted_only: bool = False, limit: Limit = LIMIT_DEFAULT,
                         cursor: Cursor | None = None, *, ctx: Context) -> SearchResult:
    """Find MCP servers in this catalog for a task or keywords, most relevant first.

    Filters narrow the search before it is ranked: registry_type (npm, pypi, oci, nuget,
    mcpb), transport (stdio, streamable-http, sse), remote_only (a hosted endpoint, nothing
    to install), trusted_only (a verified attestation vouches for the version). For the next
    page pass nextCursor as cursor; it carries the query and filters.
    """
    filters = SearchFilters(registry_type=registry_type or "", transport=transport or "",
                            remote_only=remote_only, trusted_only=trusted_only)
    access = access_of(ctx)
    return await run_db(reads.search, access, query=query, filters=filters, limit=limit,
                        cursor=cursor)


async def get_server(name: ServerName, version: Version = "latest", *, ctx: Context
                     ) -> ServerDetail:
    """One version of a server (the latest by default): its server.json as published, its
    status, and the registry's `_meta` with the trust summary and the catalog's notes."""
    access = access_of(ctx)
    return await run_db(reads.server, access, name=name, version=version)


async def list_versions(name: ServerName, *, ctx: Context) -> VersionList:
    """Every version of a server in this catalog, newest first, with status and whether a
    verified attestation exists for it."""
    access = access_of(ctx)
    return await run_db(reads.versions, access, name=name)


async def get_install_config(name: ServerName, client: Client, version: Version | None = None,
                             prefer: Prefer | None = None, *, ctx: Context) -> InstallConfig:
    """The configuration that installs a server in a client: claude-desktop, claude-code (a
    command line), vscode, cursor or generic (the common mcpServers JSON).

    By default the first package, else the first remote; prefer picks remote, package, or a
    package registry (npm, pypi, oci, nuget). Secrets and required settings appear as
    placeholders listed in prompts: ask the user for them, never invent them.
    """
    access = access_of(ctx)
    return await run_db(reads.install_config, access, name=name, client=client,
                        version=version, prefer=prefer)


def _tools(access: reads.Access, *, query: str, limit: int, server: str | None
           ) -> ToolSearchResult:
    hits = inventory.search_tools(scope=access.scope, query=query, limit=limit, server=server)
    return ToolSearchResult(catalog=access.scope.slug, query=query,
                            tools=[ToolMatch(**hit.as_json()) for hit in hits])


async def search_tools(query: Query = "", limit: Limit = LIMIT_DEFAULT,
                       server: ServerName | None = None, *, ctx: Context) -> ToolSearchResult:
    """Find tools (what a server lets the model do) by words, across the servers of this
    catalog, or within one server. Only what the registry observed by probing a server's
    remote endpoint is listed; a server that was never probed has no tools here."""
    access = access_of(ctx)
    return await run_db(_tools, access, query=query, limit=limit, server=server)


@dataclass(frozen=True)
class ToolSpec:
    """A tool as serving.mcp.server registers it."""

    fn: Callable[..., Any]
    title: str


TOOLS: list[ToolSpec] = [
    ToolSpec(search_servers, "Search MCP servers"),
    ToolSpec(get_server, "Get an MCP server"),
    ToolSpec(list_versions, "List a server's versions"),
    ToolSpec(get_install_config, "Get a client configuration"),
    ToolSpec(search_tools, "Search the tools servers offer"),
]
