"""The MCP endpoint inside the WSGI app: MCP paths go through a2wsgi, everything else to Django.

MCP requests skip Django's URL routing and views but not what every request owes the
operator: ops' request context (request id, access log, request metrics under the route
`/mcp` or `/c/<slug>/mcp`) and the rate limits wrap them as they wrap the API.

Why WSGI and not an ASGI router under a uvicorn worker: measured in bench/mcp_bench.py
(bench/RESULTS.md, docs/mcp.md "Deployment"). Every deployment keeps running
`gunicorn config.wsgi:application` with sync workers, and the plain API pays one regex test.

Per worker process, on its first MCP request: an event loop in a daemon thread, the SDK's
session manager running on it (what an ASGI server's lifespan would start), and a2wsgi
feeding it requests. Made lazily because gunicorn forks workers from a master that imported
the app (preload_app): a thread started in the master does not exist in its children.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any

from a2wsgi import ASGIMiddleware
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest, HttpResponse
from django.urls import ResolverMatch

from ops.middleware import RequestContextMiddleware
from ops.ratelimit import RateLimitMiddleware
from serving.mcp.http import McpEndpoint, is_mcp_path

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
START_TIMEOUT = 30.0


class _Bridge:
    """One process's event loop, running MCP endpoint and its session manager."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="mcp-loop", daemon=True).start()
        self.endpoint = McpEndpoint()
        started: Future[None] = Future()
        asyncio.run_coroutine_threadsafe(self._run(started), self.loop)
        started.result(timeout=START_TIMEOUT)
        self.wsgi = ASGIMiddleware(self.endpoint, loop=self.loop)  # type: ignore[arg-type]

    async def _run(self, started: Future[None]) -> None:
        try:
            async with self.endpoint.session_manager.run():
                started.set_result(None)
                await asyncio.Event().wait()  # until the process exits (a daemon thread)
        except BaseException as exc:  # startup failed: report it to the first request
            if not started.done():
                started.set_exception(exc)
            raise


def _route(request: HttpRequest) -> None:
    """Never called: the resolver match only names the route for logs and metrics."""


class WithMcp:
    """WSGI app: MCP paths to the endpoint (through a2wsgi), the rest to `django_app`."""

    def __init__(self, django_app: WsgiApp) -> None:
        self.django_app = django_app
        self._bridge: _Bridge | None = None
        self._lock = threading.Lock()
        self.chain = RequestContextMiddleware(RateLimitMiddleware(self._mcp, writes=False))

    def bridge(self) -> _Bridge:
        bridge = self._bridge
        if bridge is None or bridge.pid != os.getpid():
            with self._lock:
                bridge = self._bridge
                if bridge is None or bridge.pid != os.getpid():
                    bridge = self._bridge = _Bridge()
        return bridge

    def _mcp(self, request: HttpRequest) -> HttpResponse:
        """The endpoint's answer (a complete JSON body: stateless, no streams) as a response."""
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
            answer.update(status=int(status.split(" ", 1)[0]), headers=headers)

        body = b"".join(self.bridge().wsgi(request.META, start_response))  # type: ignore[arg-type]
        response = HttpResponse(body, status=answer["status"])
        for name, value in answer["headers"]:
            response[name] = value
        return response

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if not is_mcp_path(environ.get("PATH_INFO", "")):
            return self.django_app(environ, start_response)
        request = WSGIRequest(environ)
        route = ("mcp" if request.path.startswith("/mcp") else
                 "c/<slug>/k/<secret>/mcp" if "/k/" in request.path else "c/<slug>/mcp")
        request.resolver_match = ResolverMatch(_route, (), {}, route=route)
        response = self.chain(request)
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return response if not isinstance(response, HttpResponse) else [response.content]
