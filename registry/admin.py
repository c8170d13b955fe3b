"""Django admin for the registry's models, and the two admin bases every app uses.

Every admin write goes through a service, so it is validated, audited (actor
`admin:<username>`) and invalidates what it must: a `ServiceAdmin` refuses Django's
direct saves and deletes, a `ReadOnlyAdmin` shows records only the system writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from registry import services
from registry.errors import RegistryError
from registry.models import ApiToken, AuditEvent, IdempotencyRecord, RemoteUrl, ServerVersion


def admin_actor(request: HttpRequest) -> str:
    """The audit actor of an admin action."""
    return f"admin:{request.user}"


def changed_fields(form: Any, fields: Iterable[str]) -> dict[str, Any]:
    """The cleaned values of `fields` that differ from what the form was opened with.

    Compared with the form's initial values rather than `form.changed_data`, which for
    fields with callable defaults trusts a hidden "initial-" input from the browser."""
    def comparable(value: Any) -> Any:
        return value.pk if isinstance(value, Model) else value
    return {k: form.cleaned_data[k] for k in sorted(fields) if k in form.cleaned_data
            and comparable(form.cleaned_data[k]) != comparable(form.initial.get(k))}


class ServiceAdmin(admin.ModelAdmin):
    """An admin whose saves and deletes call services.

    Subclasses implement `save_model` and `delete_model` (and `save_formset` for inlines);
    the ModelAdmin defaults would write the model directly, so here they refuse. A service's
    RegistryError is shown as an error message rather than a server error.
    """

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        raise NotImplementedError(f"{type(self).__name__} must save through a service")

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must delete through a service")

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        raise NotImplementedError(f"{type(self).__name__} must save inlines through a service")

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Unlike ModelAdmin, no form.save_m2m(): many-to-many fields are the service's job.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """What a delete would cascade to, for the confirmation page. The service removes
        what an object owns (a catalog's entries, an upstream's runs), rows no one may
        delete by hand in the admin, so their permissions do not block it; protected rows
        still do."""
        to_delete, model_count, _perms_needed, protected = super().get_deleted_objects(
            objs, request)
        return to_delete, model_count, set(), protected

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """The bulk "delete selected" action: one service call per object."""
        for obj in queryset:
            self.delete_model(request, obj)

    def changeform_view(self, request: HttpRequest, object_id: str | None = None,
                        form_url: str = "", extra_context: dict[str, Any] | None = None
                        ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except RegistryError as exc:  # the admin's transaction has been rolled back
            self.message_user(request, "; ".join([exc.message, *exc.errors]), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records only the system writes (audit, idempotency, sync runs): shown, never edited."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ServerVersion)
class ServerVersionAdmin(ServiceAdmin):
    """Versions are published through the API; here staff edit a manifest or a status."""

    list_display = ("name", "version", "status", "is_latest", "origin", "published_at")
    list_filter = ("status", "is_latest", "origin")
    search_fields = ("name", "title", "description")
    fields = ("name", "version", "manifest", "status", "status_message", "namespace", "origin",
              "is_latest", "digest", "title", "description", "schema_url", "published_at",
              "updated_at", "status_changed_at", "validation_issues", "upstream_meta")
    readonly_fields = tuple(f for f in fields if f not in ("manifest", "status", "status_message"))
    ordering = ("name", "version")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # publishing checks ownership and permissions: the API does that

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # versions are immutable: "deleted" is a status

    def save_model(self, request: HttpRequest, obj: ServerVersion, form: Any, change: bool) -> None:
        actor = admin_actor(request)
        changed = changed_fields(form, ["manifest", "status", "status_message"])
        if "manifest" in changed:
            services.version_edit(name=obj.name, version=obj.version,
                                  document=changed["manifest"], actor=actor)
        if {"status", "status_message"} & changed.keys():
            services.version_set_status(name=obj.name, version=obj.version,
                                        status=form.cleaned_data["status"],
                                        message=form.cleaned_data["status_message"], actor=actor)


@admin.register(RemoteUrl)
class RemoteUrlAdmin(ReadOnlyAdmin):
    """Derived from manifests on publish and edit."""

    list_display = ("url", "name")
    search_fields = ("url", "name")


@admin.register(ApiToken)
class ApiTokenAdmin(ServiceAdmin):
    list_display = ("name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    search_fields = ("name", "prefix", "created_by")
    readonly_fields = ("prefix", "token_hash", "created_at", "last_used_at", "created_by",
                       "revoked_at")
    fields = ("name", "patterns", "can_edit", "scopes", "owner", "expires_at", "revoked_at",
              "prefix", "token_hash", "created_by", "created_at", "last_used_at")
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            changed = changed_fields(form, services.TOKEN_FIELDS)
            if changed:
                services.token_update(token=obj, fields=changed, actor=admin_actor(request))
            return
        days = None
        created = services.token_create(
            name=obj.name, patterns=obj.patterns, actor=admin_actor(request), owner=obj.owner,
            can_edit=obj.can_edit, scopes=obj.scopes, expires_in_days=days)
        obj.pk = created.token.pk
        obj.__dict__.update(created.token.__dict__)
        messages.warning(request, f"Copy the token now, it is not shown again: {created.secret}")

    def delete_model(self, request: HttpRequest, obj: ApiToken) -> None:
        services.token_delete(token=obj, actor=admin_actor(request))

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            services.token_revoke(token=token, actor=admin_actor(request))


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor", "action", "target")
    list_filter = ("action",)
    search_fields = ("actor", "target")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    """Stored publish answers; the purge task removes them when they expire."""

    list_display = ("key", "actor", "status_code", "created_at")
