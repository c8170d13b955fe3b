"""SSRF-guarded outbound HTTP for URLs a user can point somewhere: proof hosts, MCPB files,
and every hop a package or image registry sends us to (token realms, redirects)."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import lru_cache

import httpx
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(*cidrs: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


# `is_global` follows the IANA special-purpose address registries, but Python 3.11's tables
# predate some entries and misjudge others, and a few "global" ranges only relay to an
# address embedded in them. These are refused on top of it (checked in tests/registry/
# test_outbound.py against the registries):
_IPV4_REFUSED = _networks(
    "100.64.0.0/10",  # shared address space (CGNAT), RFC 6598
    "192.0.0.0/24",  # IETF protocol assignments: 3.11 passes all but .0/29 and .170/31
    "192.88.99.0/24",  # deprecated 6to4 relay anycast (RFC 7526): forwards to any relay
    "224.0.0.0/4",  # multicast: 3.11 calls it "global"
)
# IPv6 connects only inside global unicast 2000::/3. That alone refuses IPv4-compatible
# ::/96 (3.11 passes ::127.0.0.1), IPv4-translated ::ffff:0:0:0/96, NAT64 64:ff9b::/96 and
# 64:ff9b:1::/48 (a translator would reach the embedded IPv4 address, internal or not),
# discard 100::/64, SRv6 5f00::/16, unique-local, link-local, site-local fec0::/10 (3.11
# passes it), multicast and everything unassigned. IPv4-mapped ::ffff:0:0/96 is judged by
# the IPv4 address inside it, the one the socket really reaches.
_IPV6_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
_IPV6_REFUSED = _networks(
    "2001::/23",  # IETF protocol assignments, incl. Teredo 2001::/32 (embeds IPv4 addresses);
    #               its few anycast services (AS112, AMT) are no fetch target either
    "2001:db8::/32",  # documentation
    "2002::/16",  # 6to4: embeds an IPv4 address and relays to it
    "3fff::/20",  # documentation (RFC 9637): 3.11 calls it global
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
    """True for globally reachable unicast addresses, or any in MCP_INDEX_OUTBOUND_ALLOW_CIDRS."""
    if any(ip in net for net in _allow_list(tuple(settings.MCP_INDEX_OUTBOUND_ALLOW_CIDRS))):
        return True
    if isinstance(ip, ipaddress.IPv4Address):
        return ip.is_global and not any(ip in net for net in _IPV4_REFUSED)
    if ip.ipv4_mapped is not None:
        return address_allowed(ip.ipv4_mapped)
    return (ip in _IPV6_GLOBAL_UNICAST and ip.is_global
            and not any(ip in net for net in _IPV6_REFUSED))


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


def tls_context() -> ssl.SSLContext:
    """The TLS context of outbound connections: system CAs plus MCP_INDEX_OUTBOUND_CA_BUNDLE."""
    return _ssl_context(settings.MCP_INDEX_OUTBOUND_CA_BUNDLE)


def origin(url: str) -> str:
    """`scheme://host:port` of a URL (default port filled in), for same-origin comparisons."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return ""
    port = parsed.port or {"https": 443, "http": 80}.get(parsed.scheme, 0)
    return f"{parsed.scheme}://{parsed.host.lower()}:{port}"


def guarded_get(
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    headers: dict[str, str] | None = None,
    max_redirects: int = 0,
    allow_http: bool = False,
    keep_body: bool = True,
    trusted_origins: Collection[str] = (),
) -> Fetched:
    """GET a user-supplied URL: checked host and IP, no proxies, capped size and total time.

    Every redirect hop is checked again, and `Authorization` is dropped when a hop leaves the
    origin. `trusted_origins` (see `origin`) are endpoints the operator configured, which may
    be internal: hops there connect as given, without the address check. The body is always
    hashed; `keep_body=False` discards it (large downloads).
    """
    deadline = time.monotonic() + timeout
    headers = dict(headers or {})
    trusted = frozenset(trusted_origins)
    for _ in range(max_redirects + 1):
        fetched = _get_once(url, max_bytes, deadline, headers, allow_http, keep_body, trusted)
        if fetched.status not in _REDIRECTS:
            return fetched
        location = fetched.headers.get("location", "")
        if max_redirects == 0:
            raise OutboundError(f"redirects are not followed ({fetched.status} from {url})")
        if not location:
            raise OutboundError(f"a redirect without a Location ({fetched.status} from {url})")
        try:
            target = str(httpx.URL(url).join(location))
        except httpx.InvalidURL as exc:
            raise OutboundError(f"not a valid redirect target: {location!r}") from exc
        if origin(target) != origin(url):  # as browsers and httpx do: credentials stay home
            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        url = target
    raise OutboundError(f"too many redirects (more than {max_redirects})")


def _get_once(
    url: str,
    max_bytes: int,
    deadline: float,
    headers: dict[str, str],
    allow_http: bool,
    keep_body: bool,
    trusted: frozenset[str],
) -> Fetched:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise OutboundError(f"not a valid URL: {url!r}") from exc
    if origin(url) in trusted:
        host = parsed.host
        target, extensions = parsed, {}
    else:
        if parsed.scheme != "https" and not (allow_http and parsed.scheme == "http"):
            raise OutboundError(f"only https URLs are fetched, not {parsed.scheme or 'no'} scheme")
        if parsed.userinfo:
            raise OutboundError("URLs with credentials are not fetched")
        host = validate_hostname(parsed.host)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        ip = resolve_checked(host, port)
        # Connect to the address that was checked, not to whatever a second lookup returns.
        target = parsed.copy_with(host=str(ip), port=port)
        extensions = {"sni_hostname": host}
        headers = {**headers, "Host": host if parsed.port is None else f"{host}:{parsed.port}"}
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
            client.stream("GET", target, headers=headers, extensions=extensions) as response,
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
