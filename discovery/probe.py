"""Probing a remote MCP server with the official `mcp` SDK client, through the SSRF guard.

Every connection the SDK opens goes through `_GuardedBackend`: the host name is checked and
resolved by registry.outbound (no IP literals, no private or reserved addresses unless
MCP_INDEX_OUTBOUND_ALLOW_CIDRS allows them, MCP_INDEX_OUTBOUND_HOSTS for fixed mappings) and
the socket connects to the address that was checked. TLS verifies the real host name
(MCP_INDEX_OUTBOUND_CA_BUNDLE adds a private CA). No credential is ever sent: no
Authorization, no cookies, no headers from the manifest. Each probe has one deadline and a
cap on the bytes it reads in all.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread
import httpcore2
import httpx2
from django.conf import settings
from httpcore2._backends.auto import AutoBackend
from mcp.client.session import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import PaginatedRequestParams

from mcp_index_common.toolsets import MAX_TOOLS, tools_digest, tools_normalize
from registry.outbound import OutboundError, resolve_checked, tls_context, validate_hostname

OK = "ok"
UNREACHABLE = "unreachable"
NOT_MCP = "not-mcp"
AUTH_REQUIRED = "auth-required"
SKIPPED = "skipped"
STATUSES = (OK, UNREACHABLE, NOT_MCP, AUTH_REQUIRED, SKIPPED)

TRANSPORTS = ("streamable-http", "sse")  # preferred first
MAX_PAGES = 50  # of tools, prompts or resources: a server paging forever is cut off here
_TEMPLATE = re.compile(r"\{[^{}]*\}")
_RESOURCE_METADATA = re.compile(r'resource_metadata="([^"]+)"')


@dataclass(frozen=True)
class Target:
    """What to probe: a remote's URL and transport, or why it cannot be probed."""

    url: str
    transport: str
    skip_reason: str = ""

    @property
    def host(self) -> str:
        try:
            return httpx2.URL(self.url).host.lower()
        except (httpx2.InvalidURL, TypeError):
            return ""


@dataclass(frozen=True)
class ProbeResult:
    """What one probe observed (tools normalized and sorted, see mcp_index_common.toolsets)."""

    status: str
    reason: str = ""
    protocol_version: str = ""
    server_info: dict[str, Any] = field(default_factory=dict)
    tools: list[dict[str, Any]] = field(default_factory=list)
    tools_digest: str = ""
    prompt_count: int | None = None
    resource_count: int | None = None
    authorization_servers: list[str] = field(default_factory=list)
    duration_ms: int = 0


def target_of(manifest: Any) -> Target | None:
    """The remote to probe: the first streamable-http remote, else the first sse one; None
    when the version has neither. Templated URLs and required headers make it a skip."""
    remotes = manifest.get("remotes") if isinstance(manifest, Mapping) else None
    if not isinstance(remotes, list):
        return None
    candidates = [r for r in remotes if isinstance(r, Mapping) and r.get("type") in TRANSPORTS
                  and isinstance(r.get("url"), str)]
    if not candidates:
        return None
    remote = min(candidates, key=lambda r: TRANSPORTS.index(r["type"]))
    url, transport = remote["url"][:2000], remote["type"]
    variables = _TEMPLATE.findall(url)
    if variables:
        return Target(url, transport, f"the URL needs user values for {', '.join(variables)}")
    for header in remote.get("headers") or []:
        if isinstance(header, Mapping) and header.get("isRequired") and not _fixed(header):
            return Target(url, transport, f"the header {header.get('name')} needs a user value")
    return Target(url, transport)


def _fixed(header: Mapping[str, Any]) -> bool:
    """A header whose value the manifest fixes (no user input). We still never send it:
    a fixed header is a credential more often than not."""
    value = header.get("value")
    return isinstance(value, str) and not _TEMPLATE.search(value) and not header.get("isSecret")


