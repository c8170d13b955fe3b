"""The signing endpoints end to end: submit, verify in the task, list, evaluate, re-verify."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from django.utils import timezone

from mcp_index_common import dsse
from mcp_index_common.statements import REVIEW_V1, manifest_digest, statement_bytes_for
from registry.models import AuditEvent, ServerVersion
from signing import services
from signing.models import Attestation, Principal, TrustPolicy, TrustRoot
from tests.signing.fakesigstore import FakeSigstore

pytestmark = pytest.mark.django_db

NAME = "io.github.acme/db"
ISSUER = "https://idp.acme.example"
EXT = "/v0.1/x/io.mcpindex"
ACTOR = "test:admin"


def _url(name: str = NAME, version: str = "1.0.0") -> str:
    return f"{EXT}/servers/{name.replace('/', '%2F')}/versions/{version}/attestations"


@pytest.fixture
def version(publish) -> ServerVersion:
    body = publish(NAME, "1.0.0")
    sv = ServerVersion.objects.get(name=NAME, version="1.0.0")
    assert manifest_digest(body["server"]) == sv.digest  # we sign what the API serves
    return sv


@pytest.fixture
def keys() -> dict[str, Any]:
    return {
        "alice": ed25519.Ed25519PrivateKey.generate(),
        "bob": ec.generate_private_key(ec.SECP256R1()),
        "carol": ec.generate_private_key(ec.SECP384R1()),
        "mallory": ed25519.Ed25519PrivateKey.generate(),
    }


def _key_principal(slug: str, key: Any, **extra: Any) -> Principal:
    principal = Principal(
        slug=slug,
        display_name=slug.title(),
        kind=Principal.KEY,
        public_key_pem=dsse.public_key_pem(key),
        **extra,
    )
    return services.principal_save(principal=principal, actor=ACTOR)


@pytest.fixture
def principals(keys, django_capture_on_commit_callbacks) -> dict[str, Principal]:
    with django_capture_on_commit_callbacks(execute=True):
        return {s: _key_principal(s, keys[s]) for s in ("alice", "bob", "carol")}


@pytest.fixture
def two_of_three(principals) -> TrustPolicy:
    policy = TrustPolicy(slug="two-reviewers", title="2 of 3 reviewers", threshold=2)
    return services.policy_save(policy=policy, principals=principals.values(), actor=ACTOR)


def _envelope(sv: ServerVersion, key: Any, **statement: Any) -> dict[str, Any]:
    fields = {"server_name": sv.name, "version": sv.version, "sha256": sv.digest}
    fields.update(statement)
    payload = statement_bytes_for(**fields)
    return dsse.envelope_sign(payload=payload, keys=[key]).as_json()


def _submit(client, capture, content: Any, kind: str = "dsse", url: str | None = None, **headers: Any):
    with capture(execute=True):
        return client.post(
            url or _url(),
            data=json.dumps({"kind": kind, "content": content}),
            content_type="application/json",
            headers=headers,
        )


def _evaluate(client, slug: str = "two-reviewers", version: str = "1.0.0") -> dict[str, Any]:
    response = client.get(f"{EXT}/policies/{slug}/evaluate", {"name": NAME, "version": version})
    assert response.status_code == 200, response.content
    return response.json()


def _listed(client) -> list[dict[str, Any]]:
    response = client.get(_url())
    assert response.status_code == 200
    return response.json()["attestations"]


def test_key_attestation_is_verified_after_commit_and_listed_raw(
    client, version, principals, keys, django_capture_on_commit_callbacks
):
    envelope = _envelope(version, keys["alice"], notes="reviewed the tools", scope=["security"])
    response = _submit(client, django_capture_on_commit_callbacks, envelope)
    assert response.status_code == 201
    assert response.json()["state"] == "pending"  # verification runs after commit
    [item] = _listed(client)
    assert item["state"] == "verified"
    assert item["principals"] == ["alice"]
    assert item["predicateType"] == REVIEW_V1
    assert item["verdict"] == "approved"
    assert item["content"] == envelope  # raw, so clients can re-verify
    assert AuditEvent.objects.filter(action="signing.attestation.verified").exists()


def test_resubmitting_the_same_attestation_is_idempotent(
    client, version, principals, keys, django_capture_on_commit_callbacks
):
    envelope = _envelope(version, keys["alice"])
    first = _submit(client, django_capture_on_commit_callbacks, envelope)
    second = _submit(client, django_capture_on_commit_callbacks, envelope)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]


def test_statement_about_a_tampered_manifest_is_refused(
    client, version, principals, keys, django_capture_on_commit_callbacks
):
    tampered = manifest_digest({**version.manifest, "description": "with a backdoor"})
    response = _submit(
        client, django_capture_on_commit_callbacks, _envelope(version, keys["alice"], sha256=tampered)
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert "not io.github.acme/db@1.0.0" in response.json()["detail"]
    assert not Attestation.objects.exists()


def test_statement_about_another_version_is_refused(
    client, version, principals, keys, django_capture_on_commit_callbacks
):
    response = _submit(
        client, django_capture_on_commit_callbacks, _envelope(version, keys["alice"], version="1.0.1")
    )
    assert response.status_code == 422


def test_a_wrong_keyid_hint_still_verifies_with_the_key_that_signed(
    client, version, principals, keys, django_capture_on_commit_callbacks
):
    envelope = _envelope(version, keys["alice"])
    envelope["signatures"][0]["keyid"] = principals["bob"].keyid  # a known key, but not the signer
    assert _submit(client, django_capture_on_commit_callbacks, envelope).status_code == 201
    [item] = _listed(client)
    assert (item["state"], item["principals"]) == ("verified", ["alice"])


def test_threshold_counts_distinct_principals(
    client, version, two_of_three, keys, django_capture_on_commit_callbacks
):
    for notes in ("first look", "second look"):  # alice twice
        _submit(client, django_capture_on_commit_callbacks, _envelope(version, keys["alice"], notes=notes))
    result = _evaluate(client)
    assert (result["satisfied"], result["count"], result["signers"]) == (False, 1, ["alice"])
    _submit(client, django_capture_on_commit_callbacks, _envelope(version, keys["bob"]))
    result = _evaluate(client)
    assert result["satisfied"]
    assert result["signers"] == ["alice", "bob"]


def test_unknown_principal_stays_unverified_until_added(
    client, version, two_of_three, keys, django_capture_on_commit_callbacks
):
    _submit(client, django_capture_on_commit_callbacks, _envelope(version, keys["mallory"]))
    [item] = _listed(client)
    assert item["state"] == "unverified"
    assert item["principals"] == []
    with django_capture_on_commit_callbacks(execute=True):
        _key_principal("mallory", keys["mallory"])
    [item] = _listed(client)
    assert item["state"] == "verified"
    assert item["principals"] == ["mallory"]
    assert _evaluate(client)["count"] == 0  # verified, but not a principal of this policy


def test_expired_principal_does_not_count(
    client, version, two_of_three, principals, keys, django_capture_on_commit_callbacks
):
    for who in ("alice", "bob"):
        _submit(client, django_capture_on_commit_callbacks, _envelope(version, keys[who]))
    assert _evaluate(client)["satisfied"]
    bob = principals["bob"]
    bob.expires_at = timezone.now() - timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.principal_save(principal=bob, actor=ACTOR)
    result = _evaluate(client)
    assert not result["satisfied"]
    assert {"principal": "bob", "reason": "principal expired"} in result["ignored"]


def test_wrong_predicate_type_and_rejection_do_not_count(
    client, version, two_of_three, keys, django_capture_on_commit_callbacks
):
    _submit(
        client,
        django_capture_on_commit_callbacks,
        _envelope(
            version,
            keys["alice"],
            predicate_type="https://slsa.dev/provenance/v1",
            predicate={"buildType": "x"},
        ),
    )
    _submit(client, django_capture_on_commit_callbacks, _envelope(version, keys["bob"], verdict="rejected"))
    assert {a["state"] for a in _listed(client)} == {"verified"}
    result = _evaluate(client)
    assert result["count"] == 0
    reasons = {i["principal"]: i["reason"] for i in result["ignored"]}
    assert reasons["alice"].startswith("predicate type")
    assert reasons["bob"].startswith("verdict")


def test_sigstore_bundles_from_a_private_instance(
    client, version, principals, django_capture_on_commit_callbacks
):
    fake = FakeSigstore(name="corp")
    with django_capture_on_commit_callbacks(execute=True):
        root = services.trust_root_save(
            root=TrustRoot(
                slug="corp",
                name="Corp sigstore",
                kind=TrustRoot.CUSTOM,
                trusted_root_json=fake.trusted_root_json(),
            ),
            actor=ACTOR,
        )
        services.principal_save(
            principal=Principal(
                slug="sec-team",
                display_name="Security team",
                kind=Principal.SIGSTORE,
                trust_root=root,
                oidc_issuer=ISSUER,
                subject=r"https://github\.com/corp/audits/\.github/workflows/.+",
                subject_is_pattern=True,
            ),
            actor=ACTOR,
        )
    statement = statement_bytes_for(server_name=NAME, version="1.0.0", sha256=version.digest)
    good = fake.sign_dsse(
        statement,
        identity="https://github.com/corp/audits/.github/workflows/review.yml@refs/heads/main",
        issuer=ISSUER,
    )
    wrong = fake.sign_dsse(
        statement,
        identity="https://github.com/evil/fork/.github/workflows/review.yml@refs/heads/main",
        issuer=ISSUER,
    )
    for bundle in (good, wrong):
        response = _submit(client, django_capture_on_commit_callbacks, json.loads(bundle), kind="sigstore")
        assert response.status_code == 201
    states = [(a["state"], a["principals"]) for a in _listed(client)]
    assert states == [("verified", ["sec-team"]), ("unverified", [])]
    # Deactivating the root re-verifies what it vouched for.
    root.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        services.trust_root_save(root=root, actor=ACTOR)
    assert [a["state"] for a in _listed(client)] == ["unverified", "unverified"]


def test_body_limits_and_bad_input_are_problem_json(
    client, version, keys, django_capture_on_commit_callbacks, settings
):
    settings.MCP_INDEX_ATTESTATION_MAX_BYTES = 2048
    big = _envelope(version, keys["alice"], notes="x" * 3000)
    cases = [
        (_submit(client, django_capture_on_commit_callbacks, big), 413),
        (_submit(client, django_capture_on_commit_callbacks, {"payload": 1}), 422),
        (
            _submit(
                client, django_capture_on_commit_callbacks, _envelope(version, keys["alice"]), kind="pgp"
            ),
            422,
        ),
        (client.post(_url(), data="[]", content_type="application/json"), 400),
        (client.post(_url(), data="{", content_type="application/json"), 400),
        (_submit(client, django_capture_on_commit_callbacks, "{}", url=_url(version="9.9.9")), 404),
        (client.get(f"{EXT}/policies/nope/evaluate", {"name": NAME, "version": "1.0.0"}), 404),
        (client.get(f"{EXT}/policies/nope/evaluate"), 422),
    ]
    for response, status in cases:
        assert response.status_code == status, response.content
        assert response["Content-Type"] == "application/problem+json"


def test_unverified_submissions_are_rate_limited(
    client, version, keys, django_capture_on_commit_callbacks, settings
):
    settings.MCP_INDEX_ATTESTATION_UNVERIFIED_PER_HOUR = 2
    codes = [
        _submit(
            client, django_capture_on_commit_callbacks, _envelope(version, keys["mallory"], notes=str(i))
        ).status_code
        for i in range(3)
    ]
    assert codes == [201, 201, 429]


def test_verified_submissions_are_not_rate_limited(
    client, version, principals, keys, django_capture_on_commit_callbacks, settings
):
    settings.MCP_INDEX_ATTESTATION_UNVERIFIED_PER_HOUR = 1
    codes = [
        _submit(
            client, django_capture_on_commit_callbacks, _envelope(version, keys["alice"], notes=str(i))
        ).status_code
        for i in range(3)
    ]
    assert codes == [201, 201, 201]


def test_policy_and_principal_listings(client, two_of_three):
    policy = client.get(f"{EXT}/policies/two-reviewers").json()
    assert policy["threshold"] == 2
    assert sorted(p["id"] for p in policy["principals"]) == ["alice", "bob", "carol"]
    assert client.get(f"{EXT}/policies").json()["metadata"]["count"] == 1
    assert client.get(f"{EXT}/principals").json()["metadata"]["count"] == 3
