"""Upstream management through the API and the admin (the auth header is never shown back);
every curation admin write goes through a service and is audited."""

from __future__ import annotations

from typing import Any

import pytest

from curation.models import (
    Catalog,
    CatalogEntry,
    CatalogOverlay,
    ReservedNamespace,
    ReviewDecision,
    SyncConflict,
    Upstream,
)
from curation.services import catalogs as catalog_services
from curation.sync import upstream_sync
from registry.models import AuditEvent
from tests.support.api import Api
from tests.support.factories import CatalogFactory, ServerVersionFactory, UpstreamFactory, UserFactory
from tests.support.tokens import bearer

pytestmark = pytest.mark.django_db
EXT = "/v0.1/x/io.mcpindex"


@pytest.fixture
def admin_api(client) -> Api:
    api = Api(client, prefix="")
    api.token = bearer(["*"])
    return api


def test_upstream_api_hides_the_auth_header_and_records_runs(admin_api, fake_registry,
                                                             django_capture_on_commit_callbacks):
    created = admin_api.send("POST", f"{EXT}/upstreams",
                             {"name": "official", "base_url": fake_registry.url,
                              "auth_header": "Bearer top-secret", "interval_minutes": 30})
    assert created.status_code == 201, created.content
    assert "top-secret" not in created.content.decode()
    assert created.json()["has_auth_header"] is True
    fake_registry.required_auth = "Bearer top-secret"
    with django_capture_on_commit_callbacks(execute=True):
        queued = admin_api.send("POST", f"{EXT}/upstreams/official/sync", {"full": False})
    assert queued.status_code == 202
    detail = admin_api.get(f"{EXT}/upstreams/official")
    assert "top-secret" not in detail.content.decode()
    run = detail.json()["runs"][0]
    assert run["state"] == "succeeded" and run["created"] == len(fake_registry.entries)
    runs = admin_api.get(f"{EXT}/upstreams/official/runs").json()["runs"]
    assert runs[0]["pages"] == run["pages"] and "log" in runs[0]
    assert admin_api.get(f"{EXT}/upstreams/official/conflicts").json() == {"conflicts": []}


def test_upstream_api_validates_and_needs_an_admin(client, admin_api):
    bad = admin_api.send("POST", f"{EXT}/upstreams", {"name": "x", "base_url": "ftp://nope"})
    assert bad.status_code == 400 and bad["Content-Type"] == "application/problem+json"
    bad = admin_api.send("POST", f"{EXT}/upstreams", {"name": "x", "base_url": "https://a.example",
                                                      "page_size": 1000})
    assert bad.status_code == 400
    publisher = Api(client, prefix="")
    publisher.token = bearer(["io.github.acme/*"])
    assert publisher.get(f"{EXT}/upstreams").status_code == 403
    assert client.get(f"{EXT}/upstreams").status_code == 401


def test_admin_never_renders_the_auth_header(client, fake_registry):
    upstream = UpstreamFactory(base_url=fake_registry.url, auth_header="Bearer admin-secret")
    user = UserFactory(username="root", email="r@example.com", password="pw", superuser=True)
    client.force_login(user)
    page = client.get(f"/admin/curation/upstream/{upstream.pk}/change/")
    assert page.status_code == 200 and "admin-secret" not in page.content.decode()
    response = client.post(f"/admin/curation/upstream/{upstream.pk}/change/", {
        "name": "official", "base_url": fake_registry.url, "auth_header": "",
        "include_patterns": "[]", "exclude_patterns": "[]", "interval_minutes": 60,
        "priority": 100, "enabled": "on", "overlap_seconds": 300, "page_size": 100})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Upstream.objects.get().auth_header == "Bearer admin-secret"  # blank keeps it
    assert client.get("/admin/curation/syncrun/").status_code == 200
    assert client.get("/admin/curation/catalog/").status_code == 200


# --- every admin write goes through a curation service and is audited ---

ACTOR = "admin:admin"  # pytest-django's admin_client logs in as "admin"


def _events(**filters: Any) -> list[tuple[str, str]]:
    return [(e.action, e.target) for e in AuditEvent.objects.filter(**filters).order_by("id")]


def _inline(prefix: str, rows: list[dict[str, Any]], initial: int = 0) -> dict[str, Any]:
    """POST fields of an admin inline formset."""
    data: dict[str, Any] = {f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": initial,
                            f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000}
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{k}": v for k, v in row.items()})
    return data


def _catalog_form(rules: list[dict[str, Any]] = (), pins: list[dict[str, Any]] = (),
                  initial: tuple[int, int] = (0, 0), **fields: Any) -> dict[str, Any]:
    data = {"slug": "corp", "title": "", "description": "", "public": "on", "sources": "[]",
            "default_action": "allow", "review_mode": "automatic", "trust_policy": "", **fields}
    return {**data, **_inline("rules", list(rules), initial[0]),
            **_inline("pins", list(pins), initial[1])}