class _GuardedBackend(httpcore2.AsyncNetworkBackend):
    """Connects only to addresses the SSRF guard allows, the one it checked."""

    def __init__(self) -> None:
        self._inner = AutoBackend()  # httpcore's default backend does the connecting

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore2.AsyncNetworkStream:
        try:
            checked = validate_hostname(host)
            ip = await anyio.to_thread.run_sync(resolve_checked, checked, port)
        except OutboundError as exc:
            raise httpcore2.ConnectError(str(exc)) from exc
        return await self._inner.connect_tcp(str(ip), port, timeout=timeout,
                                             local_address=local_address,
                                             socket_options=socket_options)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None
                                  ) -> httpcore2.AsyncNetworkStream:
        raise httpcore2.ConnectError("unix sockets are not probed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Budget:
    """The bytes one probe may still read, and the responses it saw (for classification)."""

    def __init__(self, max_bytes: int) -> None:
        self.left = max_bytes
        self.responses: list[tuple[int, str, str]] = []  # status, content type, www-authenticate


class _CappedStream(httpx2.AsyncByteStream):
    def __init__(self, inner: Any, budget: _Budget) -> None:
        self._inner, self._budget = inner, budget

    async def __aiter__(self) -> Any:
        async for chunk in self._inner:
            self._budget.left -= len(chunk)
            if self._budget.left < 0:
                raise httpx2.ReadError("the server sent more than the probe's byte limit")
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class _GuardedTransport(httpx2.AsyncBaseTransport):
    """https only (unless MCP_INDEX_PROBE_ALLOW_HTTP), no credentials, capped bodies."""

    def __init__(self, budget: _Budget) -> None:
        self._budget = budget
        context = tls_context()  # the guard's: MCP_INDEX_OUTBOUND_CA_BUNDLE included
        self._inner = httpx2.AsyncHTTPTransport(verify=context, trust_env=False)
        # httpx's transport maps requests and responses; its pool gets our network backend,
        # so every connection is checked (the transport takes no backend argument).
        self._inner._pool = httpcore2.AsyncConnectionPool(
            ssl_context=context, max_connections=4, network_backend=_GuardedBackend())

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        scheme = request.url.scheme
        if scheme != "https" and not (scheme == "http" and settings.MCP_INDEX_PROBE_ALLOW_HTTP):
            raise httpx2.ConnectError(f"only https URLs are probed, not {scheme}")
        if request.url.userinfo:
            raise httpx2.ConnectError("URLs with credentials are not probed")
        for header in ("authorization", "cookie", "proxy-authorization"):
            request.headers.pop(header, None)
        response = await self._inner.handle_async_request(request)
        self._budget.responses.append((response.status_code,
                                       response.headers.get("content-type", ""),
                                       response.headers.get("www-authenticate", "")))
        response.stream = _CappedStream(response.stream, self._budget)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def _client(budget: _Budget, timeout: float) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=_GuardedTransport(budget), trust_env=False,
                              follow_redirects=False, timeout=httpx2.Timeout(timeout),
                              headers={"User-Agent": "mcp-index-prober"})


async def probe(target: Target) -> ProbeResult:
    """Probe one remote: initialize, every page of tools/list, counts of prompts and
    resources. Never raises: every failure is an outcome with a reason."""
    if target.skip_reason:
        return ProbeResult(SKIPPED, target.skip_reason)
    timeout = float(settings.MCP_INDEX_PROBE_TIMEOUT_SECONDS)
    budget = _Budget(int(settings.MCP_INDEX_PROBE_MAX_BYTES))
    started = time.monotonic()
    try:
        with anyio.fail_after(timeout):
            result = await _session(target, budget, timeout)
    except TimeoutError:
        result = _failure(budget, f"no answer within {timeout:g} s")
    except Exception as exc:
        result = _failure(budget, _describe(exc))
    if result.status == AUTH_REQUIRED:
        result = await _with_authorization_servers(result, target, budget)
    return ProbeResult(**{**result.__dict__,
                          "duration_ms": int((time.monotonic() - started) * 1000)})


