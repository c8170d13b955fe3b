"""Client side: sign with a key file, verify locally against a policy file (registry mocked).

The commands run through the real entry point, `mcp_index_cli.main.main`; the registry is an
httpx MockTransport handed to it (the CLI's one HTTP client takes a transport).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from mcp_index_cli.attestations import SigningApi, policy_load, verify_version
from mcp_index_cli.context import Context
from mcp_index_cli.errors import EXIT_NETWORK, CliError
from mcp_index_cli.main import main
from mcp_index_common import dsse
from tests.support.signing import ISSUER, MANIFEST, SERVER, VERSION

REGISTRY = "http://registry.test"


def _write_key(path: Path, key) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def _transport(manifest: dict, attestations: list[dict], seen: list | None = None) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        path = request.url.raw_path.decode()
        if path.endswith("/attestations"):
            return httpx.Response(200, json={"attestations": attestations})
        return httpx.Response(200, json={"server": manifest, "_meta": {}})

    return httpx.MockTransport(handler)


def _registry(manifest: dict, attestations: list[dict]) -> SigningApi:
    transport = _transport(manifest, attestations)
    return SigningApi(Context(registry_flag=REGISTRY, json=False, transport=transport))


@pytest.fixture(autouse=True)
def config_home(tmp_path, monkeypatch):
    """No stored credentials or registry from the developer's own config leak in."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))
    for name in ("MCP_INDEX_REGISTRY", "MCP_INDEX_TOKEN", "MCP_INDEX_NAMESPACE", "SIGSTORE_ID_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def keys(tmp_path):
    alice, bob = ed25519.Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP384R1())
    return {
        "alice": _write_key(tmp_path / "alice.pem", alice),
        "bob": _write_key(tmp_path / "bob.pem", bob),
        "alice_pub": dsse.public_key_pem(alice),
        "bob_pub": dsse.public_key_pem(bob),
    }


@pytest.fixture
def policy_file(tmp_path, keys, fake_sigstore):
    (tmp_path / "acme_root.json").write_text(fake_sigstore.trusted_root_json())
    (tmp_path / "bob.pub").write_text(keys["bob_pub"])
    policy = {
        "threshold": 2,
        "trustRoots": {"acme": "acme_root.json"},
        "principals": [
            {"id": "alice", "publicKey": keys["alice_pub"]},
            {"id": "bob", "publicKeyFile": "bob.pub"},
            {
                "id": "carol",
                "sigstore": {
                    "issuer": ISSUER,
                    "subject": "carol@acme.example",
                    "trustRoot": "acme",
                },
            },
        ],
    }
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy))
    return path


def _sign(tmp_path, key: Path, *extra: str) -> dict:
    (tmp_path / "server.json").write_text(json.dumps(MANIFEST))
    out = tmp_path / "att.json"
    argv = ["sign", SERVER, VERSION, "--manifest", str(tmp_path / "server.json"), "--key", str(key),
            "-o", str(out), *extra]
    assert main(argv) == 0
    return json.loads(out.read_text())


def test_two_distinct_key_signers_satisfy_two_of_three(tmp_path, keys, policy_file):
    atts = [
        _sign(tmp_path, keys["alice"]),
        _sign(tmp_path, keys["alice"]),
        _sign(tmp_path, keys["bob"]),
    ]
    report = verify_version(
        _registry(MANIFEST, atts[:2]), name=SERVER, version=VERSION, policy=policy_load(policy_file)
    )
    assert not report.result.satisfied  # alice twice is one principal
    report = verify_version(
        _registry(MANIFEST, atts), name=SERVER, version=VERSION, policy=policy_load(policy_file)
    )
    assert report.result.satisfied
    assert report.result.signers == ("alice", "bob")


def test_sigstore_principal_counts_with_a_key_principal(
    tmp_path, keys, policy_file, fake_sigstore, review_bytes
):
    bundle = json.loads(fake_sigstore.sign_dsse(review_bytes(), identity="carol@acme.example", issuer=ISSUER))
    atts = [_sign(tmp_path, keys["alice"]), {"kind": "sigstore", "content": bundle}]
    report = verify_version(
        _registry(MANIFEST, atts), name=SERVER, version=VERSION, policy=policy_load(policy_file)
    )
    assert report.result.signers == ("alice", "carol")


