"""POST /v0/auth/github-at against a loopback fake of the GitHub API."""

from __future__ import annotations

import pytest

from registry.auth.jwt import verify_token
from tests.support.loopback import Reply

pytestmark = pytest.mark.django_db
GOOD = "gho_good_token"


@pytest.fixture
def github_api(http_server, settings):
    server = http_server()
    settings.MCP_INDEX_GITHUB_API_URL = server.url

    def authed(reply):
        def answer(seen):
            if seen.headers.get("authorization") != f"Bearer {GOOD}":
                return Reply.json({"message": "Bad credentials"}, status=401)
            return reply

        return answer

    server.route("/user", authed(Reply.json({"login": "octo", "id": 1})))
    page2 = f"{server.url}/user/memberships/orgs?state=active&per_page=100&page=2"
    server.route(
        "/user/memberships/orgs?state=active&per_page=100",
        authed(
            Reply.json(
                [
                    {"role": "admin", "state": "active", "organization": {"login": "octo-org"}},
                    {"role": "member", "state": "active", "organization": {"login": "member-org"}},
                    {"role": "admin", "state": "pending", "organization": {"login": "pending-org"}},
                ],
                headers={"Link": f'<{page2}>; rel="next"'},
            )
        ),
    )
    server.route(
        "/user/memberships/orgs?state=active&per_page=100&page=2",
        authed(Reply.json([{"role": "admin", "state": "active", "organization": {"login": "second-org"}}])),
    )
    return server


def test_user_and_owned_orgs_are_granted(api, github_api):
    response = api.send("POST", "/auth/github-at", {"github_token": GOOD})
    assert response.status_code == 200, response.content
    claims = verify_token(response.json()["registry_token"])
    assert claims.auth_method == "github-at"
    assert claims.subject == "octo"
    assert [p.resource for p in claims.permissions] == [
        "io.github.octo/*",
        "io.github.octo-org/*",
        "io.github.second-org/*",
    ]


def test_bad_token_is_refused(api, github_api):
    response = api.send("POST", "/auth/github-at", {"github_token": "gho_wrong"})
    assert response.status_code == 401
    assert "GitHub rejected the token" in response.json()["detail"]


def test_token_without_read_org_still_gets_the_user(api, github_api):
    github_api.route(
        "/user/memberships/orgs?state=active&per_page=100",
        Reply.json({"message": "Resource not accessible"}, status=403),
    )
    response = api.send("POST", "/auth/github-at", {"github_token": GOOD})
    assert response.status_code == 200
    claims = verify_token(response.json()["registry_token"])
    assert [p.resource for p in claims.permissions] == ["io.github.octo/*"]


def test_token_is_never_sent_off_the_configured_api(api, github_api, http_server):
    elsewhere = http_server()
    github_api.route(
        "/user/memberships/orgs?state=active&per_page=100",
        Reply.json([], headers={"Link": f'<{elsewhere.url}/steal>; rel="next"'}),
    )
    assert api.send("POST", "/auth/github-at", {"github_token": GOOD}).status_code == 200
    assert elsewhere.requests == []


def test_github_down_is_a_401_with_reason(api, settings):
    settings.MCP_INDEX_GITHUB_API_URL = "http://127.0.0.1:9"
    response = api.send("POST", "/auth/github-at", {"github_token": GOOD})
    assert response.status_code == 401
    assert "could not reach the GitHub API" in response.json()["detail"]