async def _session(target: Target, budget: _Budget, timeout: float) -> ProbeResult:
    async with _client(budget, timeout) as client:
        if target.transport == "sse":
            def factory(headers: Any = None, timeout: Any = None, auth: Any = None
                        ) -> httpx2.AsyncClient:
                return _client(budget, float(settings.MCP_INDEX_PROBE_TIMEOUT_SECONDS))
            streams = sse_client(target.url, httpx_client_factory=factory, timeout=timeout,
                                 sse_read_timeout=timeout)
        else:
            streams = streamable_http_client(target.url, http_client=client)
        async with streams as (read, write), ClientSession(
                read, write, read_timeout_seconds=timeout) as session:
            init = await session.initialize()
            tools: list[Any] = []
            cursor: str | None = None
            for _ in range(MAX_PAGES):
                page = await session.list_tools(params=_page(cursor))
                tools += [t.model_dump(mode="json", by_alias=True, exclude_none=True)
                          for t in page.tools]
                cursor = page.next_cursor
                if not cursor or len(tools) >= MAX_TOOLS:
                    break
            caps = init.capabilities
            prompts = await _count(session.list_prompts, "prompts") if caps.prompts else None
            resources = (await _count(session.list_resources, "resources")
                         if caps.resources else None)
            info = init.server_info.model_dump(mode="json", by_alias=True, exclude_none=True)
            normalized = tools_normalize(tools)
            return ProbeResult(OK, protocol_version=str(init.protocol_version)[:40],
                               server_info={k: info[k] for k in ("name", "title", "version")
                                            if isinstance(info.get(k), str)},
                               tools=normalized, tools_digest=tools_digest(normalized),
                               prompt_count=prompts, resource_count=resources)


def _page(cursor: str | None) -> Any:
    return PaginatedRequestParams(cursor=cursor) if cursor else None


async def _count(method: Any, attribute: str) -> int | None:
    """Items over every page; None when the server refuses the list it advertised."""
    total, cursor = 0, None
    try:
        for _ in range(MAX_PAGES):
            page = await method(params=_page(cursor))
            total += len(getattr(page, attribute))
            cursor = page.next_cursor
            if not cursor:
                break
    except Exception:
        return None
    return total


def _describe(exc: BaseException) -> str:
    """The innermost meaningful message of an exception (task groups wrap them)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc) or type(exc).__name__
    return text[:300]


def _failure(budget: _Budget, reason: str) -> ProbeResult:
    """Classify a failed session by what the server answered, if anything."""
    if budget.left < 0:
        cap = int(settings.MCP_INDEX_PROBE_MAX_BYTES)
        return ProbeResult(NOT_MCP, f"the server sent more than the probe's byte limit ({cap})")
    for status, _, challenge in budget.responses:
        if status == 401 or (status == 403 and "bearer" in challenge.lower()):
            return ProbeResult(AUTH_REQUIRED, f"HTTP {status}: the server requires authorization")
    answers = [r for r in budget.responses if r[0] < 500]
    if not answers:
        return ProbeResult(UNREACHABLE, reason)
    status, content_type, _ = answers[-1]
    kind = content_type.split(";")[0].strip() or "no content type"
    return ProbeResult(NOT_MCP, f"HTTP {status} {kind}: not an MCP endpoint ({reason})"[:500])


async def _with_authorization_servers(result: ProbeResult, target: Target, budget: _Budget
                                      ) -> ProbeResult:
    """RFC 9728: the protected resource's metadata names its authorization servers. From
    the challenge's resource_metadata, else the well-known URL on the resource's origin."""
    challenge = next((c for s, _, c in budget.responses if s in (401, 403) and c), "")
    found = _RESOURCE_METADATA.search(challenge)
    url = httpx2.URL(target.url)
    candidates = [found.group(1)] if found else []
    path = url.path.rstrip("/")
    candidates += [str(url.copy_with(path=f"/.well-known/oauth-protected-resource{path}", query=None)),
                   str(url.copy_with(path="/.well-known/oauth-protected-resource", query=None))]
    metadata_budget = _Budget(64 * 1024)
    try:
        with anyio.fail_after(float(settings.MCP_INDEX_PROBE_TIMEOUT_SECONDS)):
            async with _client(metadata_budget, 10.0) as client:
                for candidate in dict.fromkeys(candidates):
                    response = await client.get(candidate)
                    if response.status_code != 200:
                        continue
                    data = response.json()
                    servers = data.get("authorization_servers") if isinstance(data, dict) else None
                    if isinstance(servers, list):
                        names = [s[:500] for s in servers if isinstance(s, str)][:10]
                        return ProbeResult(**{**result.__dict__, "authorization_servers": names})
    except Exception:  # noqa: S110 - metadata is a bonus: auth-required stands without it
        pass
    return result
