"""Django-free core: statements, DSSE with keys, sigstore bundles offline, k-of-n policy."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from mcp_index_common import dsse
from mcp_index_common.policy import Evidence, PolicySpec, policy_check
from mcp_index_common.sigstore_verify import (
    SigstoreIdentity,
    TrustRootError,
    bundle_verify,
    production_verifier,
    trusted_root_load,
    verifier_for,
)
from mcp_index_common.statements import (
    REVIEW_V1,
    StatementError,
    manifest_digest,
    pae,
    statement_parse,
)
from tests.signing.fakesigstore import FakeSigstore
from tests.signing.helpers import ISSUER, SERVER, VERSION

# Apache-2.0 test asset from sigstore-python (a real public-good bundle).
PUBLIC = Path(__file__).parent / "data"
NOW = datetime(2026, 11, 21, tzinfo=UTC)


# --- statements -------------------------------------------------------------------------


def test_pae_matches_the_dsse_spec_example():
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_digest_is_of_the_canonical_json_so_key_order_does_not_matter():
    assert manifest_digest({"b": 1, "a": [1.0, "x"]}) == manifest_digest({"a": [1, "x"], "b": 1})


def test_statement_round_trip(review_bytes, digest):
    statement = statement_parse(review_bytes())
    assert statement.subject.name == f"{SERVER}@{VERSION}"
    assert statement.predicate_type == REVIEW_V1
    assert statement.verdict == "approved"
    assert statement.is_about(server_name=SERVER, version=VERSION, sha256=digest)
    assert not statement.is_about(server_name=SERVER, version="1.4.1", sha256=digest)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.update(_type="https://in-toto.io/Statement/v0.1"), "_type"),
        (lambda s: s.update(subject=[]), "exactly one subject"),
        (lambda s: s["subject"][0].update(name="no-version"), "subject name"),
        (lambda s: s["subject"][0].update(digest={"sha256": "zz"}), "64 hex"),
        (lambda s: s["predicate"].update(verdict="maybe"), "verdict"),
        (lambda s: s["predicate"].update(scope="all"), "scope"),
    ],
)
def test_malformed_statements_are_rejected_with_a_reason(review_bytes, mutate, message):
    data = json.loads(review_bytes())
    mutate(data)
    with pytest.raises(StatementError, match=message):
        statement_parse(json.dumps(data).encode())


def test_non_json_statement_is_rejected():
    with pytest.raises(StatementError, match="not JSON"):
        statement_parse(b"\xff\xfe")


# --- DSSE with keys ---------------------------------------------------------------------


def test_each_key_type_signs_and_verifies(any_private_key, review_bytes):
    envelope = dsse.envelope_sign(payload=review_bytes(), keys=[any_private_key])
    trusted = dsse.public_key_load(dsse.public_key_pem(any_private_key))
    parsed = dsse.envelope_parse(json.dumps(envelope.as_json()))
    result = dsse.envelope_verify(parsed, [trusted])
    assert result.ok
    assert result.keyids == (trusted.keyid,)


def test_tampered_payload_fails(any_private_key, review_bytes):
    envelope = dsse.envelope_sign(payload=review_bytes(), keys=[any_private_key]).as_json()
    envelope["payload"] = base64.b64encode(review_bytes(verdict="rejected")).decode()
    trusted = dsse.public_key_load(dsse.public_key_pem(any_private_key))
    result = dsse.envelope_verify(dsse.envelope_parse(envelope), [trusted])
    assert not result.ok
    assert result.reason == "no signature from a trusted key"


def test_unknown_key_fails(review_bytes):
    signer = ed25519.Ed25519PrivateKey.generate()
    stranger = dsse.public_key_load(dsse.public_key_pem(ed25519.Ed25519PrivateKey.generate()))
    envelope = dsse.envelope_sign(payload=review_bytes(), keys=[signer])
    assert not dsse.envelope_verify(envelope, [stranger]).ok


def test_same_key_signing_twice_counts_once(review_bytes):
    key = ec.generate_private_key(ec.SECP256R1())
    other = ed25519.Ed25519PrivateKey.generate()
    envelope = dsse.envelope_sign(payload=review_bytes(), keys=[key, key, key, other])
    trusted = [dsse.public_key_load(dsse.public_key_pem(k)) for k in (key, other)]
    assert len(dsse.envelope_verify(envelope, trusted).keyids) == 2


def test_lying_keyid_hint_does_not_help_or_hurt(review_bytes):
    key = ed25519.Ed25519PrivateKey.generate()
    trusted = dsse.public_key_load(dsse.public_key_pem(key))
    raw = dsse.envelope_sign(payload=review_bytes(), keys=[key]).as_json()
    raw["signatures"][0]["keyid"] = "not-a-real-keyid"
    assert dsse.envelope_verify(dsse.envelope_parse(raw), [trusted]).keyids == (trusted.keyid,)


def test_a_hint_naming_another_trusted_key_falls_back_to_every_key(review_bytes):
    # docs/signing.md: the keyid is only a hint; a wrong one (here: another trusted key's id,
    # not an unknown one) must not hide the key that really signed.
    signer, other = ed25519.Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP256R1())
    trusted = [dsse.public_key_load(dsse.public_key_pem(k)) for k in (other, signer)]
    raw = dsse.envelope_sign(payload=review_bytes(), keys=[signer]).as_json()
    raw["signatures"][0]["keyid"] = trusted[0].keyid
    assert dsse.envelope_verify(dsse.envelope_parse(raw), trusted).keyids == (trusted[1].keyid,)


def test_two_signatures_with_swapped_hints_count_both_keys(review_bytes):
    first, second = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    trusted = [dsse.public_key_load(dsse.public_key_pem(k)) for k in (first, second)]
    raw = dsse.envelope_sign(payload=review_bytes(), keys=[first, second]).as_json()
    raw["signatures"][0]["keyid"], raw["signatures"][1]["keyid"] = trusted[1].keyid, trusted[0].keyid
    result = dsse.envelope_verify(dsse.envelope_parse(raw), trusted)
    assert sorted(result.keyids) == sorted(k.keyid for k in trusted)


def test_unsupported_keys_are_refused():
    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = rsa_pem.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(dsse.KeyLoadError):
        dsse.public_key_load(pem)
    p521 = ec.generate_private_key(ec.SECP521R1())
    with pytest.raises(dsse.KeyLoadError):
        dsse.public_key_load(dsse.public_key_pem(p521))
    with pytest.raises(dsse.KeyLoadError):
        dsse.public_key_load("not a key")


@pytest.mark.parametrize(
    "raw",
    [
        "[]",
        "{}",
        '{"payloadType": "x", "payload": "!!", "signatures": [{"sig": "AA=="}]}',
        '{"payloadType": "x", "payload": "AA==", "signatures": []}',
    ],
)
def test_malformed_envelopes_are_rejected(raw):
    with pytest.raises(dsse.EnvelopeError):
        dsse.envelope_parse(raw)


# --- sigstore, offline ------------------------------------------------------------------


def _identity(subject: str, *, pattern: bool = False) -> SigstoreIdentity:
    return SigstoreIdentity(issuer=ISSUER, subject=subject, pattern=pattern)


def test_private_instance_bundle_verifies_offline(fake_sigstore, review_bytes):
    bundle = fake_sigstore.sign_dsse(review_bytes(), identity="alice@acme.example", issuer=ISSUER)
    verifier = verifier_for(fake_sigstore.trusted_root_json())
    result = bundle_verify(bundle, verifier=verifier, identities=[_identity("alice@acme.example")])
    assert result.ok, result.reason
    assert (result.issuer, result.subject) == (ISSUER, "alice@acme.example")
    assert statement_parse(result.payload).verdict == "approved"
    assert result.integrated_time == fake_sigstore.now


def test_identity_pattern_matches_workflow_identities(fake_sigstore, review_bytes):
    workflow = "https://github.com/acme/audits/.github/workflows/review.yml@refs/heads/main"
    bundle = fake_sigstore.sign_dsse(review_bytes(), identity=workflow, issuer=ISSUER)
    verifier = verifier_for(fake_sigstore.trusted_root_json())
    pattern = _identity(r"https://github\.com/acme/audits/\.github/workflows/.*", pattern=True)
    assert bundle_verify(bundle, verifier=verifier, identities=[pattern]).ok
    narrow = _identity(r"https://github\.com/acme/other/.*", pattern=True)
    assert not bundle_verify(bundle, verifier=verifier, identities=[narrow]).ok


def test_wrong_identity_is_rejected(fake_sigstore, review_bytes):
    bundle = fake_sigstore.sign_dsse(review_bytes(), identity="mallory@evil.example", issuer=ISSUER)
    verifier = verifier_for(fake_sigstore.trusted_root_json())
    result = bundle_verify(bundle, verifier=verifier, identities=[_identity("alice@acme.example")])
    assert not result.ok
    assert "matches no accepted identity" in result.reason


def test_right_subject_wrong_issuer_is_rejected(fake_sigstore, review_bytes):
    bundle = fake_sigstore.sign_dsse(
        review_bytes(), identity="alice@acme.example", issuer="https://evil-idp.example"
    )
    verifier = verifier_for(fake_sigstore.trusted_root_json())
    assert not bundle_verify(bundle, verifier=verifier, identities=[_identity("alice@acme.example")]).ok


def test_bundle_from_another_instance_is_rejected(fake_sigstore, other_sigstore, review_bytes):
    bundle = other_sigstore.sign_dsse(review_bytes(), identity="alice@acme.example", issuer=ISSUER)
    verifier = verifier_for(fake_sigstore.trusted_root_json())
    result = bundle_verify(bundle, verifier=verifier)
    assert not result.ok
    assert "verification failed" in result.reason


def test_tampered_dsse_payload_is_rejected(fake_sigstore, review_bytes):
    bundle = json.loads(fake_sigstore.sign_dsse(review_bytes(), identity="alice@acme.example", issuer=ISSUER))
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(review_bytes(verdict="rejected")).decode()
    verifier = verifier_for(fake_sigstore.trusted_root_json())
    assert not bundle_verify(json.dumps(bundle), verifier=verifier).ok


def test_old_bundles_still_verify_after_the_leaf_expired(review_bytes):
    old = FakeSigstore(now=datetime(2025, 1, 1, tzinfo=UTC), name="old")
    bundle = old.sign_dsse(review_bytes(), identity="alice@acme.example", issuer=ISSUER)
    assert bundle_verify(bundle, verifier=verifier_for(old.trusted_root_json())).ok


@pytest.mark.parametrize("raw", ["", "{}", "[1]", '{"mediaType": "nope"}', "x" * 70_000])
def test_garbage_bundles_fail_closed(fake_sigstore, raw):
    result = bundle_verify(raw, verifier=verifier_for(fake_sigstore.trusted_root_json()))
    assert not result.ok
    assert result.reason


def test_bad_trusted_roots_are_refused():
    for raw in ["", "{}", json.dumps({"mediaType": "x"})]:
        with pytest.raises(TrustRootError):
            trusted_root_load(raw)


def test_real_public_bundle_verifies_against_embedded_production_root():
    artifact = (PUBLIC / "bundle_v3_github.whl").read_bytes()
    bundle = (PUBLIC / "bundle_v3_github.whl.sigstore").read_bytes()
    identity = SigstoreIdentity(
        issuer="https://token.actions.githubusercontent.com",
        subject="https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2",
    )
    verifier = production_verifier()
    result = bundle_verify(bundle, verifier=verifier, identities=[identity], artifact=artifact)
    assert result.ok, result.reason
    assert result.matched == identity
    assert not bundle_verify(bundle, verifier=verifier, identities=[identity], artifact=artifact + b"x").ok
    wrong = SigstoreIdentity(issuer=identity.issuer, subject="someone@example.com")
    assert not bundle_verify(bundle, verifier=verifier, identities=[wrong], artifact=artifact).ok


def test_real_public_bundle_is_rejected_by_a_private_root(fake_sigstore):
    artifact = (PUBLIC / "bundle_v3_github.whl").read_bytes()
    bundle = (PUBLIC / "bundle_v3_github.whl.sigstore").read_bytes()
    result = bundle_verify(
        bundle, verifier=verifier_for(fake_sigstore.trusted_root_json()), artifact=artifact
    )
    assert not result.ok


# --- policy -----------------------------------------------------------------------------


def _evidence(principal: str, digest: str, **overrides) -> Evidence:
    fields = {
        "principal": principal,
        "predicate_type": REVIEW_V1,
        "verdict": "approved",
        "server_name": SERVER,
        "version": VERSION,
        "sha256": digest,
    }
    fields.update(overrides)
    return Evidence(**fields)


def _spec(threshold: int, **expiry) -> PolicySpec:
    principals = {"alice": None, "bob": None, "carol": None}
    principals.update(expiry)
    return PolicySpec(threshold=threshold, principals=principals, predicate_types=frozenset({REVIEW_V1}))


def _check(spec, evidence, digest):
    return policy_check(spec, evidence, server_name=SERVER, version=VERSION, sha256=digest, now=NOW)


def test_threshold_met_with_distinct_principals(digest):
    result = _check(_spec(2), [_evidence("alice", digest), _evidence("bob", digest)], digest)
    assert result.satisfied
    assert result.signers == ("alice", "bob")


def test_threshold_unmet(digest):
    result = _check(_spec(2), [_evidence("alice", digest)], digest)
    assert not result.satisfied
    assert result.count == 1


def test_same_principal_twice_counts_once(digest):
    result = _check(_spec(2), [_evidence("alice", digest)] * 3, digest)
    assert not result.satisfied
    assert result.signers == ("alice",)


def test_unknown_principal_does_not_count(digest):
    result = _check(_spec(2), [_evidence("alice", digest), _evidence("mallory", digest)], digest)
    assert not result.satisfied
    assert ("mallory", "principal not in policy") in result.ignored


def test_expired_principal_does_not_count(digest):
    spec = _spec(2, bob=NOW - timedelta(seconds=1), carol=NOW + timedelta(days=1))
    evidence = [_evidence("alice", digest), _evidence("bob", digest)]
    result = _check(spec, evidence, digest)
    assert not result.satisfied
    assert ("bob", "principal expired") in result.ignored
    assert _check(spec, [*evidence, _evidence("carol", digest)], digest).satisfied


def test_wrong_predicate_type_and_verdict_do_not_count(digest):
    evidence = [
        _evidence("alice", digest, predicate_type="https://slsa.dev/provenance/v1"),
        _evidence("bob", digest, verdict="rejected"),
    ]
    result = _check(_spec(1), evidence, digest)
    assert not result.satisfied
    assert dict(result.ignored)["alice"].startswith("predicate type")
    assert dict(result.ignored)["bob"].startswith("verdict")


def test_evidence_about_another_digest_does_not_count(digest):
    result = _check(_spec(1), [_evidence("alice", "0" * 64)], digest)
    assert not result.satisfied


def test_policy_spec_rejects_nonsense():
    with pytest.raises(ValueError, match="threshold"):
        PolicySpec(threshold=0, principals={}, predicate_types=frozenset({REVIEW_V1}))
    with pytest.raises(ValueError, match="predicate"):
        PolicySpec(threshold=1, principals={}, predicate_types=frozenset())


def test_production_root_needs_no_network_and_no_cache(tmp_path):
    # A fresh interpreter with an empty home: TUF would create a cache or metadata dir.
    env = {
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
    }
    code = "from mcp_index_common.sigstore_verify import production_verifier; production_verifier()"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert list(tmp_path.iterdir()) == []