def test_registry_serving_a_tampered_manifest_fails(tmp_path, keys, policy_file):
    atts = [_sign(tmp_path, keys["alice"]), _sign(tmp_path, keys["bob"])]
    tampered = {**MANIFEST, "description": "now with a backdoor"}
    report = verify_version(
        _registry(tampered, atts), name=SERVER, version=VERSION, policy=policy_load(policy_file)
    )
    assert not report.result.satisfied
    assert {c.state for c in report.checks} == {"failed"}


def test_registry_claims_are_ignored(tmp_path, keys, policy_file):
    forged = _sign(tmp_path, keys["alice"])
    forged["state"] = "verified"
    forged["principals"] = ["bob", "carol"]
    report = verify_version(
        _registry(MANIFEST, [forged]), name=SERVER, version=VERSION, policy=policy_load(policy_file)
    )
    assert report.result.signers == ("alice",)


def test_verify_command_exit_codes(tmp_path, keys, policy_file, capsys):
    atts = [_sign(tmp_path, keys["alice"]), _sign(tmp_path, keys["bob"])]
    argv = ["--registry", REGISTRY, "verify", SERVER, VERSION, "--policy", str(policy_file)]
    capsys.readouterr()
    assert main(argv, transport=_transport(MANIFEST, atts)) == 0
    assert capsys.readouterr().out.startswith("OK:")
    assert main(argv, transport=_transport(MANIFEST, atts[:1])) == 3
    assert capsys.readouterr().out.startswith("NOT SATISFIED:")


def test_bad_policy_file_is_a_clean_error(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(
        json.dumps(
            {"principals": [{"id": "x", "sigstore": {"issuer": "i", "subject": "s", "trustRoot": "nowhere"}}]}
        )
    )
    with pytest.raises(CliError, match="unknown trust root"):
        policy_load(path)
    assert main(["--registry", REGISTRY, "verify", SERVER, VERSION, "--policy", str(path)],
                transport=_transport(MANIFEST, [])) == 1


def test_unreachable_registry_exits_6(tmp_path, policy_file, capsys):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    api = SigningApi(Context(registry_flag=REGISTRY, json=False, transport=httpx.MockTransport(refuse)))
    with pytest.raises(CliError) as caught:
        verify_version(api, name=SERVER, version=VERSION, policy=policy_load(policy_file))
    assert caught.value.code == EXIT_NETWORK
    capsys.readouterr()
    # nothing listens on the discard port
    argv = ["--registry", "http://127.0.0.1:9", "verify", SERVER, VERSION, "--policy", str(policy_file)]
    assert main(argv) == 6
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["before", "after"])
def test_global_options_reach_the_signing_commands(tmp_path, keys, policy_file, capsys, where):
    """--registry and --json work before or after the sub-command, as for every command."""
    atts = [_sign(tmp_path, keys["alice"]), _sign(tmp_path, keys["bob"])]
    seen: list[httpx.Request] = []
    options = ["--registry", "http://other.test", "--json"]
    command = ["verify", SERVER, VERSION, "--policy", str(policy_file)]
    argv = [*options, *command] if where == "before" else [*command, *options]
    capsys.readouterr()
    assert main(argv, transport=_transport(MANIFEST, atts, seen)) == 0
    assert {r.url.host for r in seen} == {"other.test"}
    assert "authorization" not in {k.lower() for r in seen for k in r.headers}
    report = json.loads(capsys.readouterr().out)
    assert (report["satisfied"], report["signers"]) == (True, ["alice", "bob"])


def test_attest_is_anonymous_unless_a_token_is_at_hand(tmp_path, keys, monkeypatch, capsys):
    """Not logged in: the upload goes without a token (the registry rate-limits that)."""
    (tmp_path / "signed.json").write_text(json.dumps(_sign(tmp_path, keys["alice"])))
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"id": "a1", "state": "pending", "content": {}})

    argv = ["--registry", REGISTRY, "attest", SERVER, VERSION, str(tmp_path / "signed.json")]
    capsys.readouterr()
    assert main(argv, transport=httpx.MockTransport(handler)) == 0
    assert capsys.readouterr().out == "uploaded attestation a1 state=pending\n"
    monkeypatch.setenv("MCP_INDEX_TOKEN", "ci-token")
    assert main(argv, transport=httpx.MockTransport(handler)) == 0
    assert [r.headers.get("authorization") for r in seen] == [None, "Bearer ci-token"]
    assert json.loads(seen[0].content)["kind"] == "dsse"
