"""The Django admin lists and opens every registry model for staff; its writes go
through the services (audited), records only the system writes are read-only."""

from __future__ import annotations

import json

import pytest
from django.contrib.admin import site
from django.urls import reverse

from registry.admin import ReadOnlyAdmin, ServiceAdmin
from registry.models import ApiToken, AuditEvent, IdempotencyRecord, RemoteUrl, ServerVersion
from registry.services import token_create
from tests.support.manifests import manifest

pytestmark = pytest.mark.django_db

MODELS = ["serverversion", "remoteurl", "apitoken", "auditevent", "idempotencyrecord"]


@pytest.mark.parametrize("model", MODELS)
def test_changelists_load(admin_client, publish, model):
    publish("io.github.acme/db", "1.0.0", remotes=[{"type": "sse", "url": "https://a.example/s"}])
    response = admin_client.get(reverse(f"admin:registry_{model}_changelist"))
    assert response.status_code == 200


def test_admin_creates_a_token_and_shows_the_secret_once(admin_client):
    response = admin_client.post(reverse("admin:registry_apitoken_add"), {
        "name": "ci", "patterns": '["com.acme/*"]', "scopes": "[]"}, follow=True)
    assert response.status_code == 200
    token = ApiToken.objects.get()
    messages = [str(m) for m in response.context["messages"]]
    secret = next(m.split(": ")[-1] for m in messages if "mcpi_" in m)
    assert token.patterns == ["com.acme/*"]
    assert token.token_hash != secret and len(token.token_hash) == 64


# --- every admin write goes through a service and is audited ---

ACTOR = "admin:admin"  # pytest-django's admin_client logs in as "admin"
DB = "io.github.acme/db"


def test_every_admin_of_our_models_writes_through_services_or_not_at_all(admin_user, rf):
    request = rf.get("/admin/")
    request.user = admin_user
    ours = {m: a for m, a in site._registry.items()
            if m._meta.app_label in ("registry", "curation", "signing")}
    assert len(ours) >= 17
    for model, model_admin in ours.items():
        assert isinstance(model_admin, ServiceAdmin | ReadOnlyAdmin), model
        writes = (model_admin.has_add_permission(request)
                  or model_admin.has_change_permission(request))
        if isinstance(model_admin, ReadOnlyAdmin):
            assert not writes and not model_admin.has_delete_permission(request), model
            continue
        cls = type(model_admin)
        # ServiceAdmin's own save_model/delete_model refuse: a writable admin overrides them.
        assert not writes or cls.save_model is not ServiceAdmin.save_model, model
        assert (not model_admin.has_delete_permission(request)
                or cls.delete_model is not ServiceAdmin.delete_model), model
        assert not model_admin.get_inlines(request, None) or (
            cls.save_formset is not ServiceAdmin.save_formset), model


def _version_form(doc: dict, status: str = "active", message: str = "") -> dict:
    return {"manifest": json.dumps(doc), "status": status, "status_message": message}


def test_admin_changes_a_status_through_the_service(admin_client, publish):
    publish(DB, "1.0.0")
    publish(DB, "1.1.0")
    sv = ServerVersion.objects.get(name=DB, version="1.1.0")
    assert sv.is_latest
    response = admin_client.post(f"/admin/registry/serverversion/{sv.pk}/change/",
                                 _version_form(sv.manifest, "deleted", "withdrawn"))
    assert response.status_code == 302, response.content.decode()[:2000]
    sv.refresh_from_db()
    assert (sv.status, sv.status_message, sv.is_latest) == ("deleted", "withdrawn", False)
    assert ServerVersion.objects.get(name=DB, version="1.0.0").is_latest  # recomputed
    event = AuditEvent.objects.get(actor=ACTOR)
    assert (event.action, event.target, event.data) == (
        "registry.version.status_changed", f"{DB}@1.1.0",
        {"status": "deleted", "message": "withdrawn"})


def test_admin_edits_a_manifest_through_the_service(admin_client, publish):
    publish(DB, "1.0.0", remotes=[{"type": "sse", "url": "https://a.example/s"}])
    sv = ServerVersion.objects.get()
    doc = {**sv.manifest, "description": "Edited in the admin",
           "remotes": [{"type": "sse", "url": "https://b.example/s"}]}
    response = admin_client.post(f"/admin/registry/serverversion/{sv.pk}/change/",
                                 _version_form(doc))
    assert response.status_code == 302, response.content.decode()[:2000]
    edited = ServerVersion.objects.get()
    assert json.loads(edited.manifest_text)["description"] == "Edited in the admin"
    assert edited.digest != sv.digest and edited.description == "Edited in the admin"
    assert list(RemoteUrl.objects.values_list("url", flat=True)) == ["https://b.example/s"]
    event = AuditEvent.objects.get(actor=ACTOR)
    assert (event.action, event.data) == ("registry.version.edited",
                                          {"digest_before": sv.digest, "digest_after": edited.digest})


