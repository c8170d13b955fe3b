"""Trust on the pages: policies satisfied on the server page and as a search filter."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mcp_index_common import dsse
from mcp_index_common.statements import statement_bytes_for
from registry.models import ServerVersion
from signing import services
from tests.support.factories import KeyPrincipalFactory, TrustPolicyFactory

pytestmark = pytest.mark.django_db
ACTOR = "test:admin"


@pytest.fixture
def keys(django_capture_on_commit_callbacks: Callable) -> dict[str, Any]:
    """Three key principals and two policies: `two` (2 of 3) and `one` (1 of 3)."""
    keys = {s: ed25519.Ed25519PrivateKey.generate() for s in ("alice", "bob", "carol")}
    with django_capture_on_commit_callbacks(execute=True):
        principals = [KeyPrincipalFactory(slug=s, key=k, actor=ACTOR) for s, k in keys.items()]
    TrustPolicyFactory(slug="two", title="Two reviewers", threshold=2, principals=principals, actor=ACTOR)
    TrustPolicyFactory(slug="one", title="One reviewer", threshold=1, principals=principals, actor=ACTOR)
    return keys


@pytest.fixture
def attest(django_capture_on_commit_callbacks: Callable) -> Callable[..., None]:
    def _attest(sv: ServerVersion, key: Any) -> None:
        payload = statement_bytes_for(server_name=sv.name, version=sv.version, sha256=sv.digest)
        envelope = dsse.envelope_sign(payload=payload, keys=[key]).as_json()
        with django_capture_on_commit_callbacks(execute=True):
            services.attestation_submit(version=sv, kind="dsse", submitted_by=ACTOR,
                                        content=json.dumps(envelope).encode())
    return _attest


def names(response: Any) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'href="/servers/([^"]+)/"', response.content.decode())


def test_server_page_shows_policies_and_attestations(client: Client, add_server: Callable,
                                                     keys: dict, attest: Callable) -> None:
    sv = add_server("io.github.acme/db")
    attest(sv, keys["alice"])
    body = client.get("/servers/io.github.acme/db/").content.decode()
    section = body[body.index('id="trust-h"'):body.index('id="versions-h"')]
    assert re.search(r"not satisfied</span>\s*<strong>Two reviewers</strong>\s*"
                     r"<span class=\"muted\">1 of 2 required: alice", section)
    assert re.search(r"✓ satisfied</span>\s*<strong>One reviewer</strong>", section)
    assert "<strong>Alice</strong>" in section and ">verified<" in section
    assert "/v0.1/x/io.mcpindex/servers/io.github.acme/db/versions/1.0.0/attestations" in section


def test_server_page_without_trust_configuration(client: Client, add_server: Callable) -> None:
    add_server("io.github.acme/db")
    body = client.get("/servers/io.github.acme/db/").content.decode()
    assert "No trust policies are configured." in body and "No attestations yet." in body


def test_filter_by_trust_policy(client: Client, add_server: Callable, keys: dict,
                                attest: Callable) -> None:
    both = add_server("io.github.acme/both")
    one = add_server("io.github.acme/one")
    add_server("io.github.acme/none")
    attest(both, keys["alice"])
    attest(both, keys["bob"])
    attest(one, keys["carol"])
    assert names(client.get("/", {"policy": "two"})) == ["io.github.acme/both"]
    assert names(client.get("/", {"policy": "one"})) == ["io.github.acme/both", "io.github.acme/one"]
    assert len(names(client.get("/", {"policy": "nope"}))) == 3  # unknown choice: ignored
    assert 'option value="two">Satisfies Two reviewers' in client.get("/").content.decode()


def test_policy_filter_is_hidden_without_policies(client: Client, add_server: Callable) -> None:
    add_server("io.github.acme/db")
    assert 'name="policy"' not in client.get("/").content.decode()


def test_policy_filter_query_count_does_not_grow(client: Client, add_server: Callable, keys: dict,
                                                 attest: Callable) -> None:
    counts = []
    for batch in range(2):
        for i in range(3 * (batch + 1)):
            attest(add_server(f"io.github.b{batch}/s{i}"), keys["alice"])
        with CaptureQueriesContext(connection) as ctx:
            listed = names(client.get("/", {"policy": "one"}))
        counts.append(len(ctx.captured_queries))
    assert len(listed) == 9
    assert counts[0] == counts[1]
