"""The SDK server: every tool of serving.mcp.tools, read-only, with typed results."""

from __future__ import annotations

from django.conf import settings
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

from serving.mcp.tools import TOOLS

INSTRUCTIONS = """\
This is an MCP server registry. To give the user a server for a task: search_servers with
the task in words, get_server or list_versions to inspect a result (check `trust`: who
vouches for the version), then get_install_config for the user's client. Configurations
hold placeholders for secrets: ask the user for those values."""


def build_server() -> MCPServer:
    """A fresh MCPServer with every tool (one per process: its session manager runs once)."""
    server: MCPServer = MCPServer(name="mcp-index", title="MCP Index",
                                  version=settings.MCP_INDEX_VERSION, instructions=INSTRUCTIONS)
    for spec in TOOLS:
        server.add_tool(spec.fn, title=spec.title, structured_output=True,
                        annotations=ToolAnnotations(title=spec.title, read_only_hint=True,
                                                    destructive_hint=False,
                                                    idempotent_hint=True,
                                                    open_world_hint=False))
    return server
