"""factory_boy factories for the core models.

Rows that a service owns are made by that service, so they are what the product would store:
a published version has the digest, canonical manifest text, search text and latest flags of
`version_publish`, a catalog is built by `catalog_create`, a principal is validated by
`principal_save`. These factories only *create* (`Factory(...)`); `build()` is not supported
for the service-backed ones. Rows without a service (upstreams, sync runs, users) are plain
model factories.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import factory
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.conf import settings

from curation.models import Catalog, SyncRun, Upstream
from curation.services.catalogs import catalog_create
from mcp_index_common import dsse
from registry import services as registry_services
from registry.models import ServerVersion
from signing import services as signing_services
from signing.models import Principal, TrustPolicy
from tests.support.manifests import manifest, server_doc

OFFICIAL = "io.modelcontextprotocol.registry/official"
# Imported versions are published an hour apart from here (ImportedVersionFactory).
BASE_TIME = datetime(2025, 10, 1, tzinfo=UTC)


class ServerVersionFactory(factory.django.DjangoModelFactory):
    """A version published as `POST /v0/publish` publishes it (registry.services.version_publish).

    Keyword arguments other than name, version and actor become fields of the server.json
    (title, description, packages, remotes, ...)."""

    class Meta:
        model = ServerVersion

    name = factory.Sequence(lambda n: f"io.github.acme/server-{n}")
    version = "1.0.0"
    actor = "test"

    @classmethod
    def _create(cls, model_class: type[ServerVersion], *, name: str, version: str, actor: str,
                **fields: Any) -> ServerVersion:
        result = registry_services.version_publish(document=manifest(name, version, **fields),
                                                   actor=actor)
        assert result.version is not None, result  # None only for an idempotent replay
        return result.version


class ImportedVersionFactory(factory.django.DjangoModelFactory):
    """A version stored as an import or an upstream sync stores it (version_ingest): the
    official `_meta` (status, publishedAt) kept, invalid manifests kept with their issues.

    Each one is published an hour after the previous one, from BASE_TIME + 1 h; call
    `reset_sequence()` to start again there. Other keyword arguments become manifest fields."""

    class Meta:
        model = ServerVersion

    name = factory.Sequence(lambda n: f"io.github.acme/imported-{n}")
    version = "1.0.0"
    status = "active"
    origin = "local"
    published_at = factory.Sequence(lambda n: BASE_TIME + timedelta(hours=n + 1))

    @classmethod
    def _create(cls, model_class: type[ServerVersion], *, name: str, version: str, status: str,
                origin: str, published_at: datetime, **fields: Any) -> ServerVersion:
        stamp = published_at.isoformat().replace("+00:00", "Z")
        entry = {"server": server_doc(name, version, **fields),
                 "_meta": {OFFICIAL: {"status": status, "publishedAt": stamp, "updatedAt": stamp}}}
        outcome = registry_services.version_ingest(entry=entry, origin=origin)
        assert outcome.action == "created", outcome
        return ServerVersion.objects.get(name=name, version=version)


class CatalogFactory(factory.django.DjangoModelFactory):
    """A catalog made by curation's catalog_create; other keyword arguments are its fields
    (title, public, default_action, review_mode, trust_policy, ...)."""

    class Meta:
        model = Catalog

    slug = factory.Sequence(lambda n: f"catalog-{n}")
    actor = "test"

    @classmethod
    def _create(cls, model_class: type[Catalog], *, slug: str, actor: str, **fields: Any) -> Catalog:
        return catalog_create(slug=slug, fields=fields, actor=actor)


class UpstreamFactory(factory.django.DjangoModelFactory):
    """An upstream registry to mirror; named "official" (its versions' origin) unless told."""

    class Meta:
        model = Upstream

    name = "official"
    base_url = "http://127.0.0.1:9/v0.1"  # the discard port: nothing answers


class SyncRunFactory(factory.django.DjangoModelFactory):
    """One sync of an upstream (running unless given a state)."""

    class Meta:
        model = SyncRun

    upstream = factory.SubFactory(UpstreamFactory)
    mode = "incremental"


class KeyPrincipalFactory(factory.django.DjangoModelFactory):
    """A principal identified by a public key (DSSE), saved by signing's principal_save.

    `key` is the private key whose public half it holds (a new Ed25519 key by default)."""

    class Meta:
        model = Principal

    slug = factory.Sequence(lambda n: f"signer-{n}")
    display_name = factory.LazyAttribute(lambda o: o.slug.title())
    key = factory.LazyFunction(ed25519.Ed25519PrivateKey.generate)
    actor = "test:admin"

    @classmethod
    def _create(cls, model_class: type[Principal], *, key: Any, actor: str, **fields: Any
                ) -> Principal:
        principal = model_class(kind=Principal.KEY, public_key_pem=dsse.public_key_pem(key), **fields)
        return signing_services.principal_save(principal=principal, actor=actor)


class TrustPolicyFactory(factory.django.DjangoModelFactory):
    """A k-of-n trust policy saved by signing's policy_save over `principals`."""

    class Meta:
        model = TrustPolicy

    slug = factory.Sequence(lambda n: f"policy-{n}")
    title = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    threshold = 1
    principals = ()
    actor = "test:admin"

    @classmethod
    def _create(cls, model_class: type[TrustPolicy], *, principals: Any, actor: str,
                **fields: Any) -> TrustPolicy:
        return signing_services.policy_save(policy=model_class(**fields), principals=list(principals),
                                            actor=actor)


class UserFactory(factory.django.DjangoModelFactory):
    """A site user with a (hashed) password; `superuser=True` for an admin."""

    class Meta:
        model = settings.AUTH_USER_MODEL

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct horse battery")

    class Params:
        superuser = factory.Trait(is_staff=True, is_superuser=True)
