"""Django admin for the signing models: pages render, saves go through the services."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from mcp_index_common import dsse
from mcp_index_common.statements import statement_bytes_for
from registry.models import AuditEvent, ServerVersion
from signing import services
from signing.models import Attestation, Principal

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
