"""The registry as an OAuth 2.1 resource server, against a fake IdP on loopback
(tests/support/identities.py): metadata, challenges, audience, expiry, scopes, groups."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from registry.auth import resource
from tests.support.loopback import Reply

pytestmark = pytest.mark.django_db
BASE = "http://testserver"
CORP = f"{BASE}/c/corp"
EXT = "/v0.1/x/io.mcpindex"


@pytest.fixture
def idp(issuer, settings):
    """The fake issuer configured as the company's IdP, with two groups mapped to roles."""
    settings.MCP_INDEX_OAUTH_ISSUER = issuer.issuer
    settings.MCP_INDEX_PUBLIC_URL = BASE
    settings.MCP_INDEX_OAUTH_GROUP_ROLES = {"engineering": ["catalog:corp:viewer"],
                                            "curators": ["catalog:corp:reviewer"]}
    return issuer


def token(idp, *, aud=CORP, scope="mcp-registry:read", groups=("engineering",), **claims):
    return idp.mint(aud=aud, scope=scope, groups=list(groups), sub="alice@corp", **claims)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_protected_resource_metadata_per_catalog(client, idp, private_catalog):
    root = client.get("/.well-known/oauth-protected-resource")
    assert root.status_code == 200 and root["Access-Control-Allow-Origin"] == "*"
    assert root.json()["resource"] == BASE
    corp = client.get("/.well-known/oauth-protected-resource/c/corp").json()
    assert corp == {
        "resource": CORP, "authorization_servers": [idp.issuer],
        "scopes_supported": ["mcp-registry:read", "mcp-registry:write"],
        "bearer_methods_supported": ["header"], "resource_name": "Corp catalog",
        "resource_documentation": f"{BASE}/guide/"}
    assert client.get("/.well-known/oauth-protected-resource/c/nope").status_code == 404


def test_no_metadata_without_an_idp(client, private_catalog):
    assert client.get("/.well-known/oauth-protected-resource/c/corp").status_code == 404
    denied = client.get("/c/corp/v0.1/servers")
    assert denied.status_code == 401 and denied["WWW-Authenticate"] == "Bearer"


def test_401_names_the_resource_metadata(client, idp, private_catalog):
    denied = client.get("/c/corp/v0.1/servers")
    assert denied.status_code == 401
    assert denied["WWW-Authenticate"] == (
        f'Bearer resource_metadata="{BASE}/.well-known/oauth-protected-resource/c/corp", '
        'scope="mcp-registry:read"')
    assert "WWW-Authenticate" in denied["Access-Control-Expose-Headers"]


def test_a_valid_access_token_reads_the_private_catalog(client, idp, private_catalog):
    response = client.get("/c/corp/v0.1/servers", headers=bearer(token(idp)))
    assert response.status_code == 200, response.content
    assert len(response.json()["servers"]) == 2
    assert response["Cache-Control"] == "private, no-cache"


def test_wrong_audience_is_an_invalid_token(client, idp, private_catalog):
    for aud in (BASE, f"{BASE}/c/other", "https://elsewhere.example"):
        denied = client.get("/c/corp/v0.1/servers", headers=bearer(token(idp, aud=aud)))
        assert denied.status_code == 401, aud
        challenge = denied["WWW-Authenticate"]
        assert challenge.startswith('Bearer error="invalid_token"')
        assert f'audience must be {CORP}' in challenge
        assert 'resource_metadata="' in challenge


def test_an_expired_token_is_refused(client, idp, private_catalog):
    now = int(time.time())
    stale = token(idp, iat=now - 3600, nbf=now - 3600, exp=now - 600)
    denied = client.get("/c/corp/v0.1/servers", headers=bearer(stale))
    assert denied.status_code == 401 and "expired" in denied.json()["detail"]


def test_a_token_signed_by_an_unpublished_key_is_refused(client, idp, private_catalog):
    rogue = ec.generate_private_key(ec.SECP256R1())
    denied = client.get("/c/corp/v0.1/servers",
                        headers=bearer(token(idp, key=rogue, kid="rogue")))
    assert denied.status_code == 401 and "key the issuer does not publish" in denied.json()["detail"]


def test_a_missing_scope_is_insufficient_scope(client, idp, private_catalog):
    denied = client.get("/c/corp/v0.1/servers", headers=bearer(token(idp, scope="openid")))
    assert denied.status_code == 403
    assert denied["WWW-Authenticate"].startswith('Bearer error="insufficient_scope"')
    assert 'scope="mcp-registry:read"' in denied["WWW-Authenticate"]
    # `scp` as a list (Entra ID, Okta) counts as well as the space-separated `scope`
    listed = idp.mint(aud=CORP, scp=["mcp-registry:read"], groups=["engineering"], sub="bob")
    assert client.get("/c/corp/v0.1/servers", headers=bearer(listed)).status_code == 200


def test_groups_map_to_catalog_roles(client, idp, private_catalog):
    outsider = token(idp, groups=("sales",))
    denied = client.get("/c/corp/v0.1/servers", headers=bearer(outsider))
    assert denied.status_code == 403 and "no role in catalog corp" in denied.json()["detail"]
    # a reviewer reads the review queue (a root URL: the token's audience is the registry)
    queue = client.get(f"{EXT}/catalogs/corp/reviews",
                       headers=bearer(token(idp, aud=BASE, groups=("curators",))))
    assert queue.status_code == 200, queue.content
    viewer_only = client.get(f"{EXT}/catalogs/corp/reviews",
                             headers=bearer(token(idp, aud=BASE)))
    assert viewer_only.status_code == 403


def test_writes_need_the_write_scope(client, idp, private_catalog):
    body = {"name": "io.github.acme/nope", "decision": "approve"}
    read_only = token(idp, aud=BASE, groups=("curators",))
    denied = client.post(f"{EXT}/catalogs/corp/reviews", body, content_type="application/json",
                         headers=bearer(read_only))
    assert denied.status_code == 403
    assert 'scope="mcp-registry:write"' in denied["WWW-Authenticate"]
    writer = token(idp, aud=BASE, groups=("curators",), scope="mcp-registry:read mcp-registry:write")
    allowed = client.post(f"{EXT}/catalogs/corp/reviews", body, content_type="application/json",
                          headers=bearer(writer))
    assert allowed.status_code == 404, allowed.content  # past both gates: no such server


def test_the_jwks_is_cached(client, idp, private_catalog):
    assert client.get("/c/corp/v0.1/servers", headers=bearer(token(idp))).status_code == 200
    idp.server.route("/jwks", Reply(status=500))
    idp.server.route("/.well-known/openid-configuration", Reply(status=500))
    assert client.get("/c/corp/v0.1/servers", headers=bearer(token(idp))).status_code == 200


def test_challenge_quotes_its_values(rf, settings):
    settings.MCP_INDEX_OAUTH_ISSUER = "https://idp.example"
    request = rf.get("/c/corp/v0.1/servers")
    value = resource.challenge(request, error="invalid_token", description='bad "aud"')
    assert 'error_description="bad \\"aud\\""' in value
