"""Managing principals, trust roots and trust policies over the API (global admins only).

Every write goes through a signing service (audited as the caller); bad bodies are refused
with a 4xx problem+json and nothing is written; reads stay public, as the policy reads
that `mcp-index verify` relies on always were.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from mcp_index_common import dsse
from mcp_index_common.statements import statement_bytes_for
from registry.models import AuditEvent, ServerVersion
from registry.services import token_create
from signing.models import Attestation, Principal, TrustPolicy, TrustRoot
from tests.support.fake_sigstore import FakeSigstore
from tests.support.signing import ISSUER
from tests.support.tokens import bearer

pytestmark = pytest.mark.django_db

EXT = "/v0.1/x/io.mcpindex"
ADMIN_ACTOR = "test:tester"


@pytest.fixture
def admin_token() -> str:
    return bearer(["*"])


def _send(client, method: str, path: str, body: Any = None, *, token: str | None = None,
          raw: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = raw if raw is not None else (None if body is None else json.dumps(body))
    fn = getattr(client, method.lower())
    if data is None:
        return fn(EXT + path, headers=headers)
    return fn(EXT + path, data=data, content_type="application/json", headers=headers)


def _problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def _pem(key: Any = None) -> str:
    return dsse.public_key_pem(key or ed25519.Ed25519PrivateKey.generate())


def _key_body(slug: str = "alice", key: Any = None, **extra: Any) -> dict[str, Any]:
    return {"id": slug, "displayName": slug.title(), "kind": "key", "publicKey": _pem(key), **extra}


@pytest.fixture
def acme_root(client, admin_token, fake_sigstore: FakeSigstore) -> dict[str, Any]:
    body = {"id": "acme", "name": "ACME sigstore", "kind": "custom",
            "trustedRoot": json.loads(fake_sigstore.trusted_root_json())}
    response = _send(client, "POST", "/trust-roots", body, token=admin_token)
    assert response.status_code == 201, response.content
    return response.json()


# --- who may write -------------------------------------------------------------------------

WRITES = [
    ("POST", "/principals"), ("PATCH", "/principals/alice"), ("DELETE", "/principals/alice"),
    ("POST", "/trust-roots"), ("PATCH", "/trust-roots/acme"), ("DELETE", "/trust-roots/acme"),
    ("POST", "/policies"), ("PATCH", "/policies/two"), ("DELETE", "/policies/two"),
]


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_writes_without_a_token_are_401(client, method, path):
    problem = _problem(_send(client, method, path, {"id": "alice"}), 401)
    assert "Authentication required" in problem["detail"]


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_writes_need_global_edit_not_a_namespace_grant(client, method, path):
    publisher = bearer(["io.github.acme/*"])  # publish + edit, but only on its namespace
    problem = _problem(_send(client, method, path, {"id": "alice"}, token=publisher), 403)
    assert "administrators" in problem["detail"]
    assert not AuditEvent.objects.filter(action__startswith="signing.").exists()


def test_an_admin_api_token_may_write(client):
    secret = token_create(name="ops", patterns=["*"], scopes=[], can_edit=True,
                          expires_in_days=None, actor="test").secret
    response = _send(client, "POST", "/principals", _key_body(), token=secret)
    assert response.status_code == 201, response.content
    assert AuditEvent.objects.get(action="signing.principal.created").actor.startswith("token:ops#")


# --- principals ----------------------------------------------------------------------------


def test_key_principal_create_get_update_delete_audited(client, admin_token):
    key = ec.generate_private_key(ec.SECP256R1())
    response = _send(client, "POST", "/principals", _key_body("alice", key), token=admin_token)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["id"] == "alice"
    assert created["kind"] == "key"
    assert created["keyid"] == dsse.key_id(key.public_key())
    assert created["expiresAt"] is None

    assert client.get(f"{EXT}/principals/alice").json() == created  # reads are public
    assert [p["id"] for p in client.get(f"{EXT}/principals").json()["principals"]] == ["alice"]

    response = _send(client, "PATCH", "/principals/alice",
                     {"displayName": "Alice A.", "expiresAt": "2030-01-02T03:04:05Z"},
                     token=admin_token)
    assert response.status_code == 200, response.content
    assert response.json()["displayName"] == "Alice A."
    assert response.json()["expiresAt"] == "2030-01-02T03:04:05Z"
    assert response.json()["keyid"] == created["keyid"]

    response = _send(client, "DELETE", "/principals/alice", token=admin_token)
    assert response.status_code == 204
    assert not Principal.objects.exists()
    _problem(client.get(f"{EXT}/principals/alice"), 404)
    events = AuditEvent.objects.filter(target="alice").order_by("id")
    assert [(e.action, e.actor) for e in events] == [
        ("signing.principal.created", ADMIN_ACTOR),
        ("signing.principal.changed", ADMIN_ACTOR),
        ("signing.principal.deleted", ADMIN_ACTOR),
    ]


def test_expiry_can_be_cleared_and_a_key_rotated(client, admin_token):
    _send(client, "POST", "/principals", _key_body(expiresAt="2030-01-01T00:00:00+00:00"),
          token=admin_token)
    new_key = ed25519.Ed25519PrivateKey.generate()
    response = _send(client, "PATCH", "/principals/alice",
                     {"expiresAt": None, "publicKey": _pem(new_key)}, token=admin_token)
    assert response.status_code == 200, response.content
    assert response.json()["expiresAt"] is None
    assert Principal.objects.get().keyid == dsse.key_id(new_key.public_key())


def test_sigstore_principal_under_a_custom_root(client, admin_token, acme_root):
    body = {"id": "carol", "kind": "sigstore",
            "sigstore": {"issuer": ISSUER, "subject": r".+@acme\.example", "pattern": True,
                         "trustRoot": "acme"}}
    response = _send(client, "POST", "/principals", body, token=admin_token)
    assert response.status_code == 201, response.content
    assert response.json()["sigstore"] == {"issuer": ISSUER, "subject": r".+@acme\.example",
                                           "pattern": True, "trustRoot": "acme"}
    assert response.json()["displayName"] == "carol"  # defaults to the id
    response = _send(client, "PATCH", "/principals/carol",
                     {"sigstore": {"subject": "carol@acme.example", "pattern": False}},
                     token=admin_token)
    assert response.status_code == 200, response.content
    assert response.json()["sigstore"]["subject"] == "carol@acme.example"
    assert response.json()["sigstore"]["issuer"] == ISSUER  # a partial change keeps the rest


def test_creating_an_existing_principal_is_409(client, admin_token):
    assert _send(client, "POST", "/principals", _key_body(), token=admin_token).status_code == 201
    problem = _problem(_send(client, "POST", "/principals", _key_body(), token=admin_token), 409)
    assert "already exists" in problem["detail"]
    assert Principal.objects.count() == 1


def test_unknown_principal_on_patch_and_delete_is_404(client, admin_token):
    _problem(_send(client, "PATCH", "/principals/nobody", {"displayName": "x"}, token=admin_token),
             404)
    _problem(_send(client, "DELETE", "/principals/nobody", token=admin_token), 404)


BAD_PRINCIPALS = [
    ({"displayName": "x" * 201}, "at most 200"),
    ({"id": "not a slug"}, "id"),
    ({"id": "a" * 101}, "id"),
    ({"id": 7}, "id"),
    ({"kind": "gpg"}, "kind"),
    ({"publicKey": "not a key"}, "not a PEM public key"),
    ({"publicKey": "x" * 20000}, "publicKey"),
    ({"expiresAt": "tomorrow"}, "expiresAt"),
    ({"expiresAt": "2030-01-01T00:00:00"}, "time zone"),
    ({"expiresAt": 1893456000}, "expiresAt"),
    ({"expiresAt": "0001-01-01T00:00:00+01:00"}, "out of range"),
    ({"expiresAt": "9999-12-31T23:59:59-01:00"}, "out of range"),
    ({"keyid": "abc"}, "unknown field"),
    ({"sigstore": {"issuer": ISSUER, "subject": "a", "trustRoot": "acme"}}, "key principal"),
]


@pytest.mark.parametrize(("change", "message"), BAD_PRINCIPALS)
def test_bad_principal_bodies_are_422_and_write_nothing(client, admin_token, change, message):
    problem = _problem(_send(client, "POST", "/principals", {**_key_body(), **change},
                             token=admin_token), 422)
    assert message in problem["detail"]
    assert not Principal.objects.exists()
    assert not AuditEvent.objects.exists()


BOUNDARY = [  # refused by the input boundary (ops.parsers) before the view: 400
    ("/principals", '{"id": "alice", "kind": "key", "displayName": "a\\u0000b", "publicKey": "x"}',
     "NUL"),
    ("/principals", '{"id": "alice", "kind": "key", "displayName": "\\ud800", "publicKey": "x"}',
     "surrogate"),
    ("/principals", '{"id": "alice\\udfff", "kind": "key", "publicKey": "x"}', "surrogate"),
    ("/principals", '{"id": "alice", "kind": "key", "publicKey": "x", "\\u0000": 1}', "NUL"),
    ("/trust-roots", '{"id": "x", "kind": "production", "name": "\\ud800"}', "surrogate"),
    ("/policies", '{"id": "two", "threshold": 1180591620717411303424, "principals": []}',
     "threshold"),
    ("/policies", '{"id": "two", "title": "t\\u0000", "threshold": 1, "principals": []}', "NUL"),
]


@pytest.mark.parametrize(("path", "raw", "message"), BOUNDARY)
def test_nul_lone_surrogates_and_huge_numbers_are_refused_at_the_boundary(
    client, admin_token, path, raw, message
):
    problem = _problem(_send(client, "POST", path, raw=raw, token=admin_token), 400)
    assert message in problem["detail"]
    assert not (Principal.objects.exists() or TrustRoot.objects.exists()
                or TrustPolicy.objects.exists() or AuditEvent.objects.exists())


@pytest.mark.parametrize("raw", ["[1, 2]", '"alice"', "{not json"])
def test_a_body_that_is_not_an_object_is_400(client, admin_token, raw):
    _problem(_send(client, "POST", "/principals", raw=raw, token=admin_token), 400)


def test_sigstore_principal_needs_a_known_root_and_a_valid_pattern(client, admin_token, acme_root):
    base = {"id": "carol", "kind": "sigstore"}
    cases = [
        ({"issuer": ISSUER, "subject": "c", "trustRoot": "nope"}, "unknown trust root nope"),
        ({"issuer": ISSUER, "subject": "(", "pattern": True, "trustRoot": "acme"}, "carol"),
        ({"issuer": ISSUER, "subject": "c", "pattern": "yes", "trustRoot": "acme"}, "pattern"),
        ({"issuer": ISSUER, "trustRoot": "acme"}, "subject"),
        ({"issuer": ISSUER, "subject": "c", "trustRoot": "acme", "extra": 1}, "unknown field"),
    ]
    for sigstore, message in cases:
        problem = _problem(_send(client, "POST", "/principals", {**base, "sigstore": sigstore},
                                 token=admin_token), 422)
        assert message in problem["detail"], (sigstore, problem)
    problem = _problem(_send(client, "POST", "/principals", {**base, "publicKey": _pem()},
                             token=admin_token), 422)
    assert "publicKey" in problem["detail"]
    assert not Principal.objects.exists()


def test_a_principal_added_over_the_api_verifies_waiting_attestations(
    client, admin_token, publish, django_capture_on_commit_callbacks
):
    publish("io.github.acme/db", "1.0.0")
    sv = ServerVersion.objects.get(name="io.github.acme/db", version="1.0.0")
    key = ed25519.Ed25519PrivateKey.generate()
    payload = statement_bytes_for(server_name=sv.name, version=sv.version, sha256=sv.digest)
    envelope = dsse.envelope_sign(payload=payload, keys=[key]).as_json()
    url = f"{EXT}/servers/io.github.acme%2Fdb/versions/1.0.0/attestations"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, data=json.dumps({"kind": "dsse", "content": envelope}),
                    content_type="application/json")
    assert Attestation.objects.get().state == "unverified"
    with django_capture_on_commit_callbacks(execute=True):
        response = _send(client, "POST", "/principals", _key_body("alice", key), token=admin_token)
    assert response.status_code == 201
    assert Attestation.objects.get().state == "verified"
    with django_capture_on_commit_callbacks(execute=True):
        response = _send(client, "POST", "/policies",
                         {"id": "one", "threshold": 1, "principals": ["alice"]}, token=admin_token)
    assert response.status_code == 201, response.content
    result = client.get(f"{EXT}/policies/one/evaluate", {"name": sv.name, "version": "1.0.0"})
    assert result.json()["satisfied"] is True


# --- trust roots ---------------------------------------------------------------------------


def test_trust_root_create_list_update_delete(client, admin_token, acme_root, fake_sigstore):
    assert acme_root["id"] == "acme"
    assert acme_root["kind"] == "custom"
    assert acme_root["active"] is True
    assert acme_root["trustedRoot"] == json.loads(fake_sigstore.trusted_root_json())
    listed = client.get(f"{EXT}/trust-roots").json()
    assert [r["id"] for r in listed["trustRoots"]] == ["acme"]
    assert listed["metadata"] == {"count": 1}

    response = _send(client, "PATCH", "/trust-roots/acme", {"active": False, "name": "Old"},
                     token=admin_token)
    assert response.status_code == 200, response.content
    assert (response.json()["active"], response.json()["name"]) == (False, "Old")
    assert response.json()["trustedRoot"] == acme_root["trustedRoot"]

    response = _send(client, "POST", "/trust-roots", {"id": "public", "kind": "production"},
                     token=admin_token)
    assert response.status_code == 201, response.content
    assert response.json()["trustedRoot"] is None

    assert _send(client, "DELETE", "/trust-roots/acme", token=admin_token).status_code == 204
    assert list(TrustRoot.objects.values_list("slug", flat=True)) == ["public"]
    actions = list(AuditEvent.objects.filter(target="acme").order_by("id")
                   .values_list("action", flat=True))
    assert actions == ["signing.trust_root.created", "signing.trust_root.changed",
                       "signing.trust_root.deleted"]


def test_a_trust_root_in_use_cannot_be_deleted(client, admin_token, acme_root):
    body = {"id": "carol", "kind": "sigstore",
            "sigstore": {"issuer": ISSUER, "subject": "carol@acme.example", "trustRoot": "acme"}}
    assert _send(client, "POST", "/principals", body, token=admin_token).status_code == 201
    problem = _problem(_send(client, "DELETE", "/trust-roots/acme", token=admin_token), 409)
    assert "carol" in problem["detail"]
    assert TrustRoot.objects.filter(slug="acme").exists()
    assert not AuditEvent.objects.filter(action="signing.trust_root.deleted").exists()


@pytest.mark.parametrize(("body", "message"), [
    ({"id": "x", "kind": "custom", "trustedRoot": {"mediaType": "nope"}}, "trust root x"),
    ({"id": "x", "kind": "custom"}, "trustedRoot"),
    ({"id": "x", "kind": "custom", "trustedRoot": 5}, "trustedRoot"),
    ({"id": "x", "kind": "custom", "trustedRoot": "x" * 600_000}, "trustedRoot"),
    ({"id": "x", "kind": "special"}, "kind"),
    ({"id": "x", "kind": "production", "active": "yes"}, "active"),
])
def test_bad_trust_roots_are_422(client, admin_token, body, message):
    problem = _problem(_send(client, "POST", "/trust-roots", body, token=admin_token), 422)
    assert message in problem["detail"]
    assert not TrustRoot.objects.exists()


# --- policies ------------------------------------------------------------------------------


@pytest.fixture
def three(client, admin_token) -> list[str]:
    for slug in ("alice", "bob", "carol"):
        assert _send(client, "POST", "/principals", _key_body(slug),
                     token=admin_token).status_code == 201
    return ["alice", "bob", "carol"]


def test_policy_create_update_delete_audited(client, admin_token, three):
    body = {"id": "two", "title": "2 of 3", "threshold": 2, "principals": three}
    response = _send(client, "POST", "/policies", body, token=admin_token)
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["threshold"], created["title"]) == (2, "2 of 3")
    assert [p["id"] for p in created["principals"]] == three
    assert created["predicateTypes"] == ["https://mcpindex.io/attestations/review/v1"]
    assert created["verdicts"] == ["approved"]
    assert client.get(f"{EXT}/policies/two").json() == created

    response = _send(client, "PATCH", "/policies/two",
                     {"threshold": 1, "principals": ["bob"], "verdicts": []}, token=admin_token)
    assert response.status_code == 200, response.content
    assert response.json()["threshold"] == 1
    assert [p["id"] for p in response.json()["principals"]] == ["bob"]
    assert response.json()["verdicts"] == []
    assert response.json()["title"] == "2 of 3"

    assert _send(client, "DELETE", "/policies/two", token=admin_token).status_code == 204
    assert not TrustPolicy.objects.exists()
    events = AuditEvent.objects.filter(target="two").order_by("id")
    assert [(e.action, e.data.get("principals")) for e in events] == [
        ("signing.policy.created", three), ("signing.policy.changed", ["bob"]),
        ("signing.policy.deleted", None)]


@pytest.mark.parametrize(("change", "message"), [
    ({"threshold": True}, "threshold"),
    ({"threshold": "2"}, "threshold"),
    ({"threshold": 2.0}, "threshold"),
    ({"threshold": 0}, "threshold"),
    ({"threshold": 4}, "at most the number of principals (3)"),
    ({"principals": ["alice", "mallory"], "threshold": 1}, "unknown principals: mallory"),
    ({"principals": ["alice", "alice"], "threshold": 1}, "more than once"),
    ({"principals": "alice", "threshold": 1}, "principals"),
    ({"principals": [], "threshold": 1}, "at most the number of principals (0)"),
    ({"predicateTypes": []}, "predicateTypes"),
    ({"predicateTypes": ["x" * 501]}, "predicateTypes"),
    ({"verdicts": [1]}, "verdicts"),
    ({"treshold": 2}, "unknown field"),
])
def test_bad_policies_are_422_and_write_nothing(client, admin_token, three, change, message):
    body = {"id": "two", "threshold": 2, "principals": three, **change}
    problem = _problem(_send(client, "POST", "/policies", body, token=admin_token), 422)
    assert message in problem["detail"]
    assert not TrustPolicy.objects.exists()


def test_a_patch_keeps_threshold_within_the_remaining_principals(client, admin_token, three):
    body = {"id": "two", "threshold": 2, "principals": three}
    assert _send(client, "POST", "/policies", body, token=admin_token).status_code == 201
    problem = _problem(_send(client, "PATCH", "/policies/two", {"principals": ["alice"]},
                             token=admin_token), 422)
    assert "at most the number of principals (1)" in problem["detail"]
    problem = _problem(_send(client, "PATCH", "/policies/two", {"id": "other"},
                             token=admin_token), 422)
    assert "cannot be changed" in problem["detail"]
    assert TrustPolicy.objects.get().principals.count() == 3


def test_lists_cost_a_fixed_number_of_queries(client, admin_token, three, acme_root,
                                              django_assert_num_queries):
    dave = {"id": "dave", "kind": "sigstore",
            "sigstore": {"issuer": ISSUER, "subject": "dave@acme.example", "trustRoot": "acme"}}
    assert _send(client, "POST", "/principals", dave, token=admin_token).status_code == 201
    for slug, members in (("two", [*three, "dave"]), ("one", ["alice", "dave"])):
        body = {"id": slug, "threshold": 1, "principals": members}
        assert _send(client, "POST", "/policies", body, token=admin_token).status_code == 201
    with django_assert_num_queries(1):
        assert client.get(f"{EXT}/principals").status_code == 200
    with django_assert_num_queries(2):
        assert client.get(f"{EXT}/trust-roots").status_code == 200
    with django_assert_num_queries(3):
        assert client.get(f"{EXT}/policies").status_code == 200
