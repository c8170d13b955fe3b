"""Replays the requests the official `mcp-publisher` sends, over real HTTP (live server).

Shapes from the official CLI (reference §4): it calls `/v0/...` paths, escapes names with
Go's url.PathEscape (`/` -> `%2F`), reads `{registry_token, expires_at}`, accepts 200/201
with a ServerResponse from publish, and calls /v0/validate after a 422.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest

from tests.support.data import EXAMPLES, load_json

pytestmark = pytest.mark.django_db(transaction=True)


def path_escape(text: str) -> str:
    """Go's url.PathEscape: everything but unreserved characters and a few sub-delims."""
    return quote(text, safe="-_.~!$&'()*+,;=:@")


@pytest.fixture
def registry(live_server, settings):
    settings.MCP_INDEX_ANONYMOUS_AUTH = True
    settings.MCP_INDEX_GITHUB_CLIENT_ID = "Iv1.contract"
    with httpx.Client(base_url=live_server.url + "/", timeout=10) as client:
        yield client


def login_none(registry: httpx.Client) -> str:
    response = registry.post("v0/auth/none")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body["registry_token"], str) and isinstance(body["expires_at"], int)
    return body["registry_token"]


def test_health_carries_github_client_id(registry):
    assert registry.get("v0/health").json() == {"status": "ok", "github_client_id": "Iv1.contract"}


def test_publish_then_status_flows_as_the_official_cli_does(registry):
    token = login_none(registry)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    data = (EXAMPLES[0]).read_bytes()
    doc = json.loads(data)
    response = registry.post("v0/publish", content=data, headers=headers)
    assert response.status_code in (200, 201)
    assert response.json()["server"]["name"] == doc["name"]
    assert response.json()["_meta"]["io.modelcontextprotocol.registry/official"]["isLatest"]

    name, version = path_escape(doc["name"]), path_escape(doc["version"])
    current = registry.get(f"v0/servers/{name}/versions/{version}?include_deleted=true",
                           headers=headers)
    assert current.json()["_meta"]["io.modelcontextprotocol.registry/official"]["status"] == "active"
    patched = registry.patch(f"v0/servers/{name}/versions/{version}/status", headers=headers,
                             content=json.dumps({"status": "deprecated",
                                                 "statusMessage": "use 2.x"}))
    assert patched.status_code == 200
    assert patched.json()["_meta"]["io.modelcontextprotocol.registry/official"]["status"] == (
        "deprecated")

    versions = registry.get(f"v0/servers/{name}/versions?include_deleted=true", headers=headers)
    assert [s["server"]["version"] for s in versions.json()["servers"]] == [doc["version"]]
    everything = registry.patch(f"v0/servers/{name}/status", headers=headers,
                                content=json.dumps({"status": "deleted"}))
    assert everything.status_code == 200
    assert everything.json()["updatedCount"] == 1


def test_invalid_publish_is_422_then_validate_explains(registry):
    token = login_none(registry)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    doc = load_json(EXAMPLES[0]) | {"version": "^1.0.0"}
    data = json.dumps(doc).encode()
    assert registry.post("v0/publish", content=data, headers=headers).status_code == 422
    result = registry.post("v0/validate", content=data,
                           headers={"Content-Type": "application/json"}).json()
    assert result["valid"] is False
    assert any(i["path"] == "version" for i in result["issues"])


def test_anonymous_token_cannot_publish_elsewhere(registry):
    token = login_none(registry)
    doc = load_json(EXAMPLES[2])  # io.github.joelverhagen/...
    response = registry.post("v0/publish", content=json.dumps(doc),
                             headers={"Content-Type": "application/json",
                                      "Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
