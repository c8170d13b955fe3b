"""The registry as an MCP server: `/mcp` (the registry root) and `/c/<slug>/mcp` (a catalog).

Streamable HTTP, stateless, JSON responses, on the official `mcp` SDK. tools.py holds the
tools, reads.py what they read (the same selectors, search and renderers as the registry API),
schemas.py their typed arguments and results, server.py the SDK server, http.py the ASGI app
that picks the scope and checks access, wsgi.py its bridge into the WSGI app (docs/mcp.md).
"""
