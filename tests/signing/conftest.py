"""Shared fixtures for the signing tests: a private sigstore instance, keys, statements."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from mcp_index_common.statements import REVIEW_V1, manifest_digest, review_predicate, statement_build
from tests.support.fake_sigstore import FakeSigstore
from tests.support.signing import MANIFEST, SERVER, VERSION


@pytest.fixture(scope="session")
def fake_sigstore() -> FakeSigstore:
    return FakeSigstore(name="acme")


@pytest.fixture(scope="session")
def other_sigstore() -> FakeSigstore:
    return FakeSigstore(name="other")


@pytest.fixture
def digest() -> str:
    return manifest_digest(MANIFEST)


@pytest.fixture
def review_bytes(digest: str) -> Callable[..., bytes]:
    """Build the canonical bytes of a review statement (defaults: this version, approved)."""

    def build(
        *,
        verdict: str = "approved",
        name: str = SERVER,
        version: str = VERSION,
        sha256: str | None = None,
        predicate_type: str = REVIEW_V1,
    ) -> bytes:
        return statement_build(
            server_name=name,
            version=version,
            sha256=sha256 or digest,
            predicate_type=predicate_type,
            predicate=review_predicate(verdict=verdict, notes="looked fine", scope=["security"]),
        ).to_bytes()

    return build


@pytest.fixture(params=["ed25519", "p256", "p384"])
def any_private_key(request: pytest.FixtureRequest):
    if request.param == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    curve = ec.SECP256R1() if request.param == "p256" else ec.SECP384R1()
    return ec.generate_private_key(curve)


@pytest.fixture
def key_file(tmp_path):
    """Write a private key as PEM and return its path."""

    def write(key, name: str = "key.pem"):
        path = tmp_path / name
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return path

    return write
