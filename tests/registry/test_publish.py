"""Publishing through POST /v0/publish: auth, validation, immutability, idempotency."""

from __future__ import annotations

import json

import pytest
from django.db.models.signals import post_save

from mcp_index_common.validation import SUPPORTED_SCHEMAS
from registry.errors import IdempotencyKeyReused
from registry.models import AuditEvent, IdempotencyRecord, ServerVersion
from registry.services import Idempotency, PublishResult, version_publish
from tests.support.api import Api
from tests.support.data import EXAMPLES, load_json
from tests.support.manifests import manifest
from tests.support.tokens import bearer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name.split(".")[1])
def test_every_official_example_publishes_and_reads_back_unchanged(client, path):
    doc = load_json(path)
    api = Api(client)
    api.token = bearer(["*"])
    response = api.publish(doc)
    assert response.status_code == 200, response.content
    assert response.json()["server"] == doc
    encoded = doc["name"].replace("/", "%2F")
    read = api.get(f"/servers/{encoded}/versions/{doc['version']}")
    assert read.status_code == 200
    assert read.json()["server"] == doc
    # key order is preserved too: the stored text is what we serve
    assert json.dumps(read.json()["server"]) == json.dumps(doc)


def test_publish_response_carries_official_meta(publish):
    body = publish("io.github.acme/db", "1.2.0")
    official = body["_meta"]["io.modelcontextprotocol.registry/official"]
    assert official["status"] == "active"
    assert official["isLatest"] is True
    assert official["publishedAt"].endswith("Z")
    assert set(official) == {"status", "statusChangedAt", "publishedAt", "updatedAt", "isLatest"}


def test_duplicate_version_is_refused_and_changes_nothing(publisher, publish):
    publish("io.github.acme/db", "1.0.0", description="first")
    before = ServerVersion.objects.get(name="io.github.acme/db")
    response = publisher.publish(manifest("io.github.acme/db", "1.0.0", description="second"))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Bad Request" and body["status"] == 400
    assert "duplicate version" in body["errors"][0]["message"]
    after = ServerVersion.objects.get(name="io.github.acme/db")
    assert after.manifest["description"] == "first"
    assert after.updated_at == before.updated_at


def test_publish_without_token_is_401(api):
    response = api.publish(manifest())
    assert response.status_code == 401
    assert response.json()["status"] == 401
    assert not ServerVersion.objects.exists()


def test_expired_or_garbage_token_is_401(api):
    api.token = bearer(["*"], ttl=-10)
    response = api.publish(manifest())
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    api.token = "not-a-jwt"
    assert api.publish(manifest()).status_code == 401
    response = api.publish(manifest(), headers={"Authorization": "Basic abc"})
    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]


def test_foreign_namespace_is_403_listing_granted_patterns(publisher):
    response = publisher.publish(manifest("com.other/thing"))
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert "io.github.acme/*" in detail and "io.modelcontextprotocol.anonymous/*" in detail
    assert not ServerVersion.objects.exists()


def test_missing_schema_is_422_listing_supported_schemas(publisher):
    doc = manifest("io.github.acme/db")
    del doc["$schema"]
    response = publisher.publish(doc)
    assert response.status_code == 422
    messages = " ".join(e["message"] for e in response.json()["errors"])
    for url in SUPPORTED_SCHEMAS:
        assert url in messages


def test_unknown_schema_is_422(publisher):
    doc = manifest("io.github.acme/db", **{"$schema": "https://example.com/schemas/x.json"})
    response = publisher.publish(doc)
    assert response.status_code == 422
    assert "unknown schema" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(("change", "fragment"), [
    ({"version": "latest"}, "reserved"),
    ({"version": "^1.2.3"}, "range"),
    ({"version": "1.x"}, "range"),
    ({"remotes": [{"type": "sse", "url": "http://example.com/sse"}]}, "https"),
    ({"remotes": [{"type": "sse", "url": "https://localhost/sse"}]}, "localhost"),
    ({"remotes": [{"type": "sse", "url": "https://10.1.2.3/sse"}]}, "IP address"),
    ({"remotes": [{"type": "streamable-http", "url": "https://{tenant}.example.com/mcp"}]},
     "not declared"),
    ({"packages": [{"registryType": "npm", "identifier": "x", "transport": {"type": "stdio"}}]},
     "version is required"),
    ({"packages": [{"registryType": "oci", "identifier": "docker.io/x/y:1", "version": "1",
                    "transport": {"type": "stdio"}}]}, "must not set version"),
    ({"packages": [{"registryType": "mcpb", "identifier": "https://github.com/a/b/releases/"
                    "download/v1/x.mcpb", "transport": {"type": "stdio"}}]}, "fileSha256"),
    ({"_meta": {"io.modelcontextprotocol.registry/publisher-provided": {"x": "y" * 5000}}},
     "4KB"),
])
def test_semantic_rules_refuse_with_422(publisher, change, fragment):
    response = publisher.publish(manifest("io.github.acme/db", **change))
    assert response.status_code == 422, response.content
    messages = " ".join(e["message"] for e in response.json()["errors"])
    assert fragment in messages
    assert not ServerVersion.objects.exists()


