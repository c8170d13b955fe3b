"""Client side: sign with a key file, verify locally against a policy file (registry mocked)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from signing import cli, dsse
from signing.client import ClientError, RegistryClient, policy_load, verify_version
from tests.support.signing import ISSUER, MANIFEST, SERVER, VERSION


def _write_key(path: Path, key) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def _registry(manifest: dict, attestations: list[dict]) -> RegistryClient:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode()
        if path.endswith("/attestations"):
            return httpx.Response(200, json={"attestations": attestations})
        return httpx.Response(200, json={"server": manifest, "_meta": {}})

    return RegistryClient("http://registry.test", transport=httpx.MockTransport(handler))


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
    parser = _parser()
    args = parser.parse_args(
        [
            "sign",
            SERVER,
            VERSION,
            "--manifest",
            str(tmp_path / "server.json"),
            "--key",
            str(key),
            "-o",
            str(out),
            *extra,
        ]
    )
    assert args.func(args) == 0
    return json.loads(out.read_text())


def _parser():
    parser = argparse.ArgumentParser()
    cli.add_subcommands(parser.add_subparsers(required=True))
    return parser


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


def test_verify_command_exit_codes(tmp_path, keys, policy_file, monkeypatch, capsys):
    atts = [_sign(tmp_path, keys["alice"]), _sign(tmp_path, keys["bob"])]
    monkeypatch.setattr(cli, "_client", lambda *a, **k: _registry(MANIFEST, atts))
    args = _parser().parse_args(["verify", SERVER, VERSION, "--policy", str(policy_file)])
    assert args.func(args) == 0
    assert capsys.readouterr().out.startswith("OK:")
    monkeypatch.setattr(cli, "_client", lambda *a, **k: _registry(MANIFEST, atts[:1]))
    assert args.func(args) == 3


def test_bad_policy_file_is_a_clean_error(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(
        json.dumps(
            {"principals": [{"id": "x", "sigstore": {"issuer": "i", "subject": "s", "trustRoot": "nowhere"}}]}
        )
    )
    with pytest.raises(ClientError, match="unknown trust root"):
        policy_load(path)


def test_unreachable_registry_exits_6(tmp_path, policy_file, capsys):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    args = _parser().parse_args(["verify", SERVER, VERSION, "--policy", str(policy_file)])
    client = RegistryClient("http://registry.test", transport=httpx.MockTransport(refuse))
    with pytest.raises(ClientError) as caught:
        verify_version(client, name=SERVER, version=VERSION, policy=policy_load(policy_file))
    assert caught.value.network
    args.registry = "http://127.0.0.1:9"  # nothing listens on the discard port
    assert args.func(args) == 6
    assert "cannot reach the registry" in capsys.readouterr().err


class _Ctx:
    """What registry/cli passes to handlers: the resolved registry and a token source."""

    def registry(self) -> str:
        return "http://registry.test"

    def token(self) -> str:
        raise RuntimeError("not logged in")


def test_wires_into_a_parser_with_shared_global_options(tmp_path, keys, policy_file, monkeypatch):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--registry", default=argparse.SUPPRESS)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    parser = argparse.ArgumentParser()
    parser.add_argument("--registry")
    parser.add_argument("--json", action="store_true")
    cli.add_subcommands(parser.add_subparsers(required=True), [common])
    atts = [_sign(tmp_path, keys["alice"]), _sign(tmp_path, keys["bob"])]
    seen = []

    def fake_client(args, ctx=None, *, auth=False):
        seen.append(cli._registry_url(args, ctx))
        return _registry(MANIFEST, atts)

    monkeypatch.setattr(cli, "_client", fake_client)
    args = parser.parse_args(["verify", SERVER, VERSION, "--policy", str(policy_file), "--json"])
    assert args.func(args, _Ctx()) == 0
    assert seen == ["http://registry.test"]
