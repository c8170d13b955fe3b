"""POST /v0/auth/github-oidc and /v0/auth/oidc against a loopback JWKS issuer."""

from __future__ import annotations

import json

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from registry.auth.jwt import verify_token
from registry.models import AuditEvent

pytestmark = pytest.mark.django_db
AUDIENCE = "https://index.example.test"


@pytest.fixture
def github(issuer, settings):
    settings.MCP_INDEX_GITHUB_OIDC_ISSUER = issuer.issuer
    settings.MCP_INDEX_GITHUB_OIDC_AUDIENCE = [AUDIENCE]
    return issuer


def gh_token(issuer, **claims):
    base = {
        "aud": AUDIENCE,
        "repository_owner": "Acme",
        "repository": "Acme/db",
        "sub": "repo:Acme/db:ref:refs/tags/v1",
    }
    return issuer.mint(**{**base, **claims})


def login(api, path, token):
    return api.send("POST", path, {"oidc_token": token})


def test_github_oidc_grants_repository_owner(api, github):
    response = login(api, "/auth/github-oidc", gh_token(github))
    assert response.status_code == 200, response.content
    claims = verify_token(response.json()["registry_token"])
    assert claims.auth_method == "github-oidc"
    assert [p.resource for p in claims.permissions] == ["io.github.Acme/*"]
    event = AuditEvent.objects.get(action="registry.auth.login")
    assert event.data["repository"] == "Acme/db"


def test_github_oidc_default_audience_is_our_origin(api, github, settings):
    settings.MCP_INDEX_GITHUB_OIDC_AUDIENCE = []
    assert login(api, "/auth/github-oidc", gh_token(github, aud="http://testserver")).status_code == 200
    refused = login(api, "/auth/github-oidc", gh_token(github))
    assert refused.status_code == 401
    assert "audience must be one of: http://testserver" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "https://elsewhere.example"}, "audience must be one of"),
        ({"iss": "https://evil.example"}, "issuer must be"),
        ({"exp": 1_000_000_000, "iat": 999_999_000, "nbf": 999_999_000}, "has expired"),
        ({"repository_owner": None}, "no usable repository_owner"),
        ({"repository_owner": "acme/../x"}, "no usable repository_owner"),
    ],
)
def test_github_oidc_refusals(api, github, claims, reason):
    response = login(api, "/auth/github-oidc", gh_token(github, **claims))
    assert response.status_code == 401
    assert reason in response.json()["detail"]


def test_github_oidc_bad_signature(api, github):
    forged = gh_token(github, key=ec.generate_private_key(ec.SECP256R1()))
    response = login(api, "/auth/github-oidc", forged)
    assert response.status_code == 401
    assert "signature does not verify" in response.json()["detail"]


def test_github_oidc_unknown_kid_and_rotation(api, github):
    new_key = ec.generate_private_key(ec.SECP256R1())
    unknown = login(api, "/auth/github-oidc", gh_token(github, key=new_key, kid="next"))
    assert unknown.status_code == 401
    assert "key the issuer does not publish" in unknown.json()["detail"]
    assert login(api, "/auth/github-oidc", gh_token(github)).status_code == 200  # JWKS now cached
    github.publish_keys([github.key, new_key], kids=[github.kid, "next"])
    rotated = login(api, "/auth/github-oidc", gh_token(github, key=new_key, kid="next"))
    assert rotated.status_code == 200, rotated.content


def test_github_oidc_replay_and_garbage(api, github):
    token = gh_token(github)
    assert login(api, "/auth/github-oidc", token).status_code == 200
    replay = login(api, "/auth/github-oidc", token)
    assert replay.status_code == 401
    assert "already used" in replay.json()["detail"]
    garbage = login(api, "/auth/github-oidc", "not-a-jwt")
    assert garbage.status_code == 401
    assert "not a well-formed JWT" in garbage.json()["detail"]


def test_github_oidc_refuses_unsigned_tokens(api, github):
    unsigned = pyjwt.encode(
        {"iss": github.issuer, "aud": AUDIENCE, "repository_owner": "acme", "exp": 4_000_000_000, "iat": 1},
        None,
        algorithm="none",
    )
    response = login(api, "/auth/github-oidc", unsigned)
    assert response.status_code == 401
    assert "algorithm 'none' is not accepted" in response.json()["detail"]


# --- generic OIDC -----------------------------------------------------------------------


@pytest.fixture
def gitlab(issuer, settings):
    settings.MCP_INDEX_OIDC_PROVIDERS = [
        {
            "issuer": issuer.issuer,
            "audience": [AUDIENCE],
            "required_claims": {"namespace_path": ["acme", "acme-labs"], "ref_protected": "true"},
            "grants": [
                {"action": "publish", "pattern": "com.gitlab.{namespace_path}/*"},
                {"action": "publish", "pattern": "com.acme.internal/*"},
            ],
            "subject_claim": "project_path",
        }
    ]
    return issuer


def gl_token(issuer, **claims):
    base = {"aud": AUDIENCE, "namespace_path": "acme", "project_path": "acme/db", "ref_protected": "true"}
    return issuer.mint(**{**base, **claims})


def test_oidc_maps_claims_to_patterns(api, gitlab):
    response = login(api, "/auth/oidc", gl_token(gitlab))
    assert response.status_code == 200, response.content
    claims = verify_token(response.json()["registry_token"])
    assert claims.auth_method == "oidc"
    assert claims.subject == "acme/db"
    assert [p.resource for p in claims.permissions] == ["com.gitlab.acme/*", "com.acme.internal/*"]


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"namespace_path": "mallory"}, "claim 'namespace_path' does not have a required value"),
        ({"ref_protected": "false"}, "claim 'ref_protected' does not have a required value"),
        ({"aud": "https://other.example"}, "audience must be one of"),
        ({"exp": 1_000_000_000, "iat": 999_999_000, "nbf": 999_999_000}, "has expired"),
    ],
)
def test_oidc_refusals(api, gitlab, claims, reason):
    response = login(api, "/auth/oidc", gl_token(gitlab, **claims))
    assert response.status_code == 401
    assert reason in response.json()["detail"]


def test_oidc_unsafe_claim_value_cannot_widen_a_pattern(api, gitlab, settings):
    providers = json.loads(json.dumps(settings.MCP_INDEX_OIDC_PROVIDERS))
    providers[0]["required_claims"] = {}
    settings.MCP_INDEX_OIDC_PROVIDERS = providers
    response = login(api, "/auth/oidc", gl_token(gitlab, namespace_path="*"))
    assert response.status_code == 401
    assert "cannot be used in a name pattern" in response.json()["detail"]


def test_oidc_untrusted_issuer_and_disabled(api, gitlab, settings):
    foreign = gl_token(gitlab, iss="https://accounts.example.org")
    response = login(api, "/auth/oidc", foreign)
    assert response.status_code == 401
    assert "issuer https://accounts.example.org is not trusted" in response.json()["detail"]
    settings.MCP_INDEX_OIDC_PROVIDERS = []
    disabled = login(api, "/auth/oidc", gl_token(gitlab))
    assert disabled.status_code == 401
    assert "not enabled" in disabled.json()["detail"]


def test_oidc_replay(api, gitlab):
    token = gl_token(gitlab)
    assert login(api, "/auth/oidc", token).status_code == 200
    assert "already used" in login(api, "/auth/oidc", token).json()["detail"]
