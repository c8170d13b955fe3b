"""A trust-gated catalog follows every trust change through its public API.

The catalog `vetted` requires the policy `two` (2 of alice, bob, carol). Each test changes
trust one way (grant, principal added, threshold down/up, revoke, key rotation, removal
from the policy, expiry by time passing, renewal) and asserts what `/c/vetted/v0.1/servers`
lists after one reconcile cycle (the task beat runs) and, where trust was lost, at once:
a trust-gated catalog never serves a version whose policy no longer holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.test import Client
from django.utils import timezone

from curation.models import CatalogEntry
from curation.tasks import catalogs_reconcile_task
from mcp_index_common import dsse
from mcp_index_common.statements import statement_bytes_for
from registry.models import ServerVersion
from signing import services
from signing.models import Principal, TrustPolicy, TrustRoot
from tests.conftest import Api, bearer
from tests.signing.fakesigstore import FakeSigstore

pytestmark = pytest.mark.django_db

EXT = "/v0.1/x/io.mcpindex"
ACTOR = "test:admin"
OFFICIAL = "io.modelcontextprotocol.registry/official"
A, B, C = "io.github.acme/alpha", "io.github.acme/beta", "io.github.acme/gamma"


class Clock:
    """Time as django.utils.timezone.now reports it, moved forward on demand."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    real_now = timezone.now
    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: real_now() + clock.offset)
    return clock


