"""SSRF-guarded outbound HTTP for URLs a user can point somewhere (proof hosts, MCPB files)."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
import ssl
import time
from dataclasses import dataclass, field
from functools import lru_cache

import httpx
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Ranges that `is_global` does not (or not reliably) exclude but that reach internal networks.
_ALWAYS_BLOCKED = tuple(
    ipaddress.ip_network(net)
    for net in (
        "100.64.0.0/10",  # CGNAT
        "64:ff9b::/96",  # NAT64 well-known prefix: embeds an IPv4 address
        "64:ff9b:1::/48",  # NAT64 local-use prefix
        "2002::/16",  # 6to4: embeds an IPv4 address
    )
)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_REDIRECTS = {301, 302, 303, 307, 308}


class OutboundError(Exception):
    """An outbound fetch that was refused or failed; the message is safe to show."""


@dataclass(frozen=True)
class Fetched:
    """A fetched response: final URL, status, headers and the (size-capped) body."""

    url: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    sha256: str = ""


def validate_hostname(host: str) -> str:
    """Lower-cased host name, or OutboundError for IP literals, single labels and bad syntax."""
    host = host.strip().rstrip(".").lower()
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise OutboundError(f"IP address literals are not allowed: {host}")
    labels = host.split(".")
    if len(labels) < 2:
        raise OutboundError(f"single-label host names are not allowed: {host!r}")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise OutboundError(f"not a valid host name: {host!r}")
    return host


def address_allowed(ip: IPAddress) -> bool:
    """True for publicly routable addresses, or any address in MCP_INDEX_OUTBOUND_ALLOW_CIDRS."""
    if any(ip in net for net in _allow_list(tuple(settings.MCP_INDEX_OUTBOUND_ALLOW_CIDRS))):
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return address_allowed(ip.ipv4_mapped)
    if any(ip.version == net.version and ip in net for net in _ALWAYS_BLOCKED):
        return False
    return ip.is_global and not ip.is_multicast


@lru_cache(maxsize=8)
def _allow_list(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def resolve_checked(host: str, port: int) -> IPAddress:
    """Resolve `host` (static map first, then DNS) and return the first allowed address."""
    static = settings.MCP_INDEX_OUTBOUND_HOSTS.get(host)
    if static:
        candidates = [ipaddress.ip_address(static)]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise OutboundError(f"cannot resolve {host}") from exc
        candidates = [ipaddress.ip_address(info[4][0]) for info in infos]
    for ip in candidates:
        if address_allowed(ip):
            return ip
    raise OutboundError(f"{host} resolves to a private or reserved address; refused")


@lru_cache(maxsize=4)
def _ssl_context(ca_bundle: str) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


def guarded_get(
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    headers: dict[str, str] | None = None,
    max_redirects: int = 0,
    allow_http: bool = False,
    keep_body: bool = True,
) -> Fetched:
    """GET a user-supplied URL: checked host and IP, no proxies, capped size and total time.

    The body is always hashed; `keep_body=False` discards it (large downloads).
    """
    deadline = time.monotonic() + timeout
    for _ in range(max_redirects + 1):
        fetched = _get_once(url, max_bytes, deadline, headers or {}, allow_http, keep_body)
        if fetched.status not in _REDIRECTS:
            return fetched
        location = fetched.headers.get("location", "")
        if max_redirects == 0:
            raise OutboundError(f"redirects are not followed ({fetched.status} from {url})")
        url = str(httpx.URL(url).join(location))
    raise OutboundError(f"too many redirects (more than {max_redirects})")


def _get_once(
    url: str,
    max_bytes: int,
    deadline: float,
    headers: dict[str, str],
    allow_http: bool,
    keep_body: bool,
) -> Fetched:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise OutboundError(f"not a valid URL: {url!r}") from exc
    if parsed.scheme != "https" and not (allow_http and parsed.scheme == "http"):
        raise OutboundError(f"only https URLs are fetched, not {parsed.scheme or 'no'} scheme")
    if parsed.userinfo:
        raise OutboundError("URLs with credentials are not fetched")
    host = validate_hostname(parsed.host)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    ip = resolve_checked(host, port)
    # Connect to the address that was checked, not to whatever a second lookup returns.
    pinned = parsed.copy_with(host=str(ip), port=port)
    host_header = host if parsed.port is None else f"{host}:{parsed.port}"
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise OutboundError("timed out")
    client = httpx.Client(
        verify=_ssl_context(settings.MCP_INDEX_OUTBOUND_CA_BUNDLE),
        timeout=httpx.Timeout(remaining),
        follow_redirects=False,
        trust_env=False,
    )
    digest = hashlib.sha256()
    body = bytearray()
    size = 0
    try:
        with (
            client,
            client.stream(
                "GET",
                pinned,
                headers={**headers, "Host": host_header},
                extensions={"sni_hostname": host},
            ) as response,
        ):
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise OutboundError(f"response from {host} is larger than {max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise OutboundError(f"{host} took too long to respond")
                digest.update(chunk)
                if keep_body:
                    body += chunk
            return Fetched(
                url=url,
                status=response.status_code,
                headers={k.lower(): v for k, v in response.headers.items()},
                body=bytes(body),
                sha256=digest.hexdigest(),
            )
    except httpx.TimeoutException as exc:
        raise OutboundError(f"{host} took too long to respond") from exc
    except httpx.HTTPError as exc:
        raise OutboundError(f"could not fetch from {host}: {type(exc).__name__}") from exc
