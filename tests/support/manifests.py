"""server.json documents for tests: minimal valid manifests and package/remote examples."""

from __future__ import annotations

from typing import Any

from tests.support.data import SCHEMA_URL


def manifest(name: str = "io.modelcontextprotocol.anonymous/demo", version: str = "1.0.0",
             **extra: Any) -> dict[str, Any]:
    """A minimal valid server.json."""
    doc: dict[str, Any] = {"$schema": SCHEMA_URL, "name": name,
                           "description": "A demo server", "version": version}
    doc.update(extra)
    return doc


def server_doc(name: str, version: str = "1.0.0", **extra: Any) -> dict[str, Any]:
    """A valid server.json described after its name ("The db server"), as the pages show it."""
    doc: dict[str, Any] = {"$schema": SCHEMA_URL, "name": name, "version": version,
                           "description": f"The {name.split('/')[-1]} server"}
    doc.update(extra)
    return doc


NPM = [{"registryType": "npm", "identifier": "@acme/db", "version": "1.0.0",
        "transport": {"type": "stdio"},
        "environmentVariables": [{"name": "DB_URL", "isRequired": True, "isSecret": True,
                                  "description": "Connection string"}]}]
PYPI = [{"registryType": "pypi", "identifier": "acme-files", "version": "2.0.0",
         "transport": {"type": "stdio"}}]
REMOTE = [{"type": "streamable-http", "url": "https://mcp.acme.example/mcp"}]
SSE = [{"type": "sse", "url": "https://mcp.acme.example/sse"}]
