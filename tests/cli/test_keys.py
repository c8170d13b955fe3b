"""keygen output and the signed-timestamp proofs sent by `login http` and `login dns`."""

from __future__ import annotations

import base64
import json
import os
import re
import time
from datetime import datetime

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from mcp_index_common import dsse

RECORD = re.compile(r"^v=MCPv1; k=(ed25519|ecdsap384); p=([A-Za-z0-9+/]+=*)$", re.MULTILINE)
PUBLIC_SIZE = {"ed25519": 32, "ecdsap384": 49}
SIGNATURE_SIZE = {"ed25519": 64, "ecdsap384": 96}
PRIVATE_HEX_SIZE = {"ed25519": 64, "ecdsap384": 96}


def verify(algorithm: str, public: bytes, message: bytes, signature: bytes) -> None:
    """Check a proof signature the way the registry does; raises InvalidSignature."""
    if algorithm == "ed25519":
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        return
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), public)
    r = int.from_bytes(signature[:48], "big")
    s = int.from_bytes(signature[48:], "big")
    key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA384()))


def check_proof(body: dict, domain: str, algorithm: str, public: bytes) -> None:
    assert set(body) == {"domain", "timestamp", "signed_timestamp"}
    assert body["domain"] == domain
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["timestamp"])
    signed_at = datetime.fromisoformat(body["timestamp"])
    assert abs(signed_at.timestamp() - time.time()) < 15
    signature = bytes.fromhex(body["signed_timestamp"])
    assert len(signature) == SIGNATURE_SIZE[algorithm]
    verify(algorithm, public, body["timestamp"].encode(), signature)


@pytest.mark.parametrize("algorithm", ["ed25519", "ecdsap384"])
@pytest.mark.parametrize("method", ["http", "dns"])
def test_key_file_from_keygen_signs_a_proof_matching_the_published_record(
    cli, fake, tmp_path, credentials, algorithm, method
):
    key_file = tmp_path / "key.hex"
    generated = cli("keygen", "--algorithm", algorithm, "--out", str(key_file),
                    "--domain", "example.com")
    assert generated.code == 0, generated.err
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    assert len(key_file.read_text().strip()) == PRIVATE_HEX_SIZE[algorithm]
    assert key_file.read_text().strip() not in generated.out
    records = RECORD.findall(generated.out)
    assert len(records) == 2
    assert records[0] == records[1]
    assert records[0][0] == algorithm
    public = base64.b64decode(records[0][1])
    assert len(public) == PUBLIC_SIZE[algorithm]
    assert "https://example.com/.well-known/mcp-registry-auth" in generated.out

    fake.on("POST", f"/v0/auth/{method}", 200, {"registry_token": "jwt-1", "expires_at": 1})
    result = cli("--registry", fake.url, "login", method, "--domain", "Example.com",
                 "--private-key-file", str(key_file))
    assert result.code == 0, result.err
    check_proof(fake.only("POST", f"/v0/auth/{method}").json(), "example.com", algorithm,
                public)
    stored = json.loads(credentials.read_text())["registries"][fake.url]
    assert stored == {"token": "jwt-1", "method": method, "expires_at": 1}


@pytest.mark.parametrize("algorithm", ["ed25519", "ecdsap384"])
def test_printed_hex_key_logs_in_and_matches_the_json_record(cli, fake, algorithm):
    generated = cli("--json", "keygen", "--algorithm", algorithm)
    assert generated.code == 0, generated.err
    data = json.loads(generated.out)
    assert data["dns_txt_record"] == data["well_known_content"]
    assert len(data["private_key"]) == PRIVATE_HEX_SIZE[algorithm]
    algorithm_in_record, public_b64 = RECORD.fullmatch(data["dns_txt_record"]).groups()
    assert algorithm_in_record == algorithm

    fake.on("POST", "/v0/auth/http", 200, {"registry_token": "jwt", "expires_at": 2})
    result = cli("--registry", fake.url, "login", "http", "--domain", "example.com",
                 "--private-key", data["private_key"], "--algorithm", algorithm)
    assert result.code == 0, result.err
    check_proof(fake.only("POST", "/v0/auth/http").json(), "example.com", algorithm,
                base64.b64decode(public_b64))


def test_private_key_can_come_from_the_environment(cli, fake, monkeypatch):
    data = json.loads(cli("--json", "keygen").out)
    monkeypatch.setenv("MCP_INDEX_PRIVATE_KEY", data["private_key"])
    fake.on("POST", "/v0/auth/dns", 200, {"registry_token": "jwt", "expires_at": 2})
    result = cli("--registry", fake.url, "login", "dns", "--domain", "example.org")
    assert result.code == 0, result.err
    public = base64.b64decode(data["dns_txt_record"].rsplit("p=", 1)[1])
    check_proof(fake.only("POST", "/v0/auth/dns").json(), "example.org", "ed25519", public)


