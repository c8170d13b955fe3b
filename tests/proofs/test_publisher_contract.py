"""mcp-publisher's login requests, byte for byte as its Go client sends them, and what it reads back.

Go's json.Marshal of a map[string]string sorts keys and writes compact JSON; the client sets
Content-Type and Accept to application/json, POSTs to `<registry>/v0/auth/<method>`, requires
a 200 and reads `registry_token` (string) and `expires_at` (integer seconds).
"""

from __future__ import annotations

import json
import time

import pytest

from tests.support.identities import DomainKey, now_rfc3339
from tests.support.loopback import PROOF_DOMAIN, Reply
from tests.support.manifests import manifest

pytestmark = pytest.mark.django_db
REGISTRY = "http://testserver"  # what `mcp-publisher login … --registry` was given


def go_marshal(payload: dict[str, str]) -> bytes:
    """encoding/json for map[string]string: sorted keys, no spaces, HTML characters escaped."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text.encode()


def exchange(client, method: str, payload: dict[str, str], prefix: str = "/v0"):
    return client.generic(
        "POST",
        f"{prefix}/auth/{method}",
        go_marshal(payload),
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )


def assert_token_response(response) -> str:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"registry_token", "expires_at"}
    assert isinstance(body["registry_token"], str)
    assert isinstance(body["expires_at"], int)
    assert time.time() < body["expires_at"] <= time.time() + 3600
    return body["registry_token"]


def signed(key: DomainKey, domain: str) -> dict[str, str]:
    timestamp = now_rfc3339()
    return {"domain": domain, "timestamp": timestamp, "signed_timestamp": key.sign(timestamp)}


@pytest.mark.parametrize("algorithm", ["ed25519", "ecdsap384"])
def test_login_http_then_publish(client, proof_host, algorithm):
    key = DomainKey(algorithm)
    proof_host.route("/.well-known/mcp-registry-auth", Reply(body=key.record.encode()))
    token = assert_token_response(exchange(client, "http", signed(key, PROOF_DOMAIN)))
    doc = manifest(f"test.example.proof/demo-{algorithm}", "1.0.0")
    published = client.post(
        "/v0/publish",
        data=json.dumps(doc),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert published.status_code == 200, published.content


def test_login_dns(client, dns_server):
    key = DomainKey()
    dns_server.txt["example.com"] = [key.record]
    assert_token_response(exchange(client, "dns", signed(key, "example.com")))


def test_login_github_oidc_with_registry_origin_audience(client, issuer, settings):
    settings.MCP_INDEX_GITHUB_OIDC_ISSUER = issuer.issuer
    settings.MCP_INDEX_GITHUB_OIDC_AUDIENCE = []
    token = issuer.mint(aud=REGISTRY, repository_owner="acme")
    assert_token_response(exchange(client, "github-oidc", {"oidc_token": token}))


def test_login_oidc(client, issuer, settings):
    settings.MCP_INDEX_OIDC_PROVIDERS = [
        {"issuer": issuer.issuer, "audience": "mcp-index", "grants": [{"action": "edit", "pattern": "*"}]}
    ]
    token = issuer.mint(aud="mcp-index")
    assert_token_response(exchange(client, "oidc", {"oidc_token": token}))


def test_login_github_token(client, http_server, settings):
    github = http_server()
    settings.MCP_INDEX_GITHUB_API_URL = github.url
    github.route("/user", Reply.json({"login": "octo"}))
    github.route("/user/memberships/orgs", Reply.json([]))
    assert_token_response(exchange(client, "github-at", {"github_token": "gho_abc<&>"}))
    assert github.requests[0].headers["authorization"] == "Bearer gho_abc<&>"


def test_the_v0_1_mount_answers_too(client, dns_server):
    key = DomainKey()
    dns_server.txt["example.com"] = [key.record]
    assert_token_response(exchange(client, "dns", signed(key, "example.com"), prefix="/v0.1"))


def test_failure_is_a_401_problem_the_cli_can_print(client, dns_server):
    response = exchange(client, "dns", signed(DomainKey(), "example.com"))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    problem = json.loads(response.content)
    assert problem["status"] == 401
    assert problem["title"] == "Unauthorized"
    assert problem["detail"].startswith("Authentication failed: ")
