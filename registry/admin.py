"""Django admin for the registry's models."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest

from registry import services
from registry.models import ApiToken, AuditEvent, IdempotencyRecord, RemoteUrl, ServerVersion


@admin.register(ServerVersion)
class ServerVersionAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "status", "is_latest", "origin", "published_at")
    list_filter = ("status", "is_latest", "origin")
    search_fields = ("name", "title", "description")
    readonly_fields = ("digest", "manifest_text", "published_at", "updated_at",
                       "status_changed_at", "is_latest", "validation_issues", "upstream_meta")
    ordering = ("name", "version")


@admin.register(RemoteUrl)
class RemoteUrlAdmin(admin.ModelAdmin):
    list_display = ("url", "name")
    search_fields = ("url", "name")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    search_fields = ("name", "prefix", "created_by")
    readonly_fields = ("prefix", "token_hash", "created_at", "last_used_at", "created_by")
    fields = ("name", "patterns", "can_edit", "scopes", "owner", "expires_at", "revoked_at",
              "prefix", "token_hash", "created_by", "created_at", "last_used_at")
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ApiToken, form: object, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        days = None
        created = services.token_create(
            name=obj.name, patterns=obj.patterns, actor=f"admin:{request.user}", owner=obj.owner,
            can_edit=obj.can_edit, scopes=obj.scopes, expires_in_days=days)
        obj.pk = created.token.pk
        obj.__dict__.update(created.token.__dict__)
        messages.warning(request, f"Copy the token now, it is not shown again: {created.secret}")

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: object) -> None:
        for token in queryset:  # type: ignore[attr-defined]
            services.token_revoke(token=token, actor=f"admin:{request.user}")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor", "action", "target")
    list_filter = ("action",)
    search_fields = ("actor", "target")
    readonly_fields = ("actor", "action", "target", "data", "created_at")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("key", "actor", "status_code", "created_at")
    readonly_fields = ("key", "actor", "request_hash", "status_code", "response_body",
                       "created_at")
