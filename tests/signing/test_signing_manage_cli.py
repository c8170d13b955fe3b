"""`mcp-index keygen --signing`, `principals`, `trust-roots` and `policies` against a live
registry: a key made on the laptop is registered, signs, and the server verifies it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from registry.models import AuditEvent
from registry.services import token_create
from signing.models import Attestation, Principal, TrustPolicy, TrustRoot
from tests.support.cli import Run, cli_runner, isolated_config
from tests.support.fake_sigstore import FakeSigstore
from tests.support.signing import ISSUER
from tests.support.tokens import bearer

NAME = "io.github.acme/db"
EXT = "/v0.1/x/io.mcpindex"


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh CLI config directory; none of the CLI's variables leak in."""
    return isolated_config(tmp_path, monkeypatch, "MCP_INDEX_NAMESPACE")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run `mcp-index ARGS...` in-process and capture its exit code and output."""
    return cli_runner(capsys)


@pytest.fixture
def registry_url(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MCP_INDEX_REGISTRY", live_server.url)
    return live_server.url


@pytest.fixture
def admin(cli, registry_url) -> str:
    """Log the CLI in with an administrator's API token (edit on '*')."""
    secret = token_create(name="ops", patterns=["*"], can_edit=True, actor="test").secret
    assert cli("login", "token", "--token", secret).code == 0
    return secret


@pytest.fixture
def version(publish) -> dict[str, Any]:
    return publish(NAME, "1.0.0")


def _evaluate(registry_url: str, policy: str) -> dict[str, Any]:
    response = httpx.get(f"{registry_url}{EXT}/policies/{policy}/evaluate",
                         params={"name": NAME, "version": "1.0.0"})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.django_db(transaction=True)
def test_keygen_register_sign_attest_and_the_server_verifies(
    cli, registry_url, admin, version, tmp_path
):
    key = tmp_path / "reviewer.pem"
    generated = cli("keygen", "--signing", "--out", str(key))
    assert generated.code == 0, generated.err
    keyid = re.search(r"^keyid: ([0-9a-f]{64})$", generated.out, re.MULTILINE).group(1)

    added = cli("principals", "add", "alice", "--display-name", "Alice",
                "--public-key", f"{key}.pub")
    assert added.code == 0, added.err
    assert f"keyid {keyid}" in added.out  # the server computed the same keyid
    assert Principal.objects.get(slug="alice").keyid == keyid
    assert cli("policies", "add", "one-reviewer", "--threshold", "1",
               "--principal", "alice").code == 0
    assert _evaluate(registry_url, "one-reviewer")["satisfied"] is False

    attestation = tmp_path / "att.json"
    signed = cli("sign", NAME, "1.0.0", "--key", str(key), "-o", str(attestation))
    assert signed.code == 0, signed.err  # digest of the manifest fetched from the registry
    uploaded = cli("attest", NAME, "1.0.0", str(attestation))
    assert uploaded.code == 0, uploaded.err
    assert "state=verified" in uploaded.out
    assert Attestation.objects.get().state == "verified"
    result = _evaluate(registry_url, "one-reviewer")
    assert (result["satisfied"], result["signers"]) == (True, ["alice"])

    # the client can check it under the registry's policy, saved as its own file
    policy_file = tmp_path / "policy.json"
    listed = cli("--json", "policies", "list")
    [policy] = json.loads(listed.out)["policies"]
    policy_file.write_text(json.dumps(policy))
    assert cli("verify", NAME, "1.0.0", "--policy", str(policy_file)).code == 0

    # revoking the signer through the CLI: its attestation counts no more
    revoked = cli("principals", "set", "alice", "--expires-at", "2001-01-01T00:00:00Z")
    assert revoked.code == 0, revoked.err
    result = _evaluate(registry_url, "one-reviewer")
    assert result["satisfied"] is False
    assert {"principal": "alice", "reason": "principal expired"} in result["ignored"]
    assert cli("principals", "set", "alice", "--no-expiry").code == 0
    assert _evaluate(registry_url, "one-reviewer")["satisfied"] is True

    actors = set(AuditEvent.objects.filter(action__startswith="signing.principal.")
                 .values_list("actor", flat=True))
    assert len(actors) == 1 and actors.pop().startswith("token:ops#")