def _states(catalog: Catalog) -> dict[str, str]:
    return {f"{e.name}@{e.version}": e.state for e in CatalogEntry.objects.filter(catalog=catalog)}


@pytest.fixture
def versions() -> None:
    for name, version in (("io.github.acme/db", "1.0.0"), ("io.github.acme/db", "1.1.0"),
                          ("io.github.other/xtool", "1.0.0")):
        ServerVersionFactory(name=name, version=version)


def test_admin_creates_a_catalog_with_rules_and_pins_through_the_services(
        admin_client, versions, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/curation/catalog/add/", _catalog_form(
            title="Corp", rules=[{"position": 0, "action": "deny", "namespace": "io.github.other"}],
            pins=[{"name": "io.github.acme/db", "version": "1.0.0", "note": "known good"}]))
    assert response.status_code == 302, response.content.decode()[:3000]
    catalog = Catalog.objects.get(slug="corp")
    assert catalog.title == "Corp" and catalog.public and catalog.watermark_at is not None
    assert [(r.position, r.action, r.namespace) for r in catalog.rules.all()] == [
        (0, "deny", "io.github.other")]
    assert [(p.name, p.version, p.note) for p in catalog.pins.all()] == [
        ("io.github.acme/db", "1.0.0", "known good")]
    assert _events(actor=ACTOR) == [
        ("curation.catalog.created", "catalog:corp"),
        ("curation.catalog.rules_replaced", "catalog:corp"),
        ("curation.catalog.pinned", "catalog:corp:io.github.acme/db")]
    rules = AuditEvent.objects.get(action="curation.catalog.rules_replaced").data["rules"]
    assert rules == [{"action": "deny", "namespace": "io.github.other"}]
    assert _states(catalog) == {"io.github.acme/db@1.0.0": "included",
                                "io.github.acme/db@1.1.0": "excluded",
                                "io.github.other/xtool@1.0.0": "denied"}


def test_admin_changes_settings_rules_and_pins_through_the_services(
        admin_client, versions, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        catalog = CatalogFactory(slug="corp")
        catalog_services.catalog_rules_replace(
            catalog=catalog, rules=[{"action": "deny", "namespace": "io.github.other"}],
            actor="test")
        catalog_services.catalog_pin(catalog=catalog, name="io.github.acme/db", version="1.0.0",
                                     note="", actor="test")
    rule, pin = catalog.rules.get(), catalog.pins.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/curation/catalog/{catalog.pk}/change/", _catalog_form(
            slug="renamed", title="Corp",
            rules=[{"id": rule.pk, "position": 0, "action": "allow",
                    "namespace": "io.github.other"},
                   {"position": 1, "action": "deny", "name_pattern": "io.github.acme/*"}],
            pins=[{"id": pin.pk, "name": "io.github.acme/db", "version": "1.0.0", "DELETE": "on"}],
            initial=(1, 1)))
    assert response.status_code == 302, response.content.decode()[:3000]
    catalog.refresh_from_db()
    assert catalog.slug == "corp" and catalog.title == "Corp"  # the slug is read-only
    assert [(r.action, r.namespace, r.name_pattern) for r in catalog.rules.all()] == [
        ("allow", "io.github.other", ""), ("deny", "", "io.github.acme/*")]
    assert not catalog.pins.exists()
    assert _events(actor=ACTOR) == [
        ("curation.catalog.updated", "catalog:corp"),
        ("curation.catalog.rules_replaced", "catalog:corp"),
        ("curation.catalog.unpinned", "catalog:corp:io.github.acme/db")]
    assert AuditEvent.objects.get(action="curation.catalog.updated").data == {"title": "Corp"}
    assert _states(catalog) == {"io.github.acme/db@1.0.0": "denied",
                                "io.github.acme/db@1.1.0": "denied",
                                "io.github.other/xtool@1.0.0": "included"}
    unchanged = admin_client.post(f"/admin/curation/catalog/{catalog.pk}/change/", _catalog_form(
        title="Corp", rules=[{"id": r.pk, "position": r.position, "action": r.action,
                              "namespace": r.namespace, "name_pattern": r.name_pattern}
                             for r in catalog.rules.all()], initial=(2, 0)))
    assert unchanged.status_code == 302
    assert AuditEvent.objects.filter(actor=ACTOR).count() == 3  # nothing changed, nothing written


