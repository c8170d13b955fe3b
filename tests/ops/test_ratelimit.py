"""Rate limits per IP and per token, shared through Redis: 429 with Retry-After."""

from __future__ import annotations

import secrets
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from ops.ratelimit import Rate
from registry.auth.jwt import issue_token
from registry.auth.permissions import PUBLISH, Permission
from registry.services import token_create, token_revoke
from tests.conftest import bearer, manifest

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.MCP_INDEX_RATE_LIMIT_ANON = "5/m"
    settings.MCP_INDEX_RATE_LIMIT_TOKEN = "8/m"
    settings.MCP_INDEX_RATE_LIMIT_WRITES = "2/m"
    settings.MCP_INDEX_RATE_LIMIT_AUTH_FAILURES = "3/m"
    return settings


def statuses(client: Client, n: int, path: str = "/v0.1/servers", **headers: str) -> list[int]:
    return [client.get(path, headers=headers).status_code for _ in range(n)]


def test_anonymous_limit_per_ip_is_shared_across_workers(limits):
    # Two clients stand for two web replicas: the budget lives in Redis, not in a process.
    first, second = Client(), Client()
    assert statuses(first, 3) == [200] * 3
    assert statuses(second, 2) == [200] * 2
    refused = second.get("/v0.1/servers")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["status"] == 429 and "limit is 5" in refused.json()["detail"]
    assert 1 <= int(refused["Retry-After"]) <= 12  # one request's worth of a 5/min budget
    assert first.get("/").status_code == 429  # pages count too, answered in plain text
    assert first.get("/")["Content-Type"].startswith("text/plain")


def test_rate_limit_headers_count_down(limits):
    client = Client()
    seen = [client.get("/v0.1/servers") for _ in range(3)]
    assert [r["RateLimit-Limit"] for r in seen] == ["5"] * 3
    assert [int(r["RateLimit-Remaining"]) for r in seen] == [4, 3, 2]
    assert all(1 <= int(r["RateLimit-Reset"]) <= 60 for r in seen)


def jwt_for(subject: str, pattern: str = "io.github.acme/*", method: str = "test") -> str:
    """A registry JWT for one identity (`bearer()` always signs for the same subject)."""
    return issue_token(auth_method=method, subject=subject,
                       permissions=[Permission(PUBLISH, pattern)]).registry_token


def test_tokens_have_their_own_budget(limits):
    client = Client()
    assert statuses(client, 5) == [200] * 5
    assert client.get("/v0.1/servers").status_code == 429  # this IP is spent
    alice, bob = jwt_for("alice", "io.github.alice/*"), jwt_for("bob", "io.github.bob/*")
    auth_a, auth_b = f"Bearer {alice}", f"Bearer {bob}"
    assert statuses(client, 8, Authorization=auth_a) == [200] * 8
    assert client.get("/v0.1/servers", headers={"Authorization": auth_a}).status_code == 429
    assert client.get("/v0.1/servers", headers={"Authorization": auth_b}).status_code == 200


def test_writes_have_a_smaller_budget(limits):
    client = Client()
    token = f"Bearer {bearer(['io.github.acme/*'])}"
    codes = [client.post("/v0.1/publish", data=manifest("io.github.acme/db", f"1.0.{i}"),
                         content_type="application/json",
                         headers={"Authorization": token}).status_code for i in range(3)]
    assert codes == [200, 200, 429]
    assert client.get("/v0.1/servers", headers={"Authorization": token}).status_code == 200


def test_invented_tokens_do_not_escape_the_ip_limit(limits):
    client = Client()
    codes = [client.get("/v0.1/x/io.mcpindex/tokens",
                        headers={"Authorization": f"Bearer made-up-{i}"}).status_code
             for i in range(5)]
    assert codes[:3] == [401, 401, 401] and codes[4] == 429
    valid = f"Bearer {bearer(['io.github.acme/*'])}"
    assert client.get("/v0.1/servers", headers={"Authorization": valid}).status_code == 429