def test_declared_url_variables_are_accepted(publish):
    remote = {"type": "streamable-http", "url": "https://{tenant}.example.com/mcp",
              "variables": {"tenant": {"description": "tenant id", "isRequired": True}}}
    publish("io.github.acme/db", "1.0.0", remotes=[remote])


def test_remote_url_belongs_to_one_server_name(publisher, publish):
    remote = [{"type": "sse", "url": "https://mcp.acme.example/sse"}]
    publish("io.github.acme/one", "1.0.0", remotes=remote)
    publish("io.github.acme/one", "1.0.1", remotes=remote)  # same server may reuse it
    response = publisher.publish(manifest("io.github.acme/two", remotes=remote))
    assert response.status_code == 400
    assert "already used by server io.github.acme/one" in response.json()["errors"][0]["message"]


def test_reserved_meta_keys_are_refused(publisher):
    doc = manifest("io.github.acme/db",
                   _meta={"io.modelcontextprotocol.registry/official": {"isLatest": True}})
    response = publisher.publish(doc)
    assert response.status_code == 400
    assert "reserved" in response.json()["errors"][0]["message"]


def test_malformed_json_and_wrong_types_are_4xx_and_write_nothing(publisher):
    assert publisher.publish({}, raw="{not json").status_code == 400
    assert publisher.publish({}, raw="[1, 2]").status_code == 400
    response = publisher.publish({}, raw=json.dumps(manifest("io.github.acme/db", version=7)))
    assert response.status_code == 422
    response = publisher.publish({}, raw=json.dumps({"name": ["x"]}))
    assert response.status_code == 422
    assert not ServerVersion.objects.exists()
    assert not AuditEvent.objects.exists()


def test_oversize_body_is_413(publisher):
    doc = manifest("io.github.acme/db", description="x" * (1024 * 1024 + 10))
    response = publisher.publish(doc)
    assert response.status_code == 413
    assert response.json()["status"] == 413
    assert not ServerVersion.objects.exists()


