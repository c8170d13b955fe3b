"""POST /v0/auth/http: key record on a loopback host, signatures, window, replay, SSRF guard."""

from __future__ import annotations

import pytest

from registry.auth.jwt import verify_token
from registry.models import AuditEvent
from registry.outbound import OutboundError, guarded_get
from tests.support.identities import DomainKey
from tests.support.loopback import PROOF_DOMAIN, Reply

WELL_KNOWN = "/.well-known/mcp-registry-auth"
pytestmark = pytest.mark.django_db


def serve_key(host, key: DomainKey) -> None:
    host.route(WELL_KNOWN, Reply(body=(key.record + "\n").encode()))


@pytest.mark.parametrize("algorithm", ["ed25519", "ecdsap384"])
def test_valid_proof_grants_reversed_domain(api, proof_host, algorithm):
    key = DomainKey(algorithm)
    serve_key(proof_host, key)
    response = api.send("POST", "/auth/http", key.body(PROOF_DOMAIN))
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"registry_token", "expires_at"}
    claims = verify_token(body["registry_token"])
    assert claims.auth_method == "http"
    assert [(p.action, p.resource) for p in claims.permissions] == [("publish", "test.example.proof/*")]
    assert proof_host.requests[0].headers["host"] == f"{PROOF_DOMAIN}:{proof_host.port}"
    event = AuditEvent.objects.get(action="registry.auth.login")
    assert event.actor == f"http:{PROOF_DOMAIN}"
    assert body["registry_token"] not in str(event.data)


def test_served_over_https_with_operator_ca(api, http_server, tls, settings, outbound):
    host = http_server(tls)
    key = DomainKey()
    serve_key(host, key)
    settings.MCP_INDEX_PROOF_HTTP_URL = f"https://{{domain}}:{host.port}{WELL_KNOWN}"
    settings.MCP_INDEX_OUTBOUND_CA_BUNDLE = str(tls.ca_file)
    assert api.send("POST", "/auth/http", key.body(PROOF_DOMAIN)).status_code == 200


def test_untrusted_certificate_is_refused(api, http_server, tls, settings, outbound):
    host = http_server(tls)
    key = DomainKey()
    serve_key(host, key)
    settings.MCP_INDEX_PROOF_HTTP_URL = f"https://{{domain}}:{host.port}{WELL_KNOWN}"
    response = api.send("POST", "/auth/http", key.body(PROOF_DOMAIN))
    assert response.status_code == 401
    assert "ConnectError" in response.json()["detail"]


def test_signature_by_another_key_is_refused(api, proof_host):
    serve_key(proof_host, DomainKey())
    response = api.send("POST", "/auth/http", DomainKey().body(PROOF_DOMAIN))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert "signature does not verify" in response.json()["detail"]


def test_tampered_timestamp_is_refused(api, proof_host):
    key = DomainKey("ecdsap384")
    serve_key(proof_host, key)
    body = key.body(PROOF_DOMAIN)
    body["timestamp"] = body["timestamp"].replace("Z", "+00:00")
    response = api.send("POST", "/auth/http", body)
    assert response.status_code == 401
    assert "signature does not verify" in response.json()["detail"]


@pytest.mark.parametrize("offset", [-60, 60])
def test_timestamp_outside_window_is_refused(api, proof_host, offset):
    key = DomainKey()
    serve_key(proof_host, key)
    response = api.send("POST", "/auth/http", key.body(PROOF_DOMAIN, offset=offset))
    assert response.status_code == 401
    assert "outside the allowed window" in response.json()["detail"]
    assert proof_host.requests == []  # refused before any fetch


def test_replayed_proof_is_refused(api, proof_host):
    key = DomainKey()
    serve_key(proof_host, key)
    body = key.body(PROOF_DOMAIN)
    assert api.send("POST", "/auth/http", body).status_code == 200
    again = api.send("POST", "/auth/http", body)
    assert again.status_code == 401
    assert "already used" in again.json()["detail"]


