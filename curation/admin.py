"""Django admin for curation: upstreams (auth header write-only), runs, conflicts, catalogs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest

from curation.models import (
    Catalog,
    CatalogEntry,
    CatalogOverlay,
    CatalogPin,
    CatalogRule,
    ReservedNamespace,
    ReviewDecision,
    SyncConflict,
    SyncRun,
    Upstream,
)
from curation.tasks import enqueue_rebuild, upstream_sync_task


class UpstreamForm(forms.ModelForm):
    """The auth header is write-only: never rendered back; blank keeps the stored value."""

    auth_header = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                                  help_text="Authorization header value; leave blank to keep")
    clear_auth_header = forms.BooleanField(required=False)
    base_url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = Upstream
        fields = ["name", "base_url", "auth_header", "clear_auth_header", "include_patterns",
                  "exclude_patterns", "interval_minutes", "priority", "enabled",
                  "overlap_seconds", "page_size"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.instance.pk and not data.get("auth_header") and not data.get("clear_auth_header"):
            data["auth_header"] = Upstream.objects.get(pk=self.instance.pk).auth_header
        return data


@admin.register(Upstream)
class UpstreamAdmin(admin.ModelAdmin):
    form = UpstreamForm
    list_display = ("name", "base_url", "enabled", "priority", "high_water", "last_sync_at")
    readonly_fields = ("high_water", "last_sync_at", "checkpoint")
    actions = ["sync_now", "full_sync_now"]

    @admin.action(description="Sync now (incremental)")
    def sync_now(self, request: HttpRequest, queryset: Any) -> None:
        for upstream in queryset:
            transaction.on_commit(lambda pk=upstream.pk: upstream_sync_task.delay(pk))
        messages.info(request, "Sync queued.")

    @admin.action(description="Full sync now")
    def full_sync_now(self, request: HttpRequest, queryset: Any) -> None:
        for upstream in queryset:
            transaction.on_commit(lambda pk=upstream.pk: upstream_sync_task.delay(pk, True))
        messages.info(request, "Full sync queued.")


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ("upstream", "mode", "state", "started_at", "finished_at", "pages", "created",
                    "updated", "unchanged", "conflicts", "rejected", "errors")
    list_filter = ("state", "mode", "upstream")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SyncConflict)
class SyncConflictAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "upstream", "reason", "last_seen_at")
    list_filter = ("upstream",)
    search_fields = ("name",)


@admin.register(ReservedNamespace)
class ReservedNamespaceAdmin(admin.ModelAdmin):
    list_display = ("pattern", "reason", "created_at")


class RuleInline(admin.TabularInline):
    model = CatalogRule
    extra = 0


class PinInline(admin.TabularInline):
    model = CatalogPin
    extra = 0


@admin.register(Catalog)
class CatalogAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "public", "default_action", "review_mode", "rebuilt_at")
    readonly_fields = ("generation", "rebuilt_at", "watermark_id", "watermark_at")
    inlines = [RuleInline, PinInline]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        enqueue_rebuild(form.instance.pk)  # rules or pins may have changed


@admin.register(CatalogOverlay)
class CatalogOverlayAdmin(admin.ModelAdmin):
    list_display = ("catalog", "name", "featured")
    list_filter = ("catalog",)


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(admin.ModelAdmin):
    list_display = ("catalog", "name", "version", "verdict", "decided_by", "decided_at")
    list_filter = ("catalog", "verdict")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CatalogEntry)
class CatalogEntryAdmin(admin.ModelAdmin):
    list_display = ("catalog", "name", "version", "state", "is_latest", "listed", "updated_at")
    list_filter = ("catalog", "state")
    search_fields = ("name",)
    raw_id_fields = ("server_version",)