@pytest.mark.django_db(transaction=True)
def test_trust_roots_sigstore_principals_and_policies_round_trip(
    cli, registry_url, admin, tmp_path, fake_sigstore: FakeSigstore
):
    root_file = tmp_path / "trusted_root.json"
    root_file.write_text(fake_sigstore.trusted_root_json())
    added = cli("trust-roots", "add", "acme", "--trusted-root", str(root_file), "--name", "ACME")
    assert added.code == 0, added.err
    assert "Added trust root acme (custom, active)." in added.out
    assert cli("trust-roots", "add", "public", "--production", "--inactive").code == 0
    assert cli("principals", "add", "carol", "--issuer", ISSUER, "--subject",
               r".+@acme\.example", "--pattern", "--trust-root", "acme").code == 0
    carol = Principal.objects.get(slug="carol")
    assert (carol.trust_root.slug, carol.subject_is_pattern) == ("acme", True)

    listed = cli("trust-roots", "list")
    assert re.search(r"^acme\s+custom\s+yes\s+carol\s+ACME$", listed.out, re.MULTILINE)
    assert re.search(r"^public\s+production\s+no\s+-\s+public$", listed.out, re.MULTILINE)
    listed = cli("principals", "list")
    assert re.search(rf"^carol\s+sigstore\s+never\s+{re.escape(ISSUER)} ", listed.out,
                     re.MULTILINE)

    in_use = cli("trust-roots", "remove", "acme")
    assert in_use.code == 5
    assert "used by principals carol" in in_use.err

    assert cli("policies", "add", "sec", "--threshold", "1", "--principal", "carol",
               "--title", "Security", "--any-verdict").code == 0
    changed = cli("--json", "policies", "set", "sec", "--verdict", "approved",
                  "--predicate-type", "https://slsa.dev/provenance/v1")
    assert changed.code == 0, changed.err
    data = json.loads(changed.out)
    assert (data["verdicts"], data["predicateTypes"]) == (
        ["approved"], ["https://slsa.dev/provenance/v1"])
    assert data["trustRoots"]["acme"] == json.loads(fake_sigstore.trusted_root_json())
    assert re.search(r"^sec\s+1  carol\s+Security$", cli("policies", "list").out, re.MULTILINE)

    for command, item in (("policies", "sec"), ("principals", "carol"),
                          ("trust-roots", "acme"), ("trust-roots", "public")):
        removed = cli(command, "remove", item)
        assert removed.code == 0, removed.err
    assert not (TrustPolicy.objects.exists() or Principal.objects.exists()
                or TrustRoot.objects.exists())
    assert cli("policies", "list").out.strip() == "No policies."


@pytest.mark.django_db(transaction=True)
def test_refusals_map_to_the_documented_exit_codes(cli, registry_url, admin, tmp_path,
                                                   monkeypatch):
    key = tmp_path / "k.pem"
    assert cli("keygen", "--signing", "--out", str(key)).code == 0
    assert cli("principals", "add", "alice", "--public-key", f"{key}.pub").code == 0

    duplicate = cli("principals", "add", "alice", "--public-key", f"{key}.pub")
    assert (duplicate.code, "already exists" in duplicate.err) == (5, True)
    too_high = cli("policies", "add", "p", "--threshold", "2", "--principal", "alice")
    assert too_high.code == 3
    assert "at most the number of principals (1)" in too_high.err
    unknown = cli("principals", "remove", "nobody")
    assert (unknown.code, "HTTP 404" in unknown.err) == (1, True)
    private = cli("principals", "add", "bob", "--public-key", str(key))
    assert (private.code, "holds a private key" in private.err) == (2, True)
    assert cli("principals", "add", "bob").code == 2  # neither a key nor an identity
    assert cli("principals", "set", "alice").code == 2  # nothing to change

    monkeypatch.setenv("MCP_INDEX_TOKEN", bearer(["io.github.acme/*"]))  # not an admin
    refused = cli("principals", "remove", "alice")
    assert refused.code == 4
    assert "administrators" in refused.err
    assert Principal.objects.filter(slug="alice").exists()


@pytest.mark.django_db(transaction=True)
def test_listing_is_public_and_writing_needs_a_login(cli, registry_url, tmp_path: Path):
    assert cli("principals", "list").out.strip() == "No principals."
    result = cli("policies", "add", "p", "--threshold", "1", "--principal", "alice")
    assert result.code == 4
    assert "not logged in" in result.err
