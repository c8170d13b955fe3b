"""The trust `manage.py` commands: the same parsing and services as the API, audited as
`manage:<OS user>`, refusals as CommandError with nothing written."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.core.management import CommandError, call_command

from mcp_index_common import dsse
from mcp_index_common.statements import statement_bytes_for
from registry.models import AuditEvent, ServerVersion
from signing import selectors, services
from signing.models import Attestation, Principal, TrustPolicy, TrustRoot
from tests.support.fake_sigstore import FakeSigstore
from tests.support.signing import ISSUER

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def os_user(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LOGNAME", "ops-kim")  # getpass.getuser() reads it first
    return "manage:ops-kim"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture
def public_file(tmp_path: Path, key) -> Path:
    path = tmp_path / "alice.pub"
    path.write_text(dsse.public_key_pem(key))
    return path


def test_principal_add_update_remove_audited_as_the_os_user(public_file, key, os_user):
    out = run("principal_add", "alice", "--public-key-file", str(public_file),
              "--display-name", "Alice")
    keyid = dsse.key_id(key.public_key())
    assert out.strip() == f"added principal alice (key, keyid {keyid})"
    out = run("principal_add", "alice", "--expires-at", "2030-01-01T00:00:00Z")
    assert out.startswith("updated principal alice")
    alice = Principal.objects.get()
    assert (alice.display_name, alice.expires_at.year) == ("Alice", 2030)
    run("principal_add", "alice", "--no-expiry")
    assert Principal.objects.get().expires_at is None
    assert run("principal_remove", "alice").strip() == "removed principal alice"
    assert not Principal.objects.exists()
    events = AuditEvent.objects.filter(target="alice").order_by("id")
    assert [(e.action, e.actor) for e in events] == [
        ("signing.principal.created", os_user), ("signing.principal.changed", os_user),
        ("signing.principal.changed", os_user), ("signing.principal.deleted", os_user)]


def test_a_principal_added_here_verifies_waiting_attestations(
    publish, key, public_file, django_capture_on_commit_callbacks
):
    publish("io.github.acme/db", "1.0.0")
    sv = ServerVersion.objects.get(name="io.github.acme/db", version="1.0.0")
    payload = statement_bytes_for(server_name=sv.name, version=sv.version, sha256=sv.digest)
    envelope = dsse.envelope_sign(payload=payload, keys=[key]).as_json()
    with django_capture_on_commit_callbacks(execute=True):
        services.attestation_submit(version=sv, kind="dsse", submitted_by="test",
                                    content=json.dumps(envelope).encode())
    assert Attestation.objects.get().state == "unverified"
    with django_capture_on_commit_callbacks(execute=True):
        run("principal_add", "alice", "--public-key-file", str(public_file))
    assert Attestation.objects.get().state == "verified"
    run("policy_set", "one", "--threshold", "1", "--principal", "alice")
    assert selectors.policy_evaluate(policy=TrustPolicy.objects.get(), version=sv).satisfied


def test_trust_roots_and_sigstore_principals(tmp_path, fake_sigstore: FakeSigstore, os_user):
    root_file = tmp_path / "root.json"
    root_file.write_text(fake_sigstore.trusted_root_json())
    out = run("trust_root_add", "acme", "--trusted-root", str(root_file), "--name", "ACME")
    assert out.strip() == "added trust root acme (custom, active)"
    assert run("trust_root_add", "acme", "--inactive").strip() == (
        "updated trust root acme (custom, inactive)")
    run("trust_root_add", "public", "--production")
    run("principal_add", "carol", "--issuer", ISSUER, "--subject", r".+@acme\.example",
        "--pattern", "--trust-root", "acme")
    carol = Principal.objects.get()
    assert (carol.kind, carol.trust_root.slug, carol.subject_is_pattern) == (
        "sigstore", "acme", True)
    run("principal_add", "carol", "--subject", "carol@acme.example", "--no-pattern")
    carol.refresh_from_db()
    assert (carol.subject, carol.subject_is_pattern, carol.oidc_issuer) == (
        "carol@acme.example", False, ISSUER)

    with pytest.raises(CommandError, match="used by principals carol"):
        run("trust_root_remove", "acme")
    assert TrustRoot.objects.filter(slug="acme").exists()
    run("principal_remove", "carol")
    assert run("trust_root_remove", "acme").strip() == "removed trust root acme"
    assert AuditEvent.objects.get(action="signing.trust_root.deleted").actor == os_user


def test_policy_set_creates_then_changes_only_what_is_given(tmp_path, os_user):
    for slug in ("alice", "bob", "carol"):
        path = tmp_path / f"{slug}.pub"
        path.write_text(dsse.public_key_pem(ed25519.Ed25519PrivateKey.generate()))
        run("principal_add", slug, "--public-key-file", str(path))
    out = run("policy_set", "two", "--threshold", "2", "--principal", "alice",
              "--principal", "bob", "--principal", "carol", "--title", "Two of three")
    assert out.strip() == "added policy two: 2 of 3 (alice, bob, carol)"
    out = run("policy_set", "two", "--threshold", "3", "--any-verdict")
    assert out.strip() == "updated policy two: 3 of 3 (alice, bob, carol)"
    policy = TrustPolicy.objects.get()
    assert (policy.title, policy.verdicts) == ("Two of three", [])
    events = AuditEvent.objects.filter(target="two").order_by("id")
    assert [(e.action, e.actor, e.data["threshold"]) for e in events] == [
        ("signing.policy.created", os_user, 2), ("signing.policy.changed", os_user, 3)]
    assert run("policy_remove", "two").strip() == "removed policy two"
    assert not TrustPolicy.objects.exists()


@pytest.mark.parametrize(("args", "message"), [
    (["policy_set", "p", "--threshold", "2", "--principal", "alice"],
     "at most the number of principals (1)"),
    (["policy_set", "p", "--threshold", "0", "--principal", "alice"], "at least 1"),
    (["policy_set", "p", "--threshold", str(2 ** 70), "--principal", "alice"],
     "body.threshold is an integer outside"),
    (["policy_set", "p", "--principal", "alice"], "threshold is required"),
    (["policy_set", "p", "--threshold", "1", "--principal", "nobody"], "unknown principals"),
    (["principal_add", "bob"], "needs --public-key-file"),
    (["principal_add", "bad slug", "--issuer", ISSUER, "--subject", "s", "--trust-root", "x"],
     "slug"),
    (["principal_add", "bob", "--issuer", ISSUER, "--subject", "s", "--trust-root", "nope"],
     "unknown trust root nope"),
    (["principal_add", "bob", "--display-name", "a\x00b", "--issuer", ISSUER, "--subject", "s",
      "--trust-root", "nope"], "NUL"),
    (["principal_add", "alice", "--expires-at", "soon"], "expiresAt"),
    (["trust_root_add", "r"], "needs --trusted-root"),
    (["principal_remove", "nobody"], "no principal nobody"),
    (["policy_remove", "nobody"], "no policy nobody"),
    (["trust_root_remove", "nobody"], "no trust root nobody"),
])
def test_refusals_are_command_errors_and_write_nothing(public_file, args, message):
    run("principal_add", "alice", "--public-key-file", str(public_file))
    before = AuditEvent.objects.count()
    with pytest.raises(CommandError, match=re.escape(message)):
        run(*args)
    assert AuditEvent.objects.count() == before
    assert list(Principal.objects.values_list("slug", flat=True)) == ["alice"]
    assert not TrustPolicy.objects.exists()


def test_a_private_key_file_is_refused(tmp_path, key):
    path = tmp_path / "alice.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    with pytest.raises(CommandError, match="holds a private key"):
        run("principal_add", "alice", "--public-key-file", str(path))
    assert not Principal.objects.exists()