def test_unverified_credentials_count_against_the_ip(limits):
    """On endpoints that never authenticate, an Authorization header that does not verify
    buys no budget of its own: random, padded, expired or foreign credentials all count
    against the client IP."""
    client = Client()
    assert statuses(client, 5) == [200] * 5  # this IP is spent
    expired = issue_token(auth_method="test", subject="alice", permissions=[], ttl=-60)
    forged = jwt.encode({"iss": "mcp-index", "exp": int(time.time()) + 60, "auth_method": "test",
                         "auth_method_sub": "alice", "permissions": []},
                        Ed25519PrivateKey.generate(), algorithm="EdDSA")
    headers = [f"Bearer {secrets.token_urlsafe(24)}" for _ in range(3)] + [
        "Bearer", "Bearer   ", " " * 7, "Basic dXNlcjpwYXNz", "garbage",
        f"Bearer mcpi_{secrets.token_urlsafe(32)}",  # the API-token shape, but no such token
        f"Bearer {expired.registry_token}", f"Bearer {forged}",
    ]
    for header in headers:
        response = client.get("/v0.1/servers", headers={"Authorization": header})
        assert response.status_code == 429, header


def test_one_identity_has_one_budget_however_its_header_is_written(limits):
    client = Client()
    token = jwt_for("alice")
    assert statuses(client, 8, Authorization=f"Bearer {token}") == [200] * 8
    for header in (f"Bearer  {token}", f"Bearer {token}   ", f"bearer {token}",
                   f"Bearer {jwt_for('alice')}"):  # a second login of the same subject
        response = client.get("/v0.1/servers", headers={"Authorization": header})
        assert response.status_code == 429, header
    assert client.get("/v0.1/servers").status_code == 200  # the IP's own budget is untouched
    other = client.get("/v0.1/servers", headers={"Authorization": f"Bearer {jwt_for('bob')}"})
    assert other.status_code == 200


def test_api_tokens_are_verified_identities(limits):
    client = Client()
    assert statuses(client, 5) == [200] * 5  # this IP is spent
    live = token_create(name="ci", patterns=["io.github.acme/*"], actor="admin:root").secret
    assert statuses(client, 8, Authorization=f"Bearer {live}") == [200] * 8
    assert statuses(client, 1, Authorization=f"Bearer {live}") == [429]
    revoked = token_create(name="old", patterns=["io.github.acme/*"], actor="admin:root")
    token_revoke(token=revoked.token, actor="admin:root")
    assert statuses(client, 1, Authorization=f"Bearer {revoked.secret}") == [429]  # the IP's


def test_anonymous_tokens_count_against_the_ip(limits):
    """Anyone can log in anonymously as often as they like: that is no identity."""
    limits.MCP_INDEX_ANONYMOUS_AUTH = True
    client = Client()
    tokens = [client.post("/v0/auth/none").json()["registry_token"] for _ in range(2)]
    assert statuses(client, 3) == [200] * 3  # 2 logins + 3 reads spend the IP's 5
    for token in tokens:
        assert statuses(client, 1, Authorization=f"Bearer {token}") == [429]


def test_forwarded_for_is_trusted_only_behind_configured_proxies(limits):
    client = Client()
    assert statuses(client, 5, **{"X-Forwarded-For": "203.0.113.1"}) == [200] * 5
    # Untrusted header: the "other client" is the same socket address, already spent.
    assert statuses(client, 1, **{"X-Forwarded-For": "203.0.113.2"}) == [429]
    limits.MCP_INDEX_TRUSTED_PROXIES = 1
    for ip in ("198.51.100.1", "198.51.100.2"):
        assert statuses(client, 5, **{"X-Forwarded-For": f"10.0.0.9, {ip}"}) == [200] * 5
        assert client.get("/v0.1/servers", headers={"X-Forwarded-For": ip}).status_code == 429


def test_budget_refills(settings):
    settings.MCP_INDEX_RATE_LIMIT_ANON = "4/s"
    client = Client()
    assert statuses(client, 5) == [200] * 4 + [429]
    time.sleep(0.3)  # a quarter second buys one request at 4/s
    assert statuses(client, 1) == [200]


def test_limits_off_or_redis_down_let_requests_through(limits):
    client = Client()
    limits.MCP_INDEX_RATE_LIMITS = False
    assert statuses(client, 8) == [200] * 8
    limits.MCP_INDEX_RATE_LIMITS = True
    limits.REDIS_URL = "redis://127.0.0.1:1/0"
    assert statuses(client, 8) == [200] * 8


def test_bad_rates_are_refused():
    assert Rate.parse("600/m") == Rate(600, 60_000)
    assert Rate.parse("10/5s") == Rate(10, 5_000)
    for bad in ("", "0/m", "ten/m", "5/fortnight", "5"):
        with pytest.raises(ValueError):
            Rate.parse(bad)