def test_missing_record_and_bad_hex(api, proof_host):
    key = DomainKey()
    response = api.send("POST", "/auth/http", key.body(PROOF_DOMAIN))
    assert response.status_code == 401
    assert "answered HTTP 404" in response.json()["detail"]
    serve_key(proof_host, key)
    body = key.body(PROOF_DOMAIN)
    body["signed_timestamp"] = "zz"
    assert "hex" in api.send("POST", "/auth/http", body).json()["detail"]


def test_missing_field_is_rejected_before_verification(api, proof_host):
    response = api.send("POST", "/auth/http", {"domain": PROOF_DOMAIN})
    assert response.status_code in (400, 422)
    assert proof_host.requests == []


# --- SSRF guard -------------------------------------------------------------------------


def test_redirect_to_loopback_is_not_followed(api, proof_host):
    key = DomainKey()
    proof_host.route(
        WELL_KNOWN, Reply(status=302, headers={"Location": f"http://127.0.0.1:{proof_host.port}/k"})
    )
    proof_host.route("/k", Reply(body=key.record.encode()))
    response = api.send("POST", "/auth/http", key.body(PROOF_DOMAIN))
    assert response.status_code == 401
    assert "redirects are not followed" in response.json()["detail"]
    assert [r.path for r in proof_host.requests] == [WELL_KNOWN]


def test_ip_literal_domain_is_refused(api, proof_host):
    response = api.send("POST", "/auth/http", DomainKey().body("127.0.0.1"))
    assert response.status_code == 401
    assert "invalid domain" in response.json()["detail"]
    with pytest.raises(OutboundError, match="IP address literals"):
        guarded_get(f"http://127.0.0.1:{proof_host.port}/", max_bytes=10, timeout=1, allow_http=True)
    with pytest.raises(OutboundError, match="IP address literals"):
        guarded_get("https://[::1]/", max_bytes=10, timeout=1)


def test_single_label_and_plain_http_are_refused(outbound):
    with pytest.raises(OutboundError, match="single-label"):
        guarded_get("https://intranet/", max_bytes=10, timeout=1)
    with pytest.raises(OutboundError, match="only https"):
        guarded_get(f"http://{PROOF_DOMAIN}/", max_bytes=10, timeout=1)


def test_oversize_body_is_refused(api, proof_host):
    key = DomainKey()
    proof_host.route(WELL_KNOWN, Reply(body=(key.record + "\n" + "#" * 5000).encode()))
    response = api.send("POST", "/auth/http", key.body(PROOF_DOMAIN))
    assert response.status_code == 401
    assert "larger than 4096 bytes" in response.json()["detail"]


def test_slow_response_is_refused(api, proof_host):
    key = DomainKey()
    proof_host.route(WELL_KNOWN, Reply(body=key.record.encode(), delay=2.5))
    response = api.send("POST", "/auth/http", key.body(PROOF_DOMAIN))
    assert response.status_code == 401
    assert "took too long" in response.json()["detail"]


def test_trickled_response_hits_the_total_deadline(api, proof_host):
    key = DomainKey()
    proof_host.route(WELL_KNOWN, Reply(body=key.record.encode(), trickle=0.05))
    response = api.send("POST", "/auth/http", key.body(PROOF_DOMAIN))
    assert response.status_code == 401
    assert "took too long" in response.json()["detail"]


def test_loopback_address_needs_the_allow_list(api, proof_host, settings):
    key = DomainKey()
    serve_key(proof_host, key)
    settings.MCP_INDEX_OUTBOUND_ALLOW_CIDRS = []
    response = api.send("POST", "/auth/http", key.body(PROOF_DOMAIN))
    assert response.status_code == 401
    assert "private or reserved address" in response.json()["detail"]
    assert proof_host.requests == []


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "64:ff9b::a9fe:a9fe",
        "::ffff:127.0.0.1",
        "fe80::1",
        "fd00::1",
        "0.0.0.0",
    ],
)
def test_private_addresses_are_refused(settings, address):
    settings.MCP_INDEX_OUTBOUND_HOSTS = {"internal.example.test": address}
    settings.MCP_INDEX_OUTBOUND_ALLOW_CIDRS = []
    with pytest.raises(OutboundError, match="private or reserved"):
        guarded_get("https://internal.example.test/", max_bytes=10, timeout=1)
