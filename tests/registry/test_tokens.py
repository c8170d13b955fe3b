"""API tokens: scoped to name patterns, hashed at rest, revocable, with last-used time."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from registry.models import ApiToken, AuditEvent, ServerVersion
from registry.services import token_create
from tests.conftest import Api, bearer, manifest

pytestmark = pytest.mark.django_db

EXT = "/v0.1/x/io.mcpindex"


@pytest.fixture
def ext(client):
    api = Api(client, EXT)
    api.token = bearer(["io.github.acme/*"], edit=False)
    return api


def test_admin_created_token_publishes_only_its_patterns(api):
    created = token_create(name="ci", patterns=["io.github.acme/*"], actor="admin:root")
    stored = ApiToken.objects.get()
    assert created.secret.startswith("mcpi_")
    assert created.secret not in (stored.token_hash, stored.prefix)
    api.token = created.secret
    assert api.publish(manifest("io.github.acme/db")).status_code == 200
    refused = api.publish(manifest("io.github.other/db"))
    assert refused.status_code == 403
    assert "io.github.acme/*" in refused.json()["detail"]
    stored.refresh_from_db()
    assert stored.last_used_at is not None


def test_self_service_tokens_within_own_grants(ext, client):
    created = ext.send("POST", "/tokens", {"name": "ci", "patterns": ["io.github.acme/db"],
                                           "expires_in_days": 30})
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("mcpi_") and body["patterns"] == ["io.github.acme/db"]
    listed = ext.get("/tokens").json()["tokens"]
    assert [t["id"] for t in listed] == [body["id"]]
    assert "token" not in listed[0]
    wider = ext.send("POST", "/tokens", {"name": "x", "patterns": ["io.github.*"]})
    assert wider.status_code == 403
    api = Api(client)
    api.token = body["token"]
    assert api.publish(manifest("io.github.acme/db")).status_code == 200
    assert api.publish(manifest("io.github.acme/other")).status_code == 403
    assert ext.send("DELETE", f"/tokens/{body['id']}").status_code == 204
    assert api.publish(manifest("io.github.acme/db", "2.0.0")).status_code == 401
    assert AuditEvent.objects.filter(action="registry.token.revoked").exists()


def test_token_request_validation(ext):
    assert ext.send("POST", "/tokens", {"patterns": ["io.github.acme/*"]}).status_code == 422
    assert ext.send("POST", "/tokens", {"name": "x", "patterns": []}).status_code == 422
    assert ext.send("POST", "/tokens", {"name": "x", "patterns": ["io.github.acme/*"],
                                        "expires_in_days": 9999}).status_code == 422
    assert ext.send("DELETE", "/tokens/999").status_code == 404
    assert not ApiToken.objects.exists()


def test_tokens_cannot_mint_tokens(client):
    created = token_create(name="ci", patterns=["io.github.acme/*"], actor="admin:root")
    api = Api(client, EXT)
    api.token = created.secret
    assert api.send("POST", "/tokens", {"name": "x", "patterns": ["io.github.acme/*"]}
                    ).status_code == 403


def test_expired_token_is_refused(api):
    from datetime import timedelta

    from django.utils import timezone
    created = token_create(name="old", patterns=["io.github.acme/*"], actor="admin:root")
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    api.token = created.secret
    assert api.publish(manifest("io.github.acme/db")).status_code == 401
    assert not ServerVersion.objects.exists()


def test_whoami(ext):
    body = ext.get("/whoami").json()
    assert body["auth_method"] == "test"
    assert body["permissions"] == [{"action": "publish", "resource": "io.github.acme/*"}]


def test_auth_none_only_when_enabled(client, settings):
    api = Api(client)
    settings.MCP_INDEX_ANONYMOUS_AUTH = False
    assert api.send("POST", "/auth/none").status_code == 404
    settings.MCP_INDEX_ANONYMOUS_AUTH = True
    issued = api.send("POST", "/auth/none").json()
    assert set(issued) == {"registry_token", "expires_at"}
    api.token = issued["registry_token"]
    assert api.publish(manifest("io.modelcontextprotocol.anonymous/xy")).status_code == 200
    assert api.publish(manifest("io.github.acme/xy")).status_code == 403


def test_anonymous_logins_are_separate_callers(client, settings):
    """Each /auth/none login is its own actor: nobody lists or revokes another's tokens."""
    settings.MCP_INDEX_ANONYMOUS_AUTH = True
    alice, bob = Api(client, EXT), Api(client, EXT)
    alice.token = Api(client).send("POST", "/auth/none").json()["registry_token"]
    bob.token = Api(client).send("POST", "/auth/none").json()["registry_token"]
    who_a, who_b = alice.get("/whoami").json(), bob.get("/whoami").json()
    assert who_a["auth_method"] == who_b["auth_method"] == "none"
    assert who_a["subject"] != who_b["subject"]
    created = alice.send("POST", "/tokens", {"name": "ci",
                                             "patterns": ["io.modelcontextprotocol.anonymous/*"]})
    assert created.status_code == 201
    token_id = created.json()["id"]
    assert bob.get("/tokens").json()["tokens"] == []
    assert bob.send("DELETE", f"/tokens/{token_id}").status_code == 404
    assert ApiToken.objects.get().revoked_at is None
    assert [t["id"] for t in alice.get("/tokens").json()["tokens"]] == [token_id]
    api = Api(client)
    api.token = created.json()["token"]  # the API token keeps the anonymous grant
    assert api.publish(manifest("io.modelcontextprotocol.anonymous/xy")).status_code == 200
    assert alice.send("DELETE", f"/tokens/{token_id}").status_code == 204
    logins = AuditEvent.objects.filter(action="registry.auth.login").values_list("actor", flat=True)
    assert sorted(logins) == sorted([f"none:{who_a['subject']}", f"none:{who_b['subject']}"])


def test_create_token_command(capsys):
    call_command("create_token", "deploy-bot", "--pattern", "com.acme/*")
    out = capsys.readouterr().out
    assert "mcpi_" in out
    assert ApiToken.objects.get().patterns == ["com.acme/*"]
