"""POST /v0/auth/dns: apex TXT key record served by a loopback DNS server."""

from __future__ import annotations

import pytest

from registry.auth.jwt import verify_token
from tests.support.identities import DomainKey

pytestmark = pytest.mark.django_db
DOMAIN = "example.com"


@pytest.mark.parametrize("algorithm", ["ed25519", "ecdsap384"])
def test_valid_proof_grants_domain_and_subdomains(api, dns_server, algorithm):
    key = DomainKey(algorithm)
    dns_server.txt[DOMAIN] = ["google-site-verification=abc", key.record]
    response = api.send("POST", "/auth/dns", key.body(DOMAIN))
    assert response.status_code == 200, response.content
    claims = verify_token(response.json()["registry_token"])
    assert claims.auth_method == "dns"
    assert {p.resource for p in claims.permissions} == {"com.example/*", "com.example.*"}


def test_one_of_several_keys_may_sign(api, dns_server):
    old, new = DomainKey(), DomainKey("ecdsap384")
    dns_server.txt[DOMAIN] = [old.record, new.record]
    assert api.send("POST", "/auth/dns", new.body(DOMAIN)).status_code == 200


def test_long_record_split_into_strings_is_joined(api, dns_server):
    key = DomainKey("ecdsap384")
    dns_server.txt[DOMAIN] = [key.record + ";" + " " * 300]
    assert api.send("POST", "/auth/dns", key.body(DOMAIN)).status_code == 200


def test_wrong_key_is_refused(api, dns_server):
    dns_server.txt[DOMAIN] = [DomainKey().record]
    response = api.send("POST", "/auth/dns", DomainKey().body(DOMAIN))
    assert response.status_code == 401
    assert "signature does not verify" in response.json()["detail"]


@pytest.mark.parametrize("selector", ["_mcp-auth", "_mcp-registry"])
def test_record_under_a_selector_gets_a_hint(api, dns_server, selector):
    key = DomainKey()
    dns_server.txt[f"{selector}.{DOMAIN}"] = [key.record]
    response = api.send("POST", "/auth/dns", key.body(DOMAIN))
    assert response.status_code == 401
    detail = response.json()["detail"]
    assert "no v=MCPv1 TXT record" in detail
    assert f"found at {selector}.{DOMAIN}" in detail


def test_no_record_at_all(api, dns_server):
    response = api.send("POST", "/auth/dns", DomainKey().body("nothing.example"))
    assert response.status_code == 401
    assert "no v=MCPv1 TXT record found on nothing.example" in response.json()["detail"]
    assert "found at" not in response.json()["detail"]


def test_expired_timestamp_and_replay(api, dns_server):
    key = DomainKey()
    dns_server.txt[DOMAIN] = [key.record]
    stale = api.send("POST", "/auth/dns", key.body(DOMAIN, offset=-30))
    assert stale.status_code == 401
    assert "outside the allowed window" in stale.json()["detail"]
    body = key.body(DOMAIN)
    assert api.send("POST", "/auth/dns", body).status_code == 200
    replay = api.send("POST", "/auth/dns", body)
    assert replay.status_code == 401
    assert "already used" in replay.json()["detail"]


def test_malformed_record_is_reported(api, dns_server):
    key = DomainKey()
    dns_server.txt[DOMAIN] = ["v=MCPv1; k=rsa; p=AAAA"]
    response = api.send("POST", "/auth/dns", key.body(DOMAIN))
    assert response.status_code == 401
    assert "unsupported algorithm" in response.json()["detail"]


def test_unreachable_resolver_times_out(api, settings):
    settings.MCP_INDEX_PROOF_DNS_NAMESERVERS = ["127.0.0.1:9"]
    settings.MCP_INDEX_PROOF_DNS_TIMEOUT_SECONDS = 1
    response = api.send("POST", "/auth/dns", DomainKey().body(DOMAIN))
    assert response.status_code == 401
    assert "DNS lookup of TXT example.com" in response.json()["detail"]