def test_keygen_never_overwrites_an_existing_key_file(cli, tmp_path):
    key_file = tmp_path / "key.hex"
    key_file.write_text("precious\n")
    result = cli("keygen", "--out", str(key_file))
    assert result.code == 1
    assert "already exists" in result.err
    assert key_file.read_text() == "precious\n"


@pytest.mark.parametrize(("args", "reason"), [
    (["--domain", "example.com", "--private-key", "zz"], "not valid hex"),
    (["--domain", "example.com", "--private-key", "ab" * 20], "fits no algorithm"),
    (["--domain", "example.com", "--private-key", "ab" * 32, "--algorithm", "ecdsap384"],
     "48 bytes"),
    (["--domain", "https://example.com/", "--private-key", "ab" * 32], "bare domain"),
    (["--private-key", "ab" * 32], "needs --domain"),
    (["--domain", "example.com"], "needs --private-key"),
])
def test_bad_proof_inputs_are_usage_errors_and_send_nothing(cli, fake, args, reason):
    result = cli("--registry", fake.url, "login", "http", *args)
    assert result.code == 2
    assert reason in result.err
    assert fake.requests == []


# --- keygen --signing: a PEM key for `sign --key`, and the keyid the registry will compute ---

SIGNING_CURVES = {"ed25519": None, "ecdsap256": "secp256r1", "ecdsap384": "secp384r1"}
PEM_PUBLIC = re.compile(r"-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n")


@pytest.mark.parametrize("algorithm", sorted(SIGNING_CURVES))
def test_keygen_signing_writes_a_pem_key_that_sign_accepts(cli, tmp_path, algorithm):
    key_file = tmp_path / "reviewer.pem"
    generated = cli("keygen", "--signing", "--algorithm", algorithm, "--out", str(key_file))
    assert generated.code == 0, generated.err
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    private = dsse.private_key_load(key_file.read_bytes())  # what `sign --key` loads
    curve = SIGNING_CURVES[algorithm]
    assert (getattr(private, "curve", None) and private.curve.name) == (curve or None)
    assert "PRIVATE KEY" not in generated.out
    public_pem = dsse.public_key_pem(private)
    assert public_pem in generated.out
    assert (tmp_path / "reviewer.pem.pub").read_text() == public_pem
    # the keyid as the registry computes it when the key is registered as a principal
    assert f"keyid: {dsse.public_key_load(public_pem).keyid}" in generated.out
    assert "mcp-index principals add" in generated.out

    signed = cli("sign", "io.github.acme/db", "1.0.0", "--sha256", "ab" * 32,
                 "--key", str(key_file))
    assert signed.code == 0, signed.err
    envelope = dsse.envelope_parse(json.loads(signed.out)["content"])
    check = dsse.envelope_verify(envelope, [dsse.public_key_load(public_pem)])
    assert check.ok, check.reason


def test_keygen_signing_json_without_out_prints_the_private_pem(cli):
    generated = cli("--json", "keygen", "--signing")
    assert generated.code == 0, generated.err
    data = json.loads(generated.out)
    assert set(data) == {"purpose", "algorithm", "keyid", "public_key", "private_key"}
    assert (data["purpose"], data["algorithm"]) == ("signing", "ed25519")
    private = dsse.private_key_load(data["private_key"].encode())
    assert data["public_key"] == dsse.public_key_pem(private)
    assert PEM_PUBLIC.fullmatch(data["public_key"])
    assert data["keyid"] == dsse.key_id(private.public_key())


def test_keygen_signing_never_overwrites_either_file(cli, tmp_path):
    key_file = tmp_path / "k.pem"
    (tmp_path / "k.pem.pub").write_text("precious\n")
    result = cli("keygen", "--signing", "--out", str(key_file))
    assert result.code == 1
    assert "already exists" in result.err
    assert not key_file.exists()
    assert (tmp_path / "k.pem.pub").read_text() == "precious\n"


@pytest.mark.parametrize(("args", "reason"), [
    (["--signing", "--domain", "example.com"], "--domain is for login keys"),
    (["--algorithm", "ecdsap256"], "only for signing keys"),
])
def test_keygen_refuses_mixed_options(cli, args, reason):
    result = cli("keygen", *args)
    assert result.code == 2
    assert reason in result.err