def test_idempotency_key_replays_the_first_answer(publisher):
    doc = manifest("io.github.acme/db")
    first = publisher.publish(doc, headers={"Idempotency-Key": "k-1"})
    again = publisher.publish(doc, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert ServerVersion.objects.count() == 1
    other = publisher.publish(manifest("io.github.acme/db", "2.0.0"),
                              headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422
    assert ServerVersion.objects.count() == 1


def test_failed_publish_with_idempotency_key_can_be_retried(publisher, publish):
    publish("io.github.acme/one", "1.0.0", remotes=[{"type": "sse", "url": "https://x.example/s"}])
    doc = manifest("io.github.acme/two", remotes=[{"type": "sse", "url": "https://x.example/s"}])
    assert publisher.publish(doc, headers={"Idempotency-Key": "r"}).status_code == 400
    publisher.send("PATCH", "/servers/io.github.acme%2Fone/status", {"status": "deleted"})
    assert publisher.publish(doc, headers={"Idempotency-Key": "r"}).status_code == 200


def test_idempotent_replay_is_the_stored_answer_byte_for_byte(publisher):
    doc = manifest("io.github.acme/db")
    first = publisher.publish(doc, headers={"Idempotency-Key": "k-2"})
    publisher.publish(manifest("io.github.acme/db", "1.1.0"))  # 1.0.0 is no longer latest
    again = publisher.publish(doc, headers={"Idempotency-Key": "k-2"})
    assert again.status_code == 200 and again["Content-Type"] == "application/json"
    assert again.content == first.content  # the first answer, not a fresh rendering
    assert first.json()["_meta"]["io.modelcontextprotocol.registry/official"]["isLatest"] is True
    assert "Idempotent-Replayed" not in first
    assert IdempotencyRecord.objects.get(key="k-2").response_body == first.content.decode()
    assert AuditEvent.objects.filter(action="registry.version.published").count() == 2


def test_idempotency_key_errors_are_problems(publisher):
    doc = manifest("io.github.acme/db")
    too_long = publisher.publish(doc, headers={"Idempotency-Key": "k" * 201})
    assert too_long.status_code == 400
    assert too_long.json()["detail"] == "Idempotency-Key must be at most 200 characters"
    assert publisher.publish(doc, headers={"Idempotency-Key": "k" * 200}).status_code == 200
    reused = publisher.publish(manifest("io.github.acme/db", "2.0.0"),
                               headers={"Idempotency-Key": "k" * 200})
    assert reused.status_code == 422
    assert reused["Content-Type"] == "application/problem+json"
    assert reused.json() == {"title": "Unprocessable Entity", "status": 422,
                             "detail": "Idempotency-Key was already used with a different "
                                       "request body"}


def test_a_concurrent_request_holding_the_key_gets_409_and_nothing_is_stored(publisher):
    def competitor_commits_first(sender, instance, created, **kwargs):
        # Runs between the replay lookup and the record insert, as a racing request would.
        if created and instance.action == "registry.version.published":
            IdempotencyRecord.objects.create(key="race", actor=instance.actor, request_hash="x",
                                             status_code=200, response_body="{}")

    post_save.connect(competitor_commits_first, sender=AuditEvent)
    try:
        response = publisher.publish(manifest("io.github.acme/db"),
                                     headers={"Idempotency-Key": "race"})
    finally:
        post_save.disconnect(competitor_commits_first, sender=AuditEvent)
    assert response.status_code == 409
    assert response.json()["detail"] == ("A request with this Idempotency-Key is already being "
                                         "processed")
    assert not ServerVersion.objects.exists() and not IdempotencyRecord.objects.exists()


def test_the_publish_service_owns_idempotency():
    doc = manifest("io.github.acme/db")
    key = Idempotency(key="svc", request_hash="h1")
    first = version_publish(document=doc, actor="test:svc", idempotency=key,
                            render=lambda sv: f'{{"id":{sv.pk}}}')
    assert first.version is not None and not first.replayed
    assert first.body == f'{{"id":{first.version.pk}}}'
    again = version_publish(document=doc, actor="test:svc", idempotency=key, render=str)
    assert again == PublishResult(body=first.body, status_code=200, version=None, replayed=True)
    # keys belong to one actor: another may use the same key for its own request
    other = version_publish(document=manifest("io.github.acme/other"), actor="test:other",
                            idempotency=key, render=str)
    assert not other.replayed and other.body == "io.github.acme/other@1.0.0"
    with pytest.raises(IdempotencyKeyReused):
        version_publish(document=doc, actor="test:svc",
                        idempotency=Idempotency(key="svc", request_hash="h2"), render=str)
    with pytest.raises(ValueError, match="renderer"):
        version_publish(document=doc, actor="test:svc", idempotency=key)
    plain = version_publish(document=manifest("io.github.acme/db", "2.0.0"), actor="test:svc")
    assert plain.body == "" and plain.version is not None and plain.version.version == "2.0.0"


def test_publish_writes_an_audit_event(publish):
    publish("io.github.acme/db", "1.0.0")
    event = AuditEvent.objects.get(action="registry.version.published")
    assert event.target == "io.github.acme/db@1.0.0"
    assert event.actor == "test:tester"
    assert len(event.data["digest"]) == 64


def test_digest_is_sha256_of_rfc8785_canonical_json(publish):
    import hashlib

    import rfc8785
    body = publish("io.github.acme/db", "1.0.0", title="Zeta", websiteUrl="https://a.example")
    sv = ServerVersion.objects.get()
    assert sv.digest == hashlib.sha256(rfc8785.dumps(body["server"])).hexdigest()
    assert body["_meta"]["io.mcpindex/registry"]["digest"] == "sha256:" + sv.digest
