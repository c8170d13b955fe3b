"""Rate limits per client IP and per token, counted in Redis (GCRA), 429 with Retry-After.

Every request is charged to one bucket: the verified identity of its bearer credential (a
registry JWT whose signature and expiry check out, keyed by its subject; a live API token)
or else its client IP's (IPv6 by /64). Anything that does not verify — a random, malformed,
expired or anonymous token — counts against the IP, so no header buys a fresh budget.
Writes (any method but GET/HEAD/OPTIONS) are also charged to a smaller write bucket of the
same identity. A request whose token is refused (401) also counts as an auth failure of its
IP: an IP that exceeds MCP_INDEX_RATE_LIMIT_AUTH_FAILURES is refused outright until its
failures drain. When Redis is unavailable, requests are let through (a cache outage must
not take the registry down) and a warning is logged.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from redis.commands.core import Script

from ops import redis as shared_redis
from ops.http import is_api_path, problem_response

# /healthz, /readyz and /metrics never get here: the request-context middleware answers them.
EXEMPT = ("/static/", "/favicon.ico")
# The WSGI environ key under which ops.fastpath passes on the verdict of a request it has
# charged (no client header can produce a key without the HTTP_ prefix).
PRECHARGED = "mcpidx.ratelimit.verdict"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour|d|day)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# GCRA: one stored "theoretical arrival time" per bucket. Allows `limit` requests per
# `period` with bursts up to `limit`; Redis's clock, so every replica agrees.
GCRA_FUNCTION = """
local function gcra(rate_key, block_key, period, limit)
  local blocked = redis.call('PTTL', block_key)
  if blocked > 0 then return {0, 0, blocked, blocked} end
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local interval = period / limit
  local tat = tonumber(redis.call('GET', rate_key)) or now
  if tat < now then tat = now end
  local new_tat = tat + interval
  local allow_at = new_tat - period
  if allow_at > now then
    return {0, 0, math.ceil(allow_at - now), math.ceil(tat - now)}
  end
  redis.call('SET', rate_key, tostring(new_tat), 'PX', math.ceil(new_tat - now) + 1)
  return {1, math.floor((now - allow_at) / interval), 0, math.ceil(new_tat - now)}
end
"""
_GCRA = GCRA_FUNCTION + "return gcra(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]))\n"


@dataclass(frozen=True)
class Rate:
    limit: int
    period_ms: int

    @staticmethod
    @lru_cache(maxsize=32)
    def parse(text: str) -> Rate:
        """`600/m`, `10/s`, `5000/h`, `100/5m`."""
        match = _RATE.match(text)
        if match is None or int(match.group(1)) < 1:
            raise ValueError(f"invalid rate {text!r}: expected e.g. 600/m, 10/s, 5000/h")
        count, unit = int(match.group(2) or 1), match.group(3)[0]
        return Rate(int(match.group(1)), count * _UNIT_SECONDS[unit] * 1000)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    retry_after_ms: int
    reset_ms: int


def client_ip(meta: Mapping[str, Any]) -> str:
    """The client address of a request's META (or a WSGI environ): REMOTE_ADDR, or the entry
    MCP_INDEX_TRUSTED_PROXIES hops back in X-Forwarded-For when the service runs behind that
    many proxies."""
    address = meta.get("REMOTE_ADDR", "") or "unknown"
    hops = settings.MCP_INDEX_TRUSTED_PROXIES
    if hops:
        forwarded = [p.strip() for p in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")
                     if p.strip()]
        if forwarded:
            address = forwarded[max(len(forwarded) - hops, 0)]
    return address


@lru_cache(maxsize=4096)
def ip_bucket(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "ip:" + address[:64]
    if ip.version == 6:
        return "ip6:" + str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return "ip:" + str(ip)


# Who a credential proves to be. The app that issues credentials registers the check (the
# registry, in its AppConfig.ready), so the limiter imports no app: each resolver returns a
# stable identity for a credential that verifies and None for anything else.
CredentialResolver = Callable[[str], str | None]
_resolvers: list[CredentialResolver] = []


def register_credential_resolver(resolver: CredentialResolver) -> None:
    """Let `resolver` name the identity behind an Authorization header (idempotent)."""
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def bucket_for(request: HttpRequest, ip_bucket: str) -> tuple[str, Rate]:
    """A verified identity's own bucket at the token rate, else the client IP's."""
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    for resolve in _resolvers if auth else ():
        identity = resolve(auth)
        if identity:
            digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
            return "id:" + digest, Rate.parse(settings.MCP_INDEX_RATE_LIMIT_TOKEN)
    return ip_bucket, Rate.parse(settings.MCP_INDEX_RATE_LIMIT_ANON)


def bucket_keys(bucket: str, rate: Rate, ip_bucket: str) -> list[str]:
    """The Redis keys of a bucket at a rate and of its IP's auth-failure block."""
    return [f"mcpidx:rl:{bucket}:{rate.limit}/{rate.period_ms}", f"mcpidx:rl:block:{ip_bucket}"]


