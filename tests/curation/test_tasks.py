"""Tasks: due upstreams on beat, catalogs following syncs, the trust-policy hook, idempotence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from curation import trust
from curation.models import Catalog, CatalogEntry, Upstream
from curation.services.membership import catalog_rebuild, catalogs_reconcile
from curation.tasks import catalog_rebuild_task, upstream_sync_task, upstreams_sync_due_task
from registry.models import ServerVersion
from signing.models import TrustPolicy
from tests.support.factories import CatalogFactory, UpstreamFactory

pytestmark = pytest.mark.django_db


def test_beat_syncs_due_upstreams_and_catalogs_follow(fake_registry,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        CatalogFactory(slug="corp")
    due = UpstreamFactory(base_url=fake_registry.url)
    recent = UpstreamFactory(base_url=fake_registry.url, name="recent", enabled=True, interval_minutes=60)
    Upstream.objects.filter(pk=recent.pk).update(last_sync_at=timezone.now())
    UpstreamFactory(base_url=fake_registry.url, name="off", enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert upstreams_sync_due_task() == [due.pk]
    assert ServerVersion.objects.filter(origin="official").count() == len(fake_registry.entries)
    included = CatalogEntry.objects.filter(catalog__slug="corp", state="included").count()
    assert included == len(fake_registry.entries)  # the reconcile ran after the sync committed
    Upstream.objects.filter(pk=due.pk).update(last_sync_at=timezone.now() - timedelta(hours=2))
    assert upstream_sync_task(Upstream.objects.get(name="off").pk) == "skipped: no such enabled upstream"


def test_rebuild_and_reconcile_are_idempotent(fake_registry, django_capture_on_commit_callbacks):
    UpstreamFactory(base_url=fake_registry.url)
    upstream_sync_task(Upstream.objects.get().pk)
    with django_capture_on_commit_callbacks(execute=True):
        catalog = CatalogFactory(slug="corp")
    before = list(CatalogEntry.objects.order_by("pk").values_list("pk", "updated_at", "is_latest"))
    catalog_rebuild_task(catalog.pk)
    catalogs_reconcile()
    after = list(CatalogEntry.objects.order_by("pk").values_list("pk", "updated_at", "is_latest"))
    assert before == after  # nothing visible changed, so no timestamp moved
    assert catalog_rebuild_task(10**9) == "skipped: no such catalog"


def test_trust_policy_hook(fake_registry, monkeypatch, django_capture_on_commit_callbacks):
    UpstreamFactory(base_url=fake_registry.url)
    upstream_sync_task(Upstream.objects.get().pk)
    TrustPolicy.objects.create(slug="two-reviewers", title="2 of 3", threshold=2)
    vouched = set(ServerVersion.objects.order_by("pk").values_list("pk", flat=True)[:5])
    calls = []

    def fake_satisfying(*, policy, version_ids):
        calls.append(policy.slug)
        return vouched & set(version_ids)

    monkeypatch.setattr(trust, "versions_satisfying", fake_satisfying)
    catalog = Catalog.objects.create(slug="trusted", trust_policy="two-reviewers")
    catalog_rebuild(catalog=catalog)
    included = set(CatalogEntry.objects.filter(catalog=catalog, state="included")
                   .values_list("server_version_id", flat=True))
    assert included == vouched and calls == ["two-reviewers"]
    assert CatalogEntry.objects.filter(catalog=catalog, state="untrusted").exists()
    rules = Catalog.objects.create(slug="rules", default_action="deny")
    rules.rules.create(position=0, action="allow", trust_policy="two-reviewers")
    catalog_rebuild(catalog=rules)
    assert set(CatalogEntry.objects.filter(catalog=rules, state="included")
               .values_list("server_version_id", flat=True)) == vouched
