"""Attestations travel with mirrored versions and are verified again here, never trusted."""

from __future__ import annotations

import copy

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from curation.attestations import upstream_root
from curation.sync import upstream_sync
from mcp_index_common import dsse
from mcp_index_common.statements import statement_bytes_for
from registry.manifest import canonical_digest
from registry.models import ServerVersion
from signing.models import Attestation
from signing.selectors import trust_meta_for_versions
from tests.support.data import snapshot
from tests.support.factories import KeyPrincipalFactory, UpstreamFactory

pytestmark = pytest.mark.django_db

OFFICIAL = "io.modelcontextprotocol.registry/official"


def signed_item(entry: dict, key: ed25519.Ed25519PrivateKey, *, state: str = "verified") -> dict:
    server = entry["server"]
    payload = statement_bytes_for(server_name=server["name"], version=server["version"],
                                  sha256=canonical_digest(server))
    envelope = dsse.envelope_sign(payload=payload, keys=[key]).as_json()
    return {"kind": "dsse", "state": state, "principals": ["upstream-says-so"],
            "content": envelope}


def mark_signed(registry, entry: dict) -> None:
    served = registry.entries[(entry["server"]["name"], entry["server"]["version"])]
    served["_meta"]["io.mcpindex/trust"] = {
        "verifiedSigners": [{"principal": "someone", "displayName": "Someone"}],
        "satisfiedPolicies": []}


@pytest.fixture
def trusted_key(django_capture_on_commit_callbacks):
    key = ed25519.Ed25519PrivateKey.generate()
    with django_capture_on_commit_callbacks(execute=True):
        KeyPrincipalFactory(slug="sec-team", display_name="Security team", key=key)
    return key


def test_upstream_root_strips_api_and_catalog_paths():
    assert upstream_root("https://h.example/v0.1") == "https://h.example"
    assert upstream_root("https://h.example/c/team/v0") == "https://h.example"
    assert upstream_root("http://127.0.0.1:9/prefix/v0.1/") == "http://127.0.0.1:9/prefix"


def test_signed_versions_bring_their_attestations_verified_locally(
        fake_registry, trusted_key, django_capture_on_commit_callbacks):
    good, forged = snapshot(400)[:2]
    stranger = ed25519.Ed25519PrivateKey.generate()
    for entry in (good, forged):
        mark_signed(fake_registry, entry)
    key_of = lambda e: (e["server"]["name"], e["server"]["version"])  # noqa: E731
    fake_registry.attestations[key_of(good)] = [signed_item(good, trusted_key)]
    # the upstream claims this one is verified, but its signer is nobody we trust
    fake_registry.attestations[key_of(forged)] = [signed_item(forged, stranger)]
    upstream = UpstreamFactory(base_url=fake_registry.url)
    with django_capture_on_commit_callbacks(execute=True):
        report = upstream_sync(upstream=upstream)
    assert report.errors == 0
    sv_good = ServerVersion.objects.get(name=good["server"]["name"],
                                        version=good["server"]["version"])
    sv_forged = ServerVersion.objects.get(name=forged["server"]["name"],
                                          version=forged["server"]["version"])
    assert Attestation.objects.get(version=sv_good).state == "verified"
    assert Attestation.objects.get(version=sv_forged).state != "verified"
    trust = trust_meta_for_versions([sv_good.pk, sv_forged.pk])
    assert trust[sv_good.pk]["io.mcpindex/trust"]["verifiedSigners"] == [
        {"principal": "sec-team", "displayName": "Security team"}]
    assert sv_forged.pk not in trust  # no verified attestation, so no trust summary at all


def test_an_attestation_for_other_bytes_is_refused(fake_registry, trusted_key,
                                                   django_capture_on_commit_callbacks):
    entry = snapshot(400)[0]
    mark_signed(fake_registry, entry)
    tampered = copy.deepcopy(entry)
    tampered["server"]["description"] = "not what was reviewed"
    fake_registry.attestations[(entry["server"]["name"], entry["server"]["version"])] = [
        signed_item(tampered, trusted_key)]
    with django_capture_on_commit_callbacks(execute=True):
        upstream_sync(upstream=UpstreamFactory(base_url=fake_registry.url))
    sv = ServerVersion.objects.get(name=entry["server"]["name"])
    assert not Attestation.objects.filter(version=sv, state="verified").exists()
    assert trust_meta_for_versions([sv.pk]) == {}


def test_unreachable_attestations_are_counted_not_fatal(fake_registry):
    entry = snapshot(400)[0]
    mark_signed(fake_registry, entry)  # but no attestations served: 404
    report = upstream_sync(upstream=UpstreamFactory(base_url=fake_registry.url))
    assert report.errors == 1
    assert ServerVersion.objects.filter(name=entry["server"]["name"]).count() >= 1