class Limiter:
    """Charges buckets in Redis; `None` verdicts mean Redis is unavailable (let through)."""

    def __init__(self) -> None:
        self._script: Script | None = None

    def charge(self, bucket: str, rate: Rate, ip_bucket: str) -> Verdict | None:
        client = shared_redis.client()
        if client is None:
            return None
        if self._script is None:
            self._script = client.register_script(_GCRA)
        try:
            allowed, remaining, retry, reset = self._script(
                keys=bucket_keys(bucket, rate, ip_bucket), args=[rate.period_ms, rate.limit])
        except shared_redis.Errors as exc:
            shared_redis.warn_unavailable("rate limit", exc)
            return None
        return Verdict(bool(allowed), rate.limit, int(remaining), int(retry), int(reset))

    def auth_failed(self, ip_bucket: str, rate: Rate) -> None:
        """Count a failed token; past the limit, block the IP while the failures drain."""
        verdict = self.charge("fail:" + ip_bucket, rate, "-")
        client = shared_redis.client()
        if verdict is None or verdict.allowed or client is None:
            return
        try:
            client.set(f"mcpidx:rl:block:{ip_bucket}", 1, px=max(verdict.retry_after_ms, 1000))
        except shared_redis.Errors as exc:
            shared_redis.warn_unavailable("rate limit", exc)


def _too_many(request: HttpRequest, verdict: Verdict) -> HttpResponse:
    seconds = max(1, math.ceil(verdict.retry_after_ms / 1000))
    detail = f"Too many requests: the limit is {verdict.limit}; retry in {seconds} s"
    if is_api_path(request.path):
        response = problem_response(429, detail)
    else:
        response = HttpResponse(detail + "\n", status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(seconds)
    return response


def rate_headers(verdict: Verdict) -> list[tuple[str, str]]:
    """The RateLimit-* headers of an allowed request."""
    return [("RateLimit-Limit", str(verdict.limit)),
            ("RateLimit-Remaining", str(max(verdict.remaining, 0))),
            ("RateLimit-Reset", str(max(1, math.ceil(verdict.reset_ms / 1000))))]


def _headers(response: HttpResponse, verdict: Verdict) -> None:
    for name, value in rate_headers(verdict):
        response[name] = value


class RateLimitMiddleware:
    """Applies MCP_INDEX_RATE_LIMIT_{ANON,TOKEN,WRITES} to every request but probes/static.

    `writes=False` for an app whose POSTs are reads (the MCP endpoint: JSON-RPC over POST)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse], *,
                 writes: bool = True) -> None:
        self.get_response = get_response
        self.writes = writes
        self.limiter = Limiter()
        for name in ("ANON", "TOKEN", "WRITES", "AUTH_FAILURES"):  # refuse to start on typos
            Rate.parse(getattr(settings, f"MCP_INDEX_RATE_LIMIT_{name}"))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.MCP_INDEX_RATE_LIMITS or request.path.startswith(EXEMPT):
            return self.get_response(request)
        auth = request.META.get("HTTP_AUTHORIZATION", "")
        ip_key = ip_bucket(client_ip(request.META))
        bucket, rate = bucket_for(request, ip_key)
        # The fast path (ops.fastpath) has charged this request already when it hands it on.
        verdict = request.META.pop(PRECHARGED, None) or self.limiter.charge(bucket, rate, ip_key)
        if verdict is not None and not verdict.allowed:
            return _too_many(request, verdict)
        if self.writes and request.method not in SAFE_METHODS:
            writes = Rate.parse(settings.MCP_INDEX_RATE_LIMIT_WRITES)
            write = self.limiter.charge("w:" + bucket, writes, ip_key)
            if write is not None and not write.allowed:
                return _too_many(request, write)
        response = self.get_response(request)
        if verdict is not None:
            _headers(response, verdict)
        if auth and response.status_code == 401:
            self.limiter.auth_failed(ip_key,
                                     Rate.parse(settings.MCP_INDEX_RATE_LIMIT_AUTH_FAILURES))
        return response


_limiter = Limiter()


def charge_key(meta: Mapping[str, Any], key: str, rate_text: str) -> int | None:
    """Charge one request (its META or WSGI environ) to a bucket an app names itself (a feed
    URL's, by its id: never its secret); the seconds to wait when it is exhausted, None when
    allowed (or no Redis)."""
    if not settings.MCP_INDEX_RATE_LIMITS:
        return None
    rate = Rate.parse(rate_text)
    verdict = _limiter.charge("k:" + hashlib.sha256(key.encode()).hexdigest()[:32], rate,
                              ip_bucket(client_ip(meta)))
    if verdict is None or verdict.allowed:
        return None
    return max(1, math.ceil(verdict.retry_after_ms / 1000))


def record_auth_failure(meta: Mapping[str, Any]) -> None:
    """Count a credential that did not verify but came in the URL (an unknown feed secret)
    against the client IP of a request's META, as a refused Authorization header is."""
    if settings.MCP_INDEX_RATE_LIMITS:
        _limiter.auth_failed(ip_bucket(client_ip(meta)),
                             Rate.parse(settings.MCP_INDEX_RATE_LIMIT_AUTH_FAILURES))