@pytest.fixture
def capture(django_capture_on_commit_callbacks: Callable[..., Any]) -> Callable[[], Any]:
    """Run what a write enqueues on commit (tasks run inline), as production does after commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def keys() -> dict[str, ed25519.Ed25519PrivateKey]:
    return {s: ed25519.Ed25519PrivateKey.generate() for s in ("alice", "bob", "carol", "dave")}


def _principal(slug: str, key: Any, **extra: Any) -> Principal:
    return services.principal_save(
        principal=Principal(slug=slug, display_name=slug.title(), kind=Principal.KEY,
                            public_key_pem=dsse.public_key_pem(key), **extra),
        actor=ACTOR)


@pytest.fixture
def world(client: Client, publish, keys, capture, clock) -> dict[str, Any]:
    """Versions alpha, beta, gamma published an hour ago; principals alice, bob, carol;
    policy `two`; catalog `vetted` (reconciled since, so only trust changes remain)."""
    with capture():
        for name in (A, B, C):
            publish(name, "1.0.0")
        principals = {s: _principal(s, keys[s]) for s in ("alice", "bob", "carol")}
        services.policy_save(policy=TrustPolicy(slug="two", title="2 of 3", threshold=2),
                             principals=principals.values(), actor=ACTOR)
        admin = Api(client, prefix="")
        admin.token = bearer(["*"])
        response = admin.send("POST", f"{EXT}/catalogs", {"slug": "vetted", "trust_policy": "two"})
        assert response.status_code == 201, response.content
    clock.advance(timedelta(hours=1))
    cycle(capture)
    return principals


def attest(client: Client, capture: Callable[[], Any], name: str, key: Any) -> None:
    """Submit a review signed by `key` through the API; verification runs after commit."""
    sv = ServerVersion.objects.get(name=name, version="1.0.0")
    payload = statement_bytes_for(server_name=sv.name, version=sv.version, sha256=sv.digest)
    envelope = dsse.envelope_sign(payload=payload, keys=[key]).as_json()
    url = f"{EXT}/servers/{name.replace('/', '%2F')}/versions/1.0.0/attestations"
    with capture():
        response = client.post(url, data=json.dumps({"kind": "dsse", "content": envelope}),
                               content_type="application/json")
    assert response.status_code == 201, response.content


def listed(client: Client, **params: Any) -> dict[str, str]:
    """name -> status of what the catalog serves (read twice: the second read may be cached)."""
    bodies = []
    for _ in range(2):
        response = client.get("/c/vetted/v0.1/servers", {"limit": 100, **params})
        assert response.status_code == 200, response.content
        bodies.append(response.json())
    assert bodies[0] == bodies[1]
    return {i["server"]["name"]: i["_meta"][OFFICIAL]["status"] for i in bodies[0]["servers"]}


def cycle(capture: Callable[[], Any]) -> None:
    """One reconcile cycle, as Celery beat runs it."""
    with capture():
        catalogs_reconcile_task()


def set_policy(capture: Callable[[], Any], **fields: Any) -> None:
    policy = TrustPolicy.objects.get(slug="two")
    principals = fields.pop("principals", None)
    for field, value in fields.items():
        setattr(policy, field, value)
    with capture():
        services.policy_save(policy=policy, principals=principals, actor=ACTOR)


@pytest.fixture
def signed_a(client, world, keys, capture) -> dict[str, Any]:
    """a signed by alice and bob: listed."""
    for who in ("alice", "bob"):
        attest(client, capture, A, keys[who])
    cycle(capture)
    assert listed(client) == {A: "active"}
    return world


def test_grant_lists_a_version_once_its_policy_is_satisfied(client, world, keys, capture):
    assert listed(client) == {}
    attest(client, capture, A, keys["alice"])
    cycle(capture)
    assert listed(client) == {}  # one of two
    attest(client, capture, A, keys["bob"])
    cycle(capture)
    assert listed(client) == {A: "active"}


def test_a_new_principal_added_to_the_policy_lists_what_it_signed(client, world, keys, capture):
    attest(client, capture, B, keys["alice"])
    attest(client, capture, B, keys["dave"])  # nobody we know yet
    cycle(capture)
    assert listed(client) == {}
    with capture():
        dave = _principal("dave", keys["dave"])
    cycle(capture)
    assert listed(client) == {}  # dave is known now, but not in the policy
    set_policy(capture, principals=[*world.values(), dave])
    cycle(capture)
    assert listed(client) == {B: "active"}


def test_threshold_lowered_then_raised(client, world, keys, capture):
    attest(client, capture, C, keys["carol"])
    cycle(capture)
    assert listed(client) == {}
    set_policy(capture, threshold=1)
    cycle(capture)
    assert listed(client) == {C: "active"}
    set_policy(capture, threshold=2)
    assert listed(client) == {}  # at once, before any reconcile
    cycle(capture)
    assert listed(client) == {}
    assert listed(client, include_deleted="true") == {C: "deleted"}  # a tombstone for mirrors


def test_raising_the_threshold_above_the_signers_unlists(client, signed_a, capture):
    set_policy(capture, threshold=3)
    assert listed(client) == {}
    cycle(capture)
    assert listed(client) == {}


def test_deleting_a_signer_unlists_at_once(client, signed_a, capture):
    with capture():
        services.principal_delete(principal=signed_a["bob"], actor=ACTOR)
    assert listed(client) == {}
    cycle(capture)
    assert listed(client) == {}
    assert listed(client, include_deleted="true") == {A: "deleted"}


def test_rotating_a_signers_key_unlists_what_the_old_key_signed(client, signed_a, capture):
    bob = signed_a["bob"]
    bob.public_key_pem = dsse.public_key_pem(ed25519.Ed25519PrivateKey.generate())
    with capture():
        services.principal_save(principal=bob, actor=ACTOR)
    assert listed(client) == {}
    cycle(capture)
    assert listed(client) == {}


def test_removing_a_signer_from_the_policy_unlists_at_once(client, signed_a, capture):
    set_policy(capture, principals=[signed_a["alice"], signed_a["carol"]])
    assert listed(client) == {}
    cycle(capture)
    assert listed(client) == {}


def test_an_expiry_set_in_the_past_unlists_at_once(client, signed_a, capture):
    bob = signed_a["bob"]
    bob.expires_at = timezone.now() - timedelta(seconds=1)
    with capture():
        services.principal_save(principal=bob, actor=ACTOR)
    assert listed(client) == {}
    cycle(capture)
    assert listed(client) == {}


def test_expiry_by_time_passing_unlists_before_and_after_the_reconcile(
        client, world, keys, capture, clock):
    bob = world["bob"]
    bob.expires_at = timezone.now() + timedelta(minutes=10)
    with capture():
        services.principal_save(principal=bob, actor=ACTOR)
    for who in ("alice", "bob"):
        attest(client, capture, A, keys[who])
    for who in ("alice", "bob", "carol"):  # bob's expiry leaves two signers of b
        attest(client, capture, B, keys[who])
    cycle(capture)
    assert listed(client) == {A: "active", B: "active"}
    assert client.get("/c/vetted/v0.1/servers", {"limit": 100})["X-Cache"] == "HIT"
    clock.advance(timedelta(minutes=11))
    # Before any reconcile: neither the cached page nor the database serves it expired.
    assert client.get("/c/vetted/v0.1/servers", {"limit": 100})["X-Cache"] == "MISS"
    assert listed(client) == {B: "active"}
    detail = f"/c/vetted/v0.1/servers/{A.replace('/', '%2F')}/versions/1.0.0"
    assert client.get(detail).status_code == 404
    cycle(capture)
    assert listed(client) == {B: "active"}
    assert listed(client, include_deleted="true") == {A: "deleted", B: "active"}


def test_renewing_an_expired_signer_lists_again(client, world, keys, capture, clock):
    bob = world["bob"]
    bob.expires_at = timezone.now() + timedelta(minutes=10)
    with capture():
        services.principal_save(principal=bob, actor=ACTOR)
    for who in ("alice", "bob"):
        attest(client, capture, A, keys[who])
    cycle(capture)
    clock.advance(timedelta(minutes=11))
    cycle(capture)
    assert listed(client) == {}
    bob.refresh_from_db()
    bob.expires_at = timezone.now() + timedelta(days=30)
    with capture():
        services.principal_save(principal=bob, actor=ACTOR)
    cycle(capture)
    assert listed(client) == {A: "active"}


def test_deleting_the_policy_unlists_everything(client, signed_a, capture):
    with capture():
        TrustPolicy.objects.get(slug="two").delete()
    assert listed(client) == {}


def test_the_reconcile_schedules_itself_for_a_deadline_before_the_next_tick(
        client, world, keys, capture, monkeypatch):
    bob = world["bob"]
    bob.expires_at = timezone.now() + timedelta(seconds=20)
    with capture():
        services.principal_save(principal=bob, actor=ACTOR)
    for who in ("alice", "bob"):
        attest(client, capture, A, keys[who])
    [entry] = CatalogEntry.objects.filter(catalog__slug="vetted", state="included")
    assert entry.trust_until == bob.expires_at
    scheduled: list[Any] = []
    monkeypatch.setitem(catalogs_reconcile_task.app.conf, "task_always_eager", False)
    monkeypatch.setattr(catalogs_reconcile_task, "apply_async", lambda **kw: scheduled.append(kw))
    catalogs_reconcile_task()
    assert scheduled == [{"eta": bob.expires_at}]


def test_a_catalog_admitting_by_a_trust_rule_follows_too(client, signed_a, keys, capture, clock):
    admin = Api(client, prefix="")
    admin.token = bearer(["*"])
    with capture():
        response = admin.send("POST", f"{EXT}/catalogs", {"slug": "ruled", "default_action": "deny"})
        assert response.status_code == 201, response.content
        response = admin.send("PUT", f"{EXT}/catalogs/ruled/rules",
                              {"rules": [{"action": "allow", "trust_policy": "two"}]})
        assert response.status_code == 200, response.content
    served = lambda: {i["server"]["name"] for i in  # noqa: E731
                      client.get("/c/ruled/v0.1/servers").json()["servers"]}
    assert served() == {A}
    carol = signed_a["carol"]
    carol.expires_at = timezone.now() + timedelta(minutes=5)
    with capture():
        services.principal_save(principal=carol, actor=ACTOR)
    attest(client, capture, B, keys["alice"])
    attest(client, capture, B, keys["carol"])
    assert served() == {A, B}
    clock.advance(timedelta(minutes=6))
    assert served() == {A}  # carol expired: beta falls to the default action, at once
    with capture():
        services.principal_delete(principal=signed_a["alice"], actor=ACTOR)
    assert served() == set()


def test_deactivating_a_trust_root_unlists_what_its_identities_signed(client, world, keys,
                                                                        capture):
    fake, issuer = FakeSigstore(name="corp"), "https://idp.acme.example"
    workflow = "https://github.com/acme/audits/.github/workflows/review.yml@refs/heads/main"
    with capture():
        root = services.trust_root_save(root=TrustRoot(
            slug="corp", name="Corp", kind=TrustRoot.CUSTOM,
            trusted_root_json=fake.trusted_root_json()), actor=ACTOR)
        sec = services.principal_save(principal=Principal(
            slug="sec", display_name="Security", kind=Principal.SIGSTORE, trust_root=root,
            oidc_issuer=issuer, subject=workflow), actor=ACTOR)
    set_policy(capture, principals=[*world.values(), sec])
    attest(client, capture, A, keys["alice"])
    sv = ServerVersion.objects.get(name=A)
    bundle = fake.sign_dsse(statement_bytes_for(server_name=A, version="1.0.0", sha256=sv.digest),
                            identity=workflow, issuer=issuer)
    url = f"{EXT}/servers/{A.replace('/', '%2F')}/versions/1.0.0/attestations"
    with capture():
        response = client.post(url, data=json.dumps({"kind": "sigstore", "content": json.loads(bundle)}),
                               content_type="application/json")
    assert response.status_code == 201, response.content
    cycle(capture)
    assert listed(client) == {A: "active"}
    root.is_active = False
    with capture():
        services.trust_root_save(root=root, actor=ACTOR)
    assert listed(client) == {}
    cycle(capture)
    assert listed(client) == {}
