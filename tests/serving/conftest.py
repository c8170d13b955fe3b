"""Fixtures for the read API: a verified attestation on a version, through the real services."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from mcp_index_common import dsse
from mcp_index_common.statements import statement_bytes_for
from registry.models import ServerVersion
from signing import services as signing_services
from signing.models import Principal


@pytest.fixture
def sign(django_capture_on_commit_callbacks) -> Callable[[ServerVersion], None]:
    """Give a version a verified DSSE attestation by a known principal (`sec`)."""
    key = ed25519.Ed25519PrivateKey.generate()
    with django_capture_on_commit_callbacks(execute=True):
        signing_services.principal_save(principal=Principal(
            slug="sec", display_name="Security", kind=Principal.KEY,
            public_key_pem=dsse.public_key_pem(key)), actor="test:admin")

    def _sign(sv: ServerVersion) -> None:
        payload = statement_bytes_for(server_name=sv.name, version=sv.version, sha256=sv.digest)
        envelope = dsse.envelope_sign(payload=payload, keys=[key]).as_json()
        with django_capture_on_commit_callbacks(execute=True):
            signing_services.attestation_submit(version=sv, kind="dsse",
                                                content=json.dumps(envelope).encode(),
                                                submitted_by="test")

    return _sign
