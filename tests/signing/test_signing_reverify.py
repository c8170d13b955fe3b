"""Re-verification after a trust change touches only what the change affects, with no window.

These tests commit for real (transaction=True) and watch the database after every commit —
what any concurrent reader can see — to prove a change whose before and after are both
satisfying never shows a policy, or the catalog gated on it, unsatisfied, and never marks an
attestation `pending`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.db import connection
from django.test import Client

from curation.models import Catalog, CatalogEntry
from curation.services.catalogs import catalog_create
from mcp_index_common import dsse
from mcp_index_common.statements import statement_bytes_for
from registry.models import ServerVersion
from signing import services
from signing.models import Attestation, Principal, TrustPolicy, TrustRoot
from signing.selectors import policy_evaluate
from tests.signing.fakesigstore import FakeSigstore
from tests.signing.helpers import ISSUER

pytestmark = pytest.mark.django_db(transaction=True)

NAME = "io.github.acme/db"
ACTOR = "test:admin"
EXT = "/v0.1/x/io.mcpindex"
WORKFLOW = "https://github.com/acme/audits/.github/workflows/review.yml@refs/heads/main"


@dataclass
class Seen:
    """What readers could see after each commit."""

    commits: int = 0
    pending: list[int] = field(default_factory=list)
    unsatisfied: list[tuple[int, str]] = field(default_factory=list)
    unlisted: list[tuple[int, str]] = field(default_factory=list)


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> Callable[[], Any]:
    """A context manager: check the committed state after every commit inside it."""

    class Watch:
        def __enter__(self) -> Seen:
            self.seen = Seen()
            self.busy = False
            real_set_autocommit = connection.set_autocommit
            real_run_hooks = connection.run_and_clear_commit_hooks

            def set_autocommit(autocommit: bool, *args: Any, **kwargs: Any) -> None:
                real_set_autocommit(autocommit, *args, **kwargs)
                if autocommit:
                    self.check()  # a transaction just committed (or rolled back)

            def run_hooks() -> None:
                self.check()  # committed, and the on-commit tasks have not run yet
                real_run_hooks()

            def autocommitted(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
                result = execute(sql, params, many, context)
                if connection.get_autocommit() and not connection.in_atomic_block:
                    self.check()
                return result

            monkeypatch.setattr(connection, "set_autocommit", set_autocommit)
            monkeypatch.setattr(connection, "run_and_clear_commit_hooks", run_hooks)
            self.wrapper = connection.execute_wrapper(autocommitted)
            self.wrapper.__enter__()
            return self.seen

        def __exit__(self, *exc: Any) -> None:
            self.wrapper.__exit__(*exc)
            monkeypatch.undo()

        def check(self) -> None:
            if self.busy:
                return
            self.busy = True
            try:
                seen = self.seen
                seen.commits += 1
                seen.pending += list(
                    Attestation.objects.filter(state=Attestation.PENDING).values_list("pk", flat=True))
                policy = TrustPolicy.objects.prefetch_related("principals").get(slug="two")
                listed = set(CatalogEntry.objects.filter(catalog__slug="vetted", listed=True,
                                                         state="included")
                             .values_list("version", flat=True))
                for sv in ServerVersion.objects.filter(name=NAME):
                    if not policy_evaluate(policy=policy, version=sv).satisfied:
                        seen.unsatisfied.append((seen.commits, sv.version))
                    if sv.version not in listed:
                        seen.unlisted.append((seen.commits, sv.version))
            finally:
                self.busy = False

    return Watch


@pytest.fixture
def keys() -> dict[str, ed25519.Ed25519PrivateKey]:
    return {s: ed25519.Ed25519PrivateKey.generate() for s in ("alice", "bob", "carol")}


def _attest(sv: ServerVersion, key: Any) -> None:
    payload = statement_bytes_for(server_name=sv.name, version=sv.version, sha256=sv.digest)
    envelope = dsse.envelope_sign(payload=payload, keys=[key]).as_json()
    services.attestation_submit(version=sv, kind="dsse", content=json.dumps(envelope).encode(),
                                submitted_by=ACTOR)


@pytest.fixture
def world(publish, keys) -> dict[str, Principal]:
    """Six versions, each signed by alice and bob; carol signed the first three; catalog
    `vetted` requires policy `two` (2 of alice, bob, carol) and lists all six."""
    principals = {
        s: services.principal_save(principal=Principal(
            slug=s, display_name=s.title(), kind=Principal.KEY,
            public_key_pem=dsse.public_key_pem(k)), actor=ACTOR)
        for s, k in keys.items()}
    services.policy_save(policy=TrustPolicy(slug="two", title="2 of 3", threshold=2),
                         principals=principals.values(), actor=ACTOR)
    for i in range(6):
        publish(NAME, f"1.0.{i}")
        sv = ServerVersion.objects.get(name=NAME, version=f"1.0.{i}")
        for who in ("alice", "bob") + (("carol",) if i < 3 else ()):
            _attest(sv, keys[who])
    catalog_create(slug="vetted", fields={"trust_policy": "two"}, actor=ACTOR)
    assert Attestation.objects.filter(state="verified").count() == 15
    assert CatalogEntry.objects.filter(catalog__slug="vetted", state="included").count() == 6
    return principals


def _verified_at() -> dict[int, Any]:
    return dict(Attestation.objects.values_list("pk", "verified_at"))


def test_renaming_a_principal_reverifies_nothing(world, client: Client, watch):
    before = _verified_at()
    bob = world["bob"]
    bob.display_name = "Robert"
    with watch() as seen:
        services.principal_save(principal=bob, actor=ACTOR)
    assert seen.commits and not seen.pending
    assert not seen.unsatisfied and not seen.unlisted
    assert _verified_at() == before  # not one attestation was re-verified
    principals = client.get(f"{EXT}/principals").json()["principals"]
    assert {p["id"]: p["displayName"] for p in principals}["bob"] == "Robert"


def test_an_equivalent_key_encoding_reverifies_nothing(world, keys, watch):
    before = _verified_at()
    bob = world["bob"]
    bob.public_key_pem = dsse.public_key_pem(keys["bob"]).replace("\n", "\r\n")  # same key
    with watch() as seen:
        services.principal_save(principal=bob, actor=ACTOR)
    assert not seen.pending and not seen.unsatisfied
    assert _verified_at() == before


def test_rotating_a_key_reverifies_only_that_principals_attestations(world, watch):
    before = _verified_at()
    carols = set(Attestation.objects.filter(principals=world["carol"]).values_list("pk", flat=True))
    assert len(carols) == 3
    carol = world["carol"]
    carol.public_key_pem = dsse.public_key_pem(ed25519.Ed25519PrivateKey.generate())
    with watch() as seen:
        services.principal_save(principal=carol, actor=ACTOR)
    after = _verified_at()
    reverified = {pk for pk in before if after[pk] != before[pk]}
    assert reverified == carols  # 3 of 15
    assert not seen.pending
    assert not seen.unsatisfied and not seen.unlisted  # alice and bob still suffice
    states = set(Attestation.objects.filter(pk__in=carols).values_list("state", flat=True))
    assert states == {"unverified"}  # the new key signed none of them
    assert not Attestation.objects.filter(principals=carol).exists()


def test_deleting_a_principal_reverifies_only_its_attestations(world, watch):
    before = _verified_at()
    carols = set(Attestation.objects.filter(principals=world["carol"]).values_list("pk", flat=True))
    with watch() as seen:
        services.principal_delete(principal=world["carol"], actor=ACTOR)
    after = _verified_at()
    assert {pk for pk in before if after[pk] != before[pk]} == carols
    assert not seen.pending and not seen.unsatisfied and not seen.unlisted
    assert set(Attestation.objects.filter(pk__in=carols).values_list("state", flat=True)) == {
        "unverified"}


def test_a_new_principal_verifies_what_it_signed_without_touching_the_rest(world, watch):
    stranger = ed25519.Ed25519PrivateKey.generate()
    sv = ServerVersion.objects.get(name=NAME, version="1.0.5")
    _attest(sv, stranger)
    [unknown] = Attestation.objects.filter(state="unverified")
    before = _verified_at()
    with watch() as seen:
        services.principal_save(principal=Principal(
            slug="dave", display_name="Dave", kind=Principal.KEY,
            public_key_pem=dsse.public_key_pem(stranger)), actor=ACTOR)
    after = _verified_at()
    assert {pk for pk in before if after[pk] != before[pk]} == {unknown.pk}
    unknown.refresh_from_db()
    assert unknown.state == "verified"
    assert not seen.pending and not seen.unsatisfied and not seen.unlisted


def test_a_sigstore_identity_change_that_still_matches_has_no_window(publish, watch):
    """The only signer of a 1-of-1 policy changes its subject (exact -> an equivalent
    pattern): its attestations are re-verified, and readers see it satisfied throughout."""
    fake = FakeSigstore(name="corp")
    root = services.trust_root_save(root=TrustRoot(
        slug="corp", name="Corp", kind=TrustRoot.CUSTOM,
        trusted_root_json=fake.trusted_root_json()), actor=ACTOR)
    sec = services.principal_save(principal=Principal(
        slug="sec", display_name="Security", kind=Principal.SIGSTORE, trust_root=root,
        oidc_issuer=ISSUER, subject=WORKFLOW), actor=ACTOR)
    services.policy_save(policy=TrustPolicy(slug="two", title="1 of 1", threshold=1),
                         principals=[sec], actor=ACTOR)
    for i in range(3):
        publish(NAME, f"1.0.{i}")
        sv = ServerVersion.objects.get(name=NAME, version=f"1.0.{i}")
        statement = statement_bytes_for(server_name=NAME, version=sv.version, sha256=sv.digest)
        services.attestation_submit(version=sv, kind="sigstore", submitted_by=ACTOR,
                                    content=fake.sign_dsse(statement, identity=WORKFLOW,
                                                           issuer=ISSUER).encode())
    assert Attestation.objects.filter(state="verified").count() == 3
    catalog_create(slug="vetted", fields={"trust_policy": "two"}, actor=ACTOR)
    before = _verified_at()
    sec.subject = r"https://github\.com/acme/audits/\.github/workflows/.+"
    sec.subject_is_pattern = True
    with watch() as seen:
        services.principal_save(principal=sec, actor=ACTOR)
    after = _verified_at()
    assert all(after[pk] != before[pk] for pk in before)  # all three re-verified
    assert seen.commits and not seen.pending
    assert not seen.unsatisfied and not seen.unlisted
    assert Catalog.objects.get(slug="vetted").entries.filter(state="included").count() == 3