def test_admin_forms_use_the_services_validators(admin_client, versions):
    for form, error in [
        (_catalog_form(slug="all"), "lowercase slug other than"),
        (_catalog_form(rules=[{"position": 0, "action": "deny", "note": "n" * 201}]),
         "note must be a string"),
        (_catalog_form(pins=[{"name": "io.github.acme/db", "version": "9.9.9"}]),
         "io.github.acme/db has no version 9.9.9"),
    ]:
        response = admin_client.post("/admin/curation/catalog/add/", form)
        assert response.status_code == 200 and error in response.content.decode()
    assert not Catalog.objects.exists() and not AuditEvent.objects.filter(actor=ACTOR).exists()


def test_admin_deletes_catalogs_through_the_service(admin_client, versions,
                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        corp, a, b = (CatalogFactory(slug=s)
                      for s in ("corp", "a", "b"))
    assert CatalogEntry.objects.filter(catalog=corp).count() == 3
    response = admin_client.post(f"/admin/curation/catalog/{corp.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    response = admin_client.post("/admin/curation/catalog/", {
        "action": "delete_selected", "_selected_action": [a.pk, b.pk], "post": "yes"})
    assert response.status_code == 302
    assert not Catalog.objects.exists() and not CatalogEntry.objects.exists()
    assert sorted(_events(actor=ACTOR, action="curation.catalog.deleted")) == [
        ("curation.catalog.deleted", "catalog:a"), ("curation.catalog.deleted", "catalog:b"),
        ("curation.catalog.deleted", "catalog:corp")]


def test_admin_reserves_namespaces_through_the_service_and_syncs_respect_them(
        admin_client, fake_registry):
    reserved = sorted({k[0] for k in fake_registry.entries})[-1].split("/")[0]
    bad = admin_client.post("/admin/curation/reservednamespace/add/",
                            {"pattern": f"{reserved}/server", "reason": ""})
    assert bad.status_code == 200 and "a reserved namespace is a namespace" in bad.content.decode()
    response = admin_client.post("/admin/curation/reservednamespace/add/",
                                 {"pattern": f" {reserved} ", "reason": "ours"})
    assert response.status_code == 302
    row = ReservedNamespace.objects.get()
    assert (row.pattern, row.reason) == (reserved, "ours")
    target = f"reserved_namespace:{reserved}"
    assert _events(actor=ACTOR) == [("curation.reserved_namespace.added", target)]
    UpstreamFactory(base_url=fake_registry.url)
    report = upstream_sync(upstream=Upstream.objects.get())
    refused = {k for k in fake_registry.entries if k[0].split("/")[0] == reserved}
    assert refused and report.conflicts == len(refused)
    assert {(c.name, c.version) for c in SyncConflict.objects.all()} == refused
    response = admin_client.post(f"/admin/curation/reservednamespace/{row.pk}/change/",
                                 {"pattern": "ignored", "reason": "still ours"})
    assert response.status_code == 302
    assert ReservedNamespace.objects.get().reason == "still ours"
    response = admin_client.post(f"/admin/curation/reservednamespace/{row.pk}/delete/",
                                 {"post": "yes"})
    assert response.status_code == 302 and not ReservedNamespace.objects.exists()
    assert _events(actor=ACTOR) == [("curation.reserved_namespace.added", target),
                                    ("curation.reserved_namespace.updated", target),
                                    ("curation.reserved_namespace.removed", target)]


def test_admin_manages_upstreams_through_the_services(admin_client):
    form = {"name": "partner", "base_url": "https://partner.example/v0.1/",
            "auth_header": "Bearer s3cret", "include_patterns": "[]", "exclude_patterns": "[]",
            "interval_minutes": 60, "priority": 100, "enabled": "on", "overlap_seconds": 300,
            "page_size": 100}
    bad = admin_client.post("/admin/curation/upstream/add/", {**form, "name": "local"})
    assert bad.status_code == 200 and "not &#x27;local&#x27;" in bad.content.decode()
    assert admin_client.post("/admin/curation/upstream/add/", form).status_code == 302
    upstream = Upstream.objects.get()
    assert (upstream.base_url, upstream.auth_header) == ("https://partner.example/v0.1",
                                                         "Bearer s3cret")
    response = admin_client.post(f"/admin/curation/upstream/{upstream.pk}/change/",
                                 {**form, "auth_header": "", "interval_minutes": 30})
    assert response.status_code == 302
    upstream.refresh_from_db()
    assert (upstream.interval_minutes, upstream.auth_header) == (30, "Bearer s3cret")
    assert admin_client.post(f"/admin/curation/upstream/{upstream.pk}/delete/",
                             {"post": "yes"}).status_code == 302
    assert not Upstream.objects.exists()
    events = list(AuditEvent.objects.filter(actor=ACTOR).order_by("id"))
    assert [(e.action, e.target) for e in events] == [
        ("curation.upstream.created", "upstream:partner"),
        ("curation.upstream.updated", "upstream:partner"),
        ("curation.upstream.deleted", "upstream:partner")]
    assert events[0].data["auth_header"] == "<set>"
    assert events[1].data == {"interval_minutes": 30}  # only what changed; the secret is kept
    assert "s3cret" not in str([e.data for e in events])


