"""Real MCP (and not-MCP) servers on loopback for the prober's tests, all behind TLS from a
throwaway CA: the npm reference server `@modelcontextprotocol/server-everything` (its
streamable HTTP mode, behind a TLS relay), a server of our own built with the official `mcp`
SDK whose tool set can change between probes, an HTML page, a server that never answers,
and one that answers 401 with RFC 9728 protected-resource metadata."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings

from tests.support.network import free_port

ROOT = Path(__file__).resolve().parents[2]
EVERYTHING_JS = ROOT / ".node-everything/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
# Host names the tests map to 127.0.0.1 (MCP_INDEX_OUTBOUND_HOSTS); the certificate covers them.
PROBE_DOMAIN = "probe.test"
WILDCARD = f"*.{PROBE_DOMAIN}"
# What a PlainServer answers: (method, path, its port) -> (status, headers, body).
Answer = Callable[[str, str, int], tuple[int, dict[str, str], bytes]]


def host(label: str) -> str:
    return f"{label}.{PROBE_DOMAIN}"


def _wait_listening(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class DriftServer:
    """Our own MCP server (official SDK, stateless streamable HTTP) over TLS, in a thread.
    `tools` can be replaced between probes: the next tools/list answers the new set."""

    def __init__(self, certfile: Path, tools: dict[str, str] | None = None, *,
                 sse: bool = False) -> None:
        self.port = free_port()
        self.path = "/sse" if sse else "/mcp"
        self.server = MCPServer("drift-test", version="1.0.0")
        self.set_tools(tools or {"add": "Add two numbers", "echo": "Echo a message back"})
        open_hosts = TransportSecuritySettings(enable_dns_rebinding_protection=False)
        app = (self.server.sse_app(transport_security=open_hosts) if sse else
               self.server.streamable_http_app(stateless_http=True, json_response=True,
                                               transport_security=open_hosts))
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error",
                                ssl_certfile=str(certfile), ssl_keyfile=str(certfile),
                                lifespan="on")
        self._uvicorn = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._uvicorn.run, daemon=True)
        self._thread.start()
        _wait_listening(self.port)

    def set_tools(self, tools: dict[str, str]) -> None:
        """Replace the tool set: name -> description."""
        for tool in list(self.server._tool_manager.list_tools()):
            self.server.remove_tool(tool.name)
        for name, description in tools.items():
            def fn(text: str = "") -> str:
                return text
            self.server.add_tool(fn, name=name, description=description)

    def url(self, label: str = "drift") -> str:
        return f"https://{host(label)}:{self.port}{self.path}"

    def close(self) -> None:
        self._uvicorn.should_exit = True
        self._thread.join(timeout=10)


class PlainServer:
    """An HTTPS server answering every method with one route function (status, headers, body);
    `hang=True` accepts and never answers."""

    def __init__(self, context: ssl.SSLContext, answer: Answer,
                 *, hang: bool = False) -> None:
        outer = self
        self.release = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if hang:
                    outer.release.wait(60)
                    return
                status, headers, body = answer(self.command, self.path, outer.port)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, label: str, path: str = "/mcp") -> str:
        return f"https://{host(label)}:{self.port}{path}"

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def html_page(method: str, path: str, port: int) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "text/html; charset=utf-8"}, b"<!doctype html><h1>Welcome</h1>"


def protected(auth_server: str) -> Answer:
    """401 on the MCP endpoint with a resource_metadata challenge; the metadata document."""
    def answer(method: str, path: str, port: int) -> tuple[int, dict[str, str], bytes]:
        if path.startswith("/.well-known/oauth-protected-resource"):
            body = {"resource": "https://auth.probe.test/mcp", "authorization_servers": [auth_server]}
            return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()
        return 401, {"WWW-Authenticate": 'Bearer resource_metadata='
                     f'"https://{host("auth")}:{port}/.well-known/oauth-protected-resource/mcp"'}, b""
    return answer


class TlsRelay:
    """TLS in front of a plain-HTTP loopback server (the npm reference server speaks HTTP)."""

    def __init__(self, context: ssl.SSLContext, upstream_port: int) -> None:
        self.port = free_port()
        self._upstream = upstream_port
        self._context = context
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(10)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._upstream)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _main(self, ready: threading.Event) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, ssl=self._context)
        ready.set()
        async with server:
            await self._stop.wait()
        for task in asyncio.all_tasks() - {asyncio.current_task()}:
            task.cancel()

    def _run(self, ready: threading.Event) -> None:
        try:
            self._loop.run_until_complete(self._main(ready))
        finally:
            self._loop.close()

    def close(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)


class EverythingServer:
    """`@modelcontextprotocol/server-everything streamableHttp` (installed by `make node`
    into .node-everything/), behind a TLS relay."""

    def __init__(self, context: ssl.SSLContext) -> None:
        node = shutil.which("node")
        if node is None or not EVERYTHING_JS.exists():
            raise RuntimeError("run `make node` first: the npm reference server is not in .node-everything/")
        self.node_port = free_port()
        env = {**os.environ, "PORT": str(self.node_port)}
        self.process = subprocess.Popen([node, str(EVERYTHING_JS), "streamableHttp"], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_listening(self.node_port)
        self.relay = TlsRelay(context, self.node_port)

    def url(self, label: str = "everything") -> str:
        return f"https://{host(label)}:{self.relay.port}/mcp"

    def close(self) -> None:
        self.relay.close()
        self.process.terminate()
        self.process.wait(timeout=10)
