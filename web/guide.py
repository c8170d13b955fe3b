"""The guide's copy-paste setup for one base URL: VS Code, Copilot CLI, Claude Code, Cursor,
and the registry's MCP endpoint. JSON is built with json.dumps and shell with shlex.quote,
so a catalog title or URL can never break out of a snippet."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

from curation.models import Catalog
from registry.auth import resource


@dataclass(frozen=True)
class Snippet:
    """One thing to copy: where it goes (a file or a shell) and its text."""

    id: str
    client: str
    where: str
    text: str


@dataclass(frozen=True)
class Setup:
    """Everything the guide shows for one base URL (the registry or one catalog)."""

    label: str
    slug: str  # "" for the registry itself
    registry_url: str  # what a registry client is pointed at
    mcp_url: str  # the registry's own MCP endpoint for this scope
    private: bool
    snippets: tuple[Snippet, ...]
    oauth_metadata: str = ""  # the RFC 9728 document, when an IdP is configured


def _json(value: object) -> str:
    return json.dumps(value, indent=2)


def scope_setup(*, base: str, catalog: Catalog | None) -> Setup:
    """The setup of the registry itself (no catalog) or of one catalog, under `base`."""
    path = f"/c/{catalog.slug}" if catalog is not None else ""
    metadata = f"{base}{resource.METADATA_PATH}{path}" if resource.enabled() else ""
    if catalog is None:
        return setup_for(label="this registry", slug="", registry_url=base, mcp_url=f"{base}/mcp",
                         private=False, oauth_metadata=metadata)
    return setup_for(label=catalog.title or catalog.slug, slug=catalog.slug,
                     registry_url=base + path, mcp_url=f"{base}{path}/mcp",
                     private=not catalog.public, oauth_metadata=metadata)


def setup_for(*, label: str, slug: str, registry_url: str, mcp_url: str, private: bool,
              oauth_metadata: str = "") -> Setup:
    """The snippets for a scope; `mcp_url` is `/mcp` at the root, `/c/<slug>/mcp` per catalog."""
    name = "mcp-index"
    snippets = (
        Snippet("vscode-gallery", "VS Code", "settings.json (user or workspace)",
                _json({"chat.mcp.gallery.serviceUrl": registry_url})),
        Snippet("vscode-mcp", "VS Code", ".vscode/mcp.json",
                _json({"servers": {name: {"type": "http", "url": mcp_url}}})),
        Snippet("copilot-cli", "Copilot CLI", "~/.copilot/mcp-config.json",
                _json({"mcpServers": {name: {"type": "http", "url": mcp_url, "tools": ["*"]}}})),
        Snippet("claude-code", "Claude Code", "a shell, in your project",
                f"claude mcp add --transport http {name} {shlex.quote(mcp_url)}"),
        Snippet("cursor", "Cursor", ".cursor/mcp.json (or ~/.cursor/mcp.json)",
                _json({"mcpServers": {name: {"url": mcp_url}}})),
        Snippet("curl", "Any client", "a shell",
                f"curl {shlex.quote(registry_url + '/v0.1/servers?version=latest&limit=5')}"),
    )
    return Setup(label=label, slug=slug, registry_url=registry_url, mcp_url=mcp_url,
                 private=private, snippets=snippets, oauth_metadata=oauth_metadata)
