"""Django admin for the signing models: pages render, saves go through the services."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from mcp_index_common import dsse
from mcp_index_common.statements import REVIEW_V1, statement_bytes_for
from registry.models import AuditEvent, ServerVersion
from signing import services
from signing.models import Attestation, Principal, TrustPolicy, TrustRoot

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["trustroot", "principal", "trustpolicy", "attestation"])
def test_admin_pages_render(admin_client, model):
    assert admin_client.get(f"/admin/signing/{model}/").status_code == 200
    if model != "attestation":
        assert admin_client.get(f"/admin/signing/{model}/add/").status_code == 200


def test_adding_a_key_principal_in_admin_reverifies(
    admin_client, publish, django_capture_on_commit_callbacks
):
    publish("io.github.acme/db", "1.0.0")
    sv = ServerVersion.objects.get(name="io.github.acme/db", version="1.0.0")
    key = ed25519.Ed25519PrivateKey.generate()
    payload = statement_bytes_for(server_name=sv.name, version=sv.version, sha256=sv.digest)
    envelope = dsse.envelope_sign(payload=payload, keys=[key]).as_json()
    with django_capture_on_commit_callbacks(execute=True):
        services.attestation_submit(
            version=sv, kind="dsse", submitted_by="test", content=json.dumps(envelope).encode()
        )
    assert Attestation.objects.get().state == "unverified"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/signing/principal/add/",
            {
                "slug": "alice",
                "display_name": "Alice",
                "kind": "key",
                "public_key_pem": dsse.public_key_pem(key),
            },
        )
    assert response.status_code == 302, response.content
    assert Principal.objects.get().keyid == dsse.public_key_load(dsse.public_key_pem(key)).keyid
    assert Attestation.objects.get().state == "verified"
    assert AuditEvent.objects.filter(action="signing.principal.created", actor__startswith="admin:").exists()


def test_admin_refuses_a_bad_key_and_a_bad_trust_root(admin_client):
    response = admin_client.post(
        "/admin/signing/principal/add/",
        {"slug": "x", "display_name": "X", "kind": "key", "public_key_pem": "nope"},
    )
    assert response.status_code == 200
    assert b"not a PEM public key" in response.content
    response = admin_client.post(
        "/admin/signing/trustroot/add/",
        {"slug": "corp", "name": "Corp", "kind": "custom", "trusted_root_json": "{}", "is_active": "on"},
    )
    assert response.status_code == 200
    assert b"invalid trusted root" in response.content
    assert not Principal.objects.exists()


ACTOR = "admin:admin"  # pytest-django's admin_client logs in as "admin"


def _key_principal(slug: str) -> Principal:
    key = ed25519.Ed25519PrivateKey.generate()
    return services.principal_save(
        principal=Principal(
            slug=slug, display_name=slug.title(), kind="key", public_key_pem=dsse.public_key_pem(key)
        ),
        actor="test",
    )


def _events() -> list[tuple[str, str, dict]]:
    return [(e.action, e.target, e.data) for e in AuditEvent.objects.filter(actor=ACTOR).order_by("id")]


def test_admin_saves_a_policy_with_its_principals_in_one_audited_call(admin_client):
    alice, bob = _key_principal("alice"), _key_principal("bob")
    form = {
        "slug": "two-reviews",
        "title": "Two reviews",
        "threshold": 1,
        "predicate_types": json.dumps([REVIEW_V1]),
        "verdicts": "[]",
    }
    response = admin_client.post(
        "/admin/signing/trustpolicy/add/", {**form, "principals": [alice.pk, bob.pk]}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = TrustPolicy.objects.get()
    assert sorted(policy.principals.values_list("slug", flat=True)) == ["alice", "bob"]
    page = f"/admin/signing/trustpolicy/{policy.pk}"
    response = admin_client.post(f"{page}/change/", {**form, "principals": [alice.pk]})
    assert response.status_code == 302
    assert list(policy.principals.values_list("slug", flat=True)) == ["alice"]
    bad = admin_client.post(f"{page}/change/", {**form, "predicate_types": "[1]"}, follow=True)
    assert "redicate_types must be a non-empty list" in bad.content.decode()  # capitalised
    assert TrustPolicy.objects.get().predicate_types == [REVIEW_V1]
    assert admin_client.post(f"{page}/delete/", {"post": "yes"}).status_code == 302
    assert not TrustPolicy.objects.exists()
    # The audit event names the principals the policy has after the save, not before it.
    assert _events() == [
        ("signing.policy.created", "two-reviews", {"threshold": 1, "principals": ["alice", "bob"]}),
        ("signing.policy.changed", "two-reviews", {"threshold": 1, "principals": ["alice"]}),
        ("signing.policy.deleted", "two-reviews", {}),
    ]


def test_admin_deletes_trust_roots_and_principals_through_the_services(admin_client):
    form = {"slug": "public", "name": "Public", "kind": "production", "trusted_root_json": "",
            "is_active": "on"}
    assert admin_client.post("/admin/signing/trustroot/add/", form).status_code == 302
    root = TrustRoot.objects.get()
    services.principal_save(
        principal=Principal(
            slug="ci", display_name="CI", kind="sigstore", trust_root=root,
            oidc_issuer="https://token.actions.githubusercontent.com", subject="https://github.com/acme/db",
        ),
        actor="test",
    )
    refused = admin_client.post(f"/admin/signing/trustroot/{root.pk}/delete/", {"post": "yes"})
    assert refused.status_code == 200 and TrustRoot.objects.exists()  # a principal uses it (PROTECT)
    _key_principal("alice")
    response = admin_client.post(
        "/admin/signing/principal/",
        {"action": "delete_selected", "post": "yes",
         "_selected_action": list(Principal.objects.values_list("pk", flat=True))},
    )
    assert response.status_code == 302 and not Principal.objects.exists()
    deleted = admin_client.post(f"/admin/signing/trustroot/{root.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert not TrustRoot.objects.exists()
    assert sorted((a, t) for a, t, _ in _events()) == [
        ("signing.principal.deleted", "alice"),
        ("signing.principal.deleted", "ci"),
        ("signing.trust_root.created", "public"),
        ("signing.trust_root.deleted", "public"),
    ]


def test_admin_deletes_an_attestation_through_the_service_and_never_edits_one(
    admin_client, publish, django_capture_on_commit_callbacks
):
    publish("io.github.acme/db", "1.0.0")
    sv = ServerVersion.objects.get()
    payload = statement_bytes_for(server_name=sv.name, version=sv.version, sha256=sv.digest)
    envelope = dsse.envelope_sign(payload=payload, keys=[ed25519.Ed25519PrivateKey.generate()]).as_json()
    with django_capture_on_commit_callbacks(execute=True):
        attestation = services.attestation_submit(
            version=sv, kind="dsse", submitted_by="test", content=json.dumps(envelope).encode()
        ).attestation
    page = f"/admin/signing/attestation/{attestation.pk}"
    assert admin_client.get(f"{page}/change/").status_code == 200  # shown read-only
    assert admin_client.post(f"{page}/change/", {}).status_code == 403
    assert admin_client.post(f"{page}/delete/", {"post": "yes"}).status_code == 302
    assert not Attestation.objects.exists()
    assert _events() == [
        ("signing.attestation.deleted", str(sv),
         {"attestation": attestation.pk, "kind": "dsse", "state": "unverified"}),
    ]
