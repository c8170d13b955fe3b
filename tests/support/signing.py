"""The version the signing tests sign: its name, version, manifest and the issuer they trust."""

from __future__ import annotations

from typing import Any

SERVER = "io.github.acme/db"
VERSION = "1.4.0"
ISSUER = "https://idp.acme.example"
MANIFEST: dict[str, Any] = {
    "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
    "name": SERVER,
    "description": "A database MCP server",
    "version": VERSION,
    "packages": [
        {
            "registryType": "npm",
            "identifier": "@acme/db-mcp",
            "version": VERSION,
            "transport": {"type": "stdio"},
        }
    ],
}