def test_admin_annotates_through_the_services(admin_client, versions,
                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        catalog = CatalogFactory(slug="corp")
    form = {"catalog": catalog.pk, "name": "io.github.acme/db", "tags": '["database"]',
            "notes": "fine", "featured": "on", "install_notes": ""}
    bad = admin_client.post("/admin/curation/catalogoverlay/add/", {**form, "tags": '["' + "t" * 51 + '"]'})
    assert bad.status_code == 200 and "tags must be a list" in bad.content.decode()
    before = CatalogEntry.objects.get(catalog=catalog, version="1.1.0").updated_at
    assert admin_client.post("/admin/curation/catalogoverlay/add/", form).status_code == 302
    overlay = CatalogOverlay.objects.get()
    assert (overlay.tags, overlay.featured) == (["database"], True)
    assert CatalogEntry.objects.get(catalog=catalog, version="1.1.0").updated_at > before
    response = admin_client.post(f"/admin/curation/catalogoverlay/{overlay.pk}/change/",
                                 {**form, "featured": ""})
    assert response.status_code == 302 and not CatalogOverlay.objects.get().featured
    assert admin_client.post(f"/admin/curation/catalogoverlay/{overlay.pk}/delete/",
                             {"post": "yes"}).status_code == 302
    assert not CatalogOverlay.objects.exists()
    target = "catalog:corp:io.github.acme/db"
    assert _events(actor=ACTOR) == [("curation.catalog.annotated", target),
                                    ("curation.catalog.annotated", target),
                                    ("curation.catalog.annotation_removed", target)]


def test_admin_review_decisions_go_through_review_decide(admin_client, versions,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        catalog = catalog_services.catalog_create(slug="corp", fields={
            "review_mode": "every_version"}, actor="test")
    assert set(_states(catalog).values()) == {"pending"}
    response = admin_client.post("/admin/curation/reviewdecision/add/", {
        "catalog": catalog.pk, "name": "io.github.acme/db", "version": "1.0.0",
        "verdict": "approve", "reason": "audited"})
    assert response.status_code == 302, response.content.decode()[:2000]
    decision = ReviewDecision.objects.get()
    assert (decision.decided_by, decision.reason) == (ACTOR, "audited")
    missing = admin_client.post("/admin/curation/reviewdecision/add/", {
        "catalog": catalog.pk, "name": "io.github.nobody/x", "verdict": "reject"}, follow=True)
    assert "o.github.nobody/x is not a candidate of catalog corp" in missing.content.decode()
    assert ReviewDecision.objects.count() == 1
    entries = CatalogEntry.objects.filter(catalog=catalog, name="io.github.acme/db",
                                          version="1.1.0")
    response = admin_client.post("/admin/curation/catalogentry/", {
        "action": "reject", "_selected_action": [e.pk for e in entries]})
    assert response.status_code == 302
    assert _states(catalog) == {"io.github.acme/db@1.0.0": "included",
                                "io.github.acme/db@1.1.0": "rejected",
                                "io.github.other/xtool@1.0.0": "pending"}
    assert _events(actor=ACTOR) == [
        ("curation.review.approved", "catalog:corp:io.github.acme/db@1.0.0"),
        ("curation.review.rejected", "catalog:corp:io.github.acme/db@1.1.0")]


def test_computed_and_recorded_curation_rows_are_read_only(admin_client, versions,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        catalog = CatalogFactory(slug="corp")
    entry = CatalogEntry.objects.filter(catalog=catalog).first()
    decision = catalog_services.review_decide(catalog=catalog, name=entry.name,
                                              version=entry.version, approve=True, reason="",
                                              include_future=False, actor="test")[0]
    for path in (f"catalogentry/{entry.pk}", f"reviewdecision/{decision.pk}"):
        assert admin_client.get(f"/admin/curation/{path}/change/").status_code == 200  # view
        assert admin_client.post(f"/admin/curation/{path}/change/", {}).status_code == 403
        assert admin_client.post(f"/admin/curation/{path}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/curation/catalogentry/add/").status_code == 403
    assert admin_client.get("/admin/curation/syncrun/add/").status_code == 403
    assert admin_client.get("/admin/curation/syncconflict/add/").status_code == 403
    assert CatalogEntry.objects.filter(pk=entry.pk).exists()
    assert ReviewDecision.objects.filter(pk=decision.pk).exists()
