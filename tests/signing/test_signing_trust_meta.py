"""Per-version trust summaries and the client verifying through the real endpoints."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.test import Client

from mcp_index_cli.attestations import SigningApi, policy_from_json, sign_with_key, verify_version
from mcp_index_cli.context import Context
from mcp_index_cli.main import main
from mcp_index_common import dsse
from mcp_index_common.statements import statement_bytes_for
from registry.models import ServerVersion
from signing import services
from signing.models import Attestation, TrustPolicy
from signing.selectors import trust_meta_for_versions, versions_satisfying
from tests.support.factories import KeyPrincipalFactory, TrustPolicyFactory

pytestmark = pytest.mark.django_db

NAME = "io.github.acme/db"
ACTOR = "test:admin"


class DjangoTransport(httpx.BaseTransport):
    """Route httpx requests to Django's test client: the real views, no sockets."""

    def __init__(self, client: Client, capture: Any) -> None:
        self.client = client
        self.capture = capture

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode()
        with self.capture(execute=True):
            response = self.client.generic(
                request.method, path, data=request.content, content_type="application/json"
            )
        return httpx.Response(
            response.status_code, content=response.content, headers={"Content-Type": response["Content-Type"]}
        )


@pytest.fixture(autouse=True)
def cli_not_logged_in(tmp_path, monkeypatch):
    """The CLI finds no stored token or registry of the developer's: uploads go anonymously."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))
    for name in ("MCP_INDEX_REGISTRY", "MCP_INDEX_TOKEN", "MCP_INDEX_NAMESPACE"):
        monkeypatch.delenv(name, raising=False)


def _api(transport: httpx.BaseTransport) -> SigningApi:
    """The CLI's signing API on the test server, through the CLI's own HTTP client."""
    return SigningApi(Context(registry_flag="http://testserver", json=False, transport=transport))


@pytest.fixture
def setup(publish, django_capture_on_commit_callbacks):
    keys = {s: ed25519.Ed25519PrivateKey.generate() for s in ("alice", "bob", "carol")}
    with django_capture_on_commit_callbacks(execute=True):
        principals = [KeyPrincipalFactory(slug=s, key=k, actor=ACTOR) for s, k in keys.items()]
    TrustPolicyFactory(slug="two", title="2 of 3", threshold=2, principals=principals, actor=ACTOR)
    TrustPolicyFactory(slug="one", title="1 of 3", threshold=1, principals=principals, actor=ACTOR)
    versions = []
    for i in range(6):
        publish(NAME, f"1.0.{i}")
        versions.append(ServerVersion.objects.get(name=NAME, version=f"1.0.{i}"))
    return keys, versions


def _attest(sv: ServerVersion, key: Any) -> None:
    payload = statement_bytes_for(server_name=sv.name, version=sv.version, sha256=sv.digest)
    envelope = dsse.envelope_sign(payload=payload, keys=[key]).as_json()
    services.attestation_submit(
        version=sv, kind="dsse", content=json.dumps(envelope).encode(), submitted_by=ACTOR
    )


def test_trust_meta_summarises_a_page_in_constant_queries(
    setup, django_capture_on_commit_callbacks, django_assert_num_queries, settings
):
    keys, versions = setup
    with django_capture_on_commit_callbacks(execute=True):
        _attest(versions[0], keys["alice"])
        _attest(versions[0], keys["bob"])
        _attest(versions[1], keys["carol"])
    ids = [v.pk for v in versions]
    with django_assert_num_queries(4):
        one = trust_meta_for_versions(ids[:1])
    with django_assert_num_queries(4):
        meta = trust_meta_for_versions(ids)
    key = f"{settings.MCP_INDEX_NAMESPACE}/trust"
    assert one[ids[0]] == meta[ids[0]]
    assert meta[ids[0]][key] == {
        "verifiedSigners": [
            {"principal": "alice", "displayName": "Alice"},
            {"principal": "bob", "displayName": "Bob"},
        ],
        "satisfiedPolicies": ["one", "two"],
    }
    assert meta[ids[1]][key]["satisfiedPolicies"] == ["one"]
    assert ids[2] not in meta  # no verified attestation: no trust summary at all


def test_a_page_without_attestations_costs_one_query(setup, django_assert_num_queries):
    _, versions = setup
    with django_assert_num_queries(1):
        assert trust_meta_for_versions([v.pk for v in versions]) == {}


def test_api_reads_query_trust_only_for_pages_with_verified_attestations(
    setup, client, django_capture_on_commit_callbacks, django_assert_num_queries, settings
):
    keys, versions = setup
    key = f"{settings.MCP_INDEX_NAMESPACE}/trust"
    reads = ["/v0.1/servers", "/v0.1/servers/io.github.acme%2Fdb/versions",
             "/c/all/v0.1/servers"]
    for path in reads:
        with django_assert_num_queries(1):  # the page; nothing attested, so no trust query
            body = client.get(path).json()
        assert all(key not in item["_meta"] for item in body["servers"])
    with django_capture_on_commit_callbacks(execute=True):
        _attest(versions[2], keys["alice"])
        _attest(versions[3], keys["bob"])
        _attest(versions[4], ed25519.Ed25519PrivateKey.generate())  # a key nobody trusts
    attested = {versions[2].pk: "alice", versions[3].pk: "bob"}
    for path in reads:
        with django_assert_num_queries(5):  # the page, then the four trust-summary queries
            body = client.get(path).json()
        signers = {
            item["server"]["version"]: [s["principal"] for s in item["_meta"][key]["verifiedSigners"]]
            for item in body["servers"]
            if key in item["_meta"]
        }
        assert signers == {v.version: [attested[v.pk]] for v in versions if v.pk in attested}
    assert Attestation.objects.get(version=versions[4]).state != "verified"
    one = client.get("/v0.1/servers/io.github.acme%2Fdb/versions/1.0.2").json()
    assert one["_meta"][key]["verifiedSigners"] == [{"principal": "alice", "displayName": "Alice"}]
    with django_assert_num_queries(1):
        assert key not in client.get("/v0.1/servers/io.github.acme%2Fdb/versions/1.0.4").json()["_meta"]


def test_edited_manifest_invalidates_earlier_signatures(setup, django_capture_on_commit_callbacks, settings):
    keys, versions = setup
    sv = versions[0]
    with django_capture_on_commit_callbacks(execute=True):
        _attest(sv, keys["alice"])
    ServerVersion.objects.filter(pk=sv.pk).update(digest="0" * 64)  # as an admin edit would
    meta = trust_meta_for_versions([sv.pk])[sv.pk][f"{settings.MCP_INDEX_NAMESPACE}/trust"]
    assert meta == {"verifiedSigners": [], "satisfiedPolicies": []}


def test_client_verifies_through_the_real_api_with_an_exported_policy(
    setup, client, django_capture_on_commit_callbacks, tmp_path, key_file
):
    keys, versions = setup
    registry = _api(DjangoTransport(client, django_capture_on_commit_callbacks))
    statement = statement_bytes_for(server_name=NAME, version="1.0.3", sha256=versions[3].digest)
    for who in ("alice", "bob"):
        record = registry.upload(
            NAME,
            "1.0.3",
            kind="dsse",
            content=sign_with_key(statement=statement, key_path=key_file(keys[who], f"{who}.pem")),
        )
        assert record["state"] == "pending"
    exported = registry.policy("two")
    policy = policy_from_json(exported, base_dir=tmp_path)
    report = verify_version(registry, name=NAME, version="1.0.3", policy=policy)
    assert report.result.satisfied
    assert report.result.signers == ("alice", "bob")
    # The client does not believe the registry's states: forge one and nothing changes.
    Attestation.objects.update(state="failed")
    assert verify_version(registry, name=NAME, version="1.0.3", policy=policy).result.satisfied


def test_mirrored_attestations_are_verified_again_locally(setup, django_capture_on_commit_callbacks):
    keys, versions = setup
    sv = versions[4]
    statement = statement_bytes_for(server_name=NAME, version=sv.version, sha256=sv.digest)
    stranger = ed25519.Ed25519PrivateKey.generate()
    upstream = [
        {
            "kind": "dsse",
            "state": "verified",
            "principals": ["alice"],
            "content": dsse.envelope_sign(payload=statement, keys=[keys["alice"]]).as_json(),
        },
        {
            "kind": "dsse",
            "state": "verified",
            "principals": ["bob", "carol"],  # a lie
            "content": dsse.envelope_sign(payload=statement, keys=[stranger]).as_json(),
        },
        {"kind": "dsse", "content": {"payload": "garbage"}},
        "not even an object",
    ]
    with django_capture_on_commit_callbacks(execute=True):
        report = services.attestations_mirror(version=sv, items=upstream, origin="upstream-a")
    assert (report.created, report.existing, report.refused) == (2, 0, 2)
    states = sorted(
        (a.state, tuple(p.slug for p in a.principals.all())) for a in Attestation.objects.filter(version=sv)
    )
    assert states == [("unverified", ()), ("verified", ("alice",))]
    with django_capture_on_commit_callbacks(execute=True):
        again = services.attestations_mirror(version=sv, items=upstream[:2], origin="upstream-a")
    assert (again.created, again.existing) == (0, 2)


def test_catalog_requiring_two_of_three_sees_a_version_after_the_second_signer(
    setup, django_capture_on_commit_callbacks
):
    keys, versions = setup
    policy = TrustPolicy.objects.prefetch_related("principals").get(slug="two")
    sv = versions[5]
    ids = [v.pk for v in versions]
    assert sv.pk not in versions_satisfying(policy=policy, version_ids=ids)
    with django_capture_on_commit_callbacks(execute=True):
        _attest(sv, keys["alice"])
    assert sv.pk not in versions_satisfying(policy=policy, version_ids=ids)
    with django_capture_on_commit_callbacks(execute=True):
        _attest(sv, keys["carol"])
    assert versions_satisfying(policy=policy, version_ids=ids) == {sv.pk}


def test_cli_sign_attest_verify_round_trip(
    setup, client, django_capture_on_commit_callbacks, tmp_path, key_file, capsys
):
    keys, versions = setup
    transport = DjangoTransport(client, django_capture_on_commit_callbacks)

    def run(*argv: str) -> int:
        return main(["--registry", "http://testserver", *argv], transport=transport)

    (tmp_path / "policy.json").write_text(json.dumps(registry_policy := _api(transport).policy("two")))
    assert registry_policy["threshold"] == 2
    assert run("verify", NAME, "1.0.2", "--policy", str(tmp_path / "policy.json")) == 3
    for who in ("alice", "carol"):
        out = tmp_path / f"{who}.json"
        # No --manifest/--sha256: the CLI fetches the manifest and digests it itself.
        assert (
            run("sign", NAME, "1.0.2", "--key", str(key_file(keys[who], f"{who}.pem")), "-o", str(out)) == 0
        )
        assert run("attest", NAME, "1.0.2", str(out)) == 0
    capsys.readouterr()
    assert run("verify", NAME, "1.0.2", "--policy", str(tmp_path / "policy.json"), "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["satisfied"], report["signers"]) == (True, ["alice", "carol"])
    assert report["sha256"] == versions[2].digest
