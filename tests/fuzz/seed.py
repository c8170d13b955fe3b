"""What the fuzz suite and the API document's contract test run against: one of everything
the examples in apidocs/openapi/*.yaml name, made through the services as a user would."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ed25519
from django.db import connection, transaction
from django.db.backends.base.creation import TEST_DATABASE_PREFIX

from curation.models import Catalog, CatalogOverlay, CatalogPin, Upstream
from curation.services.feeds import feed_create
from curation.services.membership import catalog_rebuild
from mcp_index_common import dsse
from mcp_index_common.statements import statement_bytes_for
from registry import services as registry_services
from registry.auth.jwt import issue_token
from registry.auth.permissions import EDIT, PUBLISH, Permission
from registry.models import ServerVersion
from signing import services as signing_services
from signing.models import Principal, TrustPolicy, TrustRoot
from tests.support.manifests import manifest

ACTOR = "fuzz:seed"
SERVER = "io.github.acme/weather"  # the examples in apidocs/openapi/*.yaml name these
POLICY = "two-signers"
UPSTREAM = "official"
PRINCIPAL = "alice"
TRUST_ROOT = "public"  # used by the sigstore principal `ci`
SPARE_TRUST_ROOT = "staging"  # used by nobody
PUBLIC_CATALOG = "featured"
PRIVATE_CATALOG = "private"
CLOSED_PORT_URL = "http://127.0.0.1:9"  # discard: nothing listens, connections are refused

# What the server may not do while fuzzed: wait on the network or lock the fuzzer out.
SERVER_SETTINGS = {
    "MCP_INDEX_RATE_LIMIT_AUTH_FAILURES": "100000/m",
    "MCP_INDEX_ANONYMOUS_AUTH": True,
    "MCP_INDEX_PROOF_DNS_NAMESERVERS": ["127.0.0.1:9"],
    "MCP_INDEX_PROOF_DNS_TIMEOUT_SECONDS": 1,
    "MCP_INDEX_PROOF_HTTP_TIMEOUT_SECONDS": 1,
    "MCP_INDEX_PROOF_FETCH_TIMEOUT_SECONDS": 1,
    "MCP_INDEX_GITHUB_API_URL": CLOSED_PORT_URL,
    "MCP_INDEX_GITHUB_OIDC_ISSUER": CLOSED_PORT_URL,
    "MCP_INDEX_SYNC_TIMEOUT_SECONDS": 1,
    "MCP_INDEX_SYNC_RETRIES": 0,
    "MCP_INDEX_SYNC_BACKOFF_SECONDS": 0,
    "MCP_INDEX_SYNC_MAX_WAIT_SECONDS": 1,
    # The registry as a resource server: its metadata served, a token naming this issuer
    # refused at once (nothing listens there).
    "MCP_INDEX_OAUTH_ISSUER": CLOSED_PORT_URL,
}


@dataclass
class Seeded:
    """What seed() made, for the tests that aim at it."""

    token_id: int
    feed_id: int = 0
    feed_secret: str = ""
    versions: list[str] = field(default_factory=lambda: ["1.0.0", "1.1.0"])


def path_slug(path: str) -> str:
    """The seeded object a `{slug}` in `path` names (catalogs unless the path says otherwise)."""
    for part, slug in (("/policies/", POLICY), ("/principals/", PRINCIPAL),
                       ("/trust-roots/", TRUST_ROOT)):
        if part in path:
            return slug
    return PUBLIC_CATALOG


def admin_token() -> str:
    """A global admin JWT (publish and edit on `*`) that outlives the run."""
    perms = [Permission(PUBLISH, "*"), Permission(EDIT, "*")]
    return issue_token(auth_method="fuzz", subject="admin", permissions=perms,
                       ttl=24 * 3600).registry_token


def is_test_database() -> bool:
    """Is the default connection on a test database (what Django's test setup switches to)?"""
    name, test = connection.settings_dict["NAME"], connection.settings_dict.get("TEST", {})
    return bool(name == test["NAME"] if test.get("NAME") else name.startswith(TEST_DATABASE_PREFIX))


def empty_database() -> None:
    """Delete every row the apps hold, fast: one transaction, constraint checks deferred to
    its end (Django's foreign keys are DEFERRABLE), no TRUNCATE and no post_migrate. Only
    ever in the test database."""
    if not is_test_database():
        raise RuntimeError(f"refusing to empty {connection.settings_dict['NAME']}: not a test database")
    keep = {"django_content_type", "auth_permission"}
    tables = [t for t in connection.introspection.django_table_names(only_existing=True)
              if t not in keep]
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")


def seed() -> Seeded:
    for version in ("1.0.0", "1.1.0"):
        registry_services.version_publish(
            document=manifest(SERVER, version, title="Weather",
                              remotes=[{"type": "streamable-http",
                                        "url": f"https://weather.example/{version}/mcp"}]),
            actor=ACTOR)
    key = ed25519.Ed25519PrivateKey.generate()
    alice = signing_services.principal_save(
        principal=Principal(slug=PRINCIPAL, display_name="Alice", kind=Principal.KEY,
                            public_key_pem=dsse.public_key_pem(key)), actor=ACTOR)
    for slug in (TRUST_ROOT, SPARE_TRUST_ROOT):
        signing_services.trust_root_save(
            root=TrustRoot(slug=slug, name=slug.title(), kind=TrustRoot.PRODUCTION), actor=ACTOR)
    signing_services.principal_save(principal=Principal(
        slug="ci", display_name="Release workflow", kind=Principal.SIGSTORE,
        oidc_issuer="https://token.actions.githubusercontent.com",
        subject="https://github.com/acme/weather/.github/workflows/release.yml@refs/heads/main",
        trust_root=TrustRoot.objects.get(slug=TRUST_ROOT)), actor=ACTOR)
    signing_services.policy_save(policy=TrustPolicy(slug=POLICY, title="One signer", threshold=1),
                                 principals=[alice], actor=ACTOR)
    sv = ServerVersion.objects.get(name=SERVER, version="1.0.0")
    payload = statement_bytes_for(server_name=sv.name, version=sv.version, sha256=sv.digest)
    envelope = dsse.envelope_sign(payload=payload, keys=[key]).as_json()
    signing_services.attestation_submit(version=sv, kind="dsse",
                                        content=json.dumps(envelope).encode(), submitted_by=ACTOR)
    Upstream.objects.create(name=UPSTREAM, base_url=f"{CLOSED_PORT_URL}/v0.1")
    featured = Catalog.objects.create(slug=PUBLIC_CATALOG, title="Featured", public=True)
    CatalogPin.objects.create(catalog=featured, name=SERVER, version="1.0.0", note="pinned")
    CatalogOverlay.objects.create(catalog=featured, name=SERVER, tags=["weather"], notes="ok",
                                  featured=True, install_notes="")
    private = Catalog.objects.create(slug=PRIVATE_CATALOG, title="Private", public=False,
                                     review_mode="every_version")
    for catalog in (featured, private):
        catalog_rebuild(catalog=catalog)
    token = registry_services.token_create(name="seed", patterns=["io.github.acme/*"],
                                           actor="fuzz:admin")
    feed = feed_create(catalog=featured, name="seeded", actor="fuzz:admin")
    return Seeded(token_id=token.token.pk, feed_id=feed.feed.pk, feed_secret=feed.secret)
