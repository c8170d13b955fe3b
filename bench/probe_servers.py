"""Loopback MCP servers for bench/probe_bench.py: one official-SDK server over TLS in
streamable HTTP (/mcp) and one in SSE (/sse), eight tools each. Run as its own process, so the
servers do not share the prober's interpreter:

    python bench/probe_servers.py CERT_PEM STREAMABLE_PORT SSE_PORT
"""

from __future__ import annotations

import logging
import sys
import threading

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings

TOOLS = {f"tool_{n}": f"Bench tool number {n}: does thing {n} to a record" for n in range(8)}


def server() -> MCPServer:
    mcp = MCPServer("bench-server", version="1.0.0")
    for name, description in TOOLS.items():
        def fn(record: str = "", limit: int = 10) -> str:
            return record
        mcp.add_tool(fn, name=name, description=description)
    return mcp


def main() -> None:
    logging.disable(logging.WARNING)  # the SDK logs every session at INFO
    cert, streamable_port, sse_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    open_hosts = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    apps = [(server().streamable_http_app(stateless_http=True, json_response=True,
                                          transport_security=open_hosts), streamable_port),
            (server().sse_app(transport_security=open_hosts), sse_port)]
    threads = []
    for app, port in apps:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                ssl_certfile=cert, ssl_keyfile=cert, backlog=2048)
        thread = threading.Thread(target=uvicorn.Server(config).run, daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
