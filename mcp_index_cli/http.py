"""Talking to a registry: one httpx client, problem+json errors mapped to exit codes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import quote

import httpx

from mcp_index_cli.errors import (
    EXIT_AUTH,
    EXIT_CONFLICT,
    EXIT_FAILURE,
    EXIT_INVALID,
    EXIT_NETWORK,
    EXIT_USAGE,
    CliError,
)

TIMEOUT_SECONDS = 30.0


def cli_version() -> str:
    """The installed mcp-index version, or `unknown` when running from a bare checkout."""
    try:
        return version("mcp-index")
    except PackageNotFoundError:
        return "unknown"


def segment(value: str) -> str:
    """URL-encode one path segment, `/` included (`io.github.x/y` → `io.github.x%2Fy`)."""
    return quote(value, safe="")


@dataclass(frozen=True)
class Reply:
    """An HTTP response reduced to what commands need: status and parsed JSON body."""

    status: int
    body: Any
    text: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def _parse(response: httpx.Response) -> Reply:
    text = response.text
    body: Any = None
    if text.strip():
        try:
            body = json.loads(text)
        except ValueError:
            body = None
    headers = {k.lower(): v for k, v in response.headers.items()}
    return Reply(status=response.status_code, body=body, text=text, headers=headers)


def send(
    method: str,
    url: str,
    *,
    token: str | None = None,
    json_body: Any = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Reply:
    """One request; network failures become exit code 6 instead of a traceback.

    `transport` replaces the network (httpx's own hook): the Context passes the one it was
    built with, so an embedding program or a test can answer requests in-process.
    """
    all_headers = {"User-Agent": f"mcp-index/{cli_version()}", "Accept": "application/json"}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    if json_body is not None:
        content = json.dumps(json_body, separators=(",", ":"), ensure_ascii=False).encode()
    if content is not None:
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers or {})
    try:
        target = httpx.URL(url).copy_merge_params(params) if params else httpx.URL(url)
        with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False,
                          transport=transport) as client:
            response = client.request(method, target, content=content, headers=all_headers)
    except httpx.TimeoutException as exc:
        raise CliError(f"timed out talking to {_origin(url)}", code=EXIT_NETWORK) from exc
    except httpx.InvalidURL as exc:
        raise CliError(f"invalid URL {url!r}: {exc}", code=EXIT_USAGE) from exc
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise CliError(f"cannot reach {_origin(url)}: {reason}", code=EXIT_NETWORK) from exc
    return _parse(response)


def _origin(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return url
    return f"{parsed.scheme}://{parsed.netloc.decode()}"


def problem_messages(reply: Reply) -> tuple[str, tuple[str, ...]]:
    """The `detail` (or title) of a problem+json body and its `errors[].message` lines."""
    body = reply.body if isinstance(reply.body, dict) else {}
    reason = body.get("detail") or body.get("title") or body.get("error") or body.get("message")
    if not isinstance(reason, str) or not reason:
        first_line = reply.text.strip().splitlines()[0][:200] if reply.text.strip() else ""
        reason = first_line or f"HTTP {reply.status}"
    details: list[str] = []
    errors = body.get("errors")
    if isinstance(errors, list):
        for error in errors:
            if not isinstance(error, dict) or not error.get("message"):
                continue
            location = error.get("location")
            suffix = f" ({location})" if location else ""
            message = f"{error['message']}{suffix}"
            if message != reason:
                details.append(message)
    return reason, tuple(details)


def failure(reply: Reply, action: str, *, bad_request_code: int = EXIT_FAILURE,
            relogin_hint: bool = True) -> CliError:
    """Turn an error reply into a CliError with the documented exit code.

    A 401 normally means the stored token expired, so it gets a hint to log in again;
    `login` itself passes relogin_hint=False (the reason is that its proof was refused).
    """
    reason, details = problem_messages(reply)
    if reply.status in (401, 403):
        code = EXIT_AUTH
        if reply.status == 401 and relogin_hint:
            details = (*details, "log in again with `mcp-index login <method>`")
    elif reply.status == 409:
        code = EXIT_CONFLICT
    elif reply.status == 422:
        code = EXIT_INVALID
    elif reply.status == 400:
        code = bad_request_code
    else:
        code = EXIT_FAILURE
    return CliError(f"{action} failed (HTTP {reply.status}): {reason}", code=code,
                    details=details)