def test_admin_shows_a_service_refusal_and_changes_nothing(admin_client, publish):
    publish(DB, "1.0.0")
    sv = ServerVersion.objects.get()
    for form, error in [
        (_version_form({**sv.manifest, "version": "2.0.0"}), "must match URL path parameter"),
        (_version_form(sv.manifest, "active", "a message"), "tatusMessage cannot be provided"),  # capitalised
    ]:
        response = admin_client.post(f"/admin/registry/serverversion/{sv.pk}/change/", form,
                                     follow=True)
        assert error in response.content.decode()
    assert ServerVersion.objects.get().manifest_text == sv.manifest_text
    assert not AuditEvent.objects.filter(actor=ACTOR).exists()


def test_versions_are_neither_added_nor_deleted_in_the_admin(admin_client, publish):
    publish(DB, "1.0.0")
    sv = ServerVersion.objects.get()
    assert admin_client.get(reverse("admin:registry_serverversion_add")).status_code == 403
    assert admin_client.post(f"/admin/registry/serverversion/{sv.pk}/delete/",
                             {"post": "yes"}).status_code == 403
    assert ServerVersion.objects.filter(pk=sv.pk).exists()


def test_admin_changes_and_deletes_tokens_through_the_services(admin_client):
    tokens = [token_create(name=n, patterns=["com.acme/*"], actor="test").token
              for n in ("ci", "old", "older")]
    ci = tokens[0]
    response = admin_client.post(f"/admin/registry/apitoken/{ci.pk}/change/", {
        "name": "ci", "patterns": '["com.acme/*", "com.acme.tools/*"]', "scopes": "[]",
        "can_edit": "on", "revoked_at": "2020-01-01"})
    assert response.status_code == 302, response.content.decode()[:2000]
    ci.refresh_from_db()
    assert (ci.patterns, ci.can_edit, ci.revoked_at) == (["com.acme/*", "com.acme.tools/*"], True,
                                                         None)  # revoking is an action
    empty = admin_client.post(f"/admin/registry/apitoken/{ci.pk}/change/", {
        "name": "ci", "patterns": '[" "]', "scopes": "[]"}, follow=True)
    assert "needs at least one name pattern or scope" in empty.content.decode()
    response = admin_client.post(reverse("admin:registry_apitoken_changelist"), {
        "action": "revoke", "_selected_action": [ci.pk]})
    assert response.status_code == 302
    assert admin_client.post(f"/admin/registry/apitoken/{tokens[1].pk}/delete/",
                             {"post": "yes"}).status_code == 302
    response = admin_client.post(reverse("admin:registry_apitoken_changelist"), {
        "action": "delete_selected", "_selected_action": [tokens[2].pk], "post": "yes"})
    assert response.status_code == 302
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["ci"]
    assert ApiToken.objects.get().revoked_at is not None
    events = [(e.action, e.target, e.data) for e in AuditEvent.objects.filter(actor=ACTOR)
              .order_by("id")]
    assert events == [
        ("registry.token.updated", f"token:{ci.pk}",
         {"can_edit": True, "patterns": ["com.acme/*", "com.acme.tools/*"]}),
        ("registry.token.revoked", f"token:{ci.pk}", {}),
        ("registry.token.deleted", f"token:{tokens[1].pk}",
         {"name": "old", "prefix": tokens[1].prefix}),
        ("registry.token.deleted", f"token:{tokens[2].pk}",
         {"name": "older", "prefix": tokens[2].prefix})]


@pytest.mark.parametrize("model", ["remoteurl", "auditevent", "idempotencyrecord"])
def test_records_the_system_writes_are_read_only(admin_client, publisher, model):
    publisher.publish(manifest(DB, remotes=[{"type": "sse", "url": "https://a.example/s"}]),
                      headers={"Idempotency-Key": "k"})
    obj = {"remoteurl": RemoteUrl, "auditevent": AuditEvent,
           "idempotencyrecord": IdempotencyRecord}[model].objects.get()
    base = f"/admin/registry/{model}"
    assert admin_client.get(f"{base}/{obj.pk}/change/").status_code == 200  # view only
    assert admin_client.post(f"{base}/{obj.pk}/change/", {}).status_code == 403
    assert admin_client.post(f"{base}/{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get(f"{base}/add/").status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()
