"""Fixtures for the read API, through the real services: a verified attestation on a version,
a mixed registry (`mixed`) and a catalog of it with an overlay and a pin (`corp`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from curation.models import CatalogOverlay
from curation.selectors import CatalogRef, catalog_resolve
from curation.services.catalogs import catalog_overlay_set, catalog_pin
from mcp_index_common import dsse
from mcp_index_common.statements import statement_bytes_for
from registry.models import ServerVersion
from registry.services import version_ingest, version_set_status
from signing import services as signing_services
from tests.support.data import SNAPSHOT, load_json
from tests.support.factories import CatalogFactory, KeyPrincipalFactory, ServerVersionFactory


@pytest.fixture
def sign(django_capture_on_commit_callbacks) -> Callable[[ServerVersion], None]:
    """Give a version a verified DSSE attestation by a known principal (`sec`)."""
    key = ed25519.Ed25519PrivateKey.generate()
    with django_capture_on_commit_callbacks(execute=True):
        KeyPrincipalFactory(slug="sec", display_name="Security", key=key)

    def _sign(sv: ServerVersion) -> None:
        payload = statement_bytes_for(server_name=sv.name, version=sv.version, sha256=sv.digest)
        envelope = dsse.envelope_sign(payload=payload, keys=[key]).as_json()
        with django_capture_on_commit_callbacks(execute=True):
            signing_services.attestation_submit(version=sv, kind="dsse",
                                                content=json.dumps(envelope).encode(),
                                                submitted_by="test")

    return _sign


@pytest.fixture
def mixed(sign: Callable[[ServerVersion], None]) -> None:
    """Mirrored entries (upstream `_meta`, deleted and deprecated ones), local publishes,
    status messages, a signed version, and timestamps with and without trailing zeros in
    the fraction."""
    for entry in load_json(SNAPSHOT)[:300]:
        version_ingest(entry=entry, origin="official")
    for version in ["1.0.0", "1.1.0", "2.0.0-rc.1"]:
        ServerVersionFactory(name="io.github.acme/db", version=version, actor="t")
    version_set_status(name="io.github.acme/db", version="1.0.0", status="deprecated",
                       message="use 1.1", actor="t")
    sign(ServerVersion.objects.get(name="io.github.acme/db", version="1.1.0"))
    stamps = [datetime(2025, 1, 2, 3, 4, 5, 0, tzinfo=UTC),
              datetime(2025, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
              datetime(2025, 1, 2, 3, 4, 5, 7, tzinfo=UTC)]
    for sv, when in zip(ServerVersion.objects.filter(name="io.github.acme/db"), stamps, strict=True):
        ServerVersion.objects.filter(pk=sv.pk).update(published_at=when, updated_at=when,
                                                      status_changed_at=when)


@pytest.fixture
def corp(mixed, django_capture_on_commit_callbacks) -> CatalogRef:
    """A catalog of everything with an overlay of acme/db and a pin of its 1.1.0 (so its other
    versions left the catalog and are served as deleted there)."""
    with django_capture_on_commit_callbacks(execute=True):
        catalog = CatalogFactory(slug="corp", actor="t")
    catalog_overlay_set(catalog=catalog, name="io.github.acme/db", tags=["db"], notes="n",
                        featured=True, install_notes="", actor="t")
    catalog_pin(catalog=catalog, name="io.github.acme/db", version="1.1.0", note="", actor="t")
    assert CatalogOverlay.objects.exists()
    return catalog_resolve("corp")
