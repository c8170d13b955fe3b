"""Django admin for curation: upstreams, reserved namespaces, catalogs, reviews, entries.

Every save and delete calls a service in `curation.services` (audited, actor
`admin:<username>`); forms check their input with the same services' validators.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from curation.models import (
    Catalog,
    CatalogEntry,
    CatalogFeed,
    CatalogOverlay,
    CatalogPin,
    CatalogRule,
    ReservedNamespace,
    ReviewDecision,
    SyncConflict,
    SyncRun,
    Upstream,
)
from curation.services import catalogs as catalog_services
from curation.services import feeds as feed_services
from curation.services import upstreams as upstream_services
from curation.tasks import upstream_sync_task
from registry.admin import ReadOnlyAdmin, ServiceAdmin, admin_actor, changed_fields
from registry.errors import RegistryError

T = TypeVar("T")
# Rule fields in the model's order, so the audited rule list reads like the form.
RULE_FIELDS = [f.name for f in CatalogRule._meta.fields if f.name in catalog_services.RULE_FIELDS]


def _check(validator: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a service's validator; its RegistryError becomes the form's error."""
    try:
        return validator(*args, **kwargs)
    except RegistryError as exc:
        raise ValidationError(exc.message) from exc


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
        data = super().clean() or {}
        if self.instance.pk and not data.get("auth_header") and not data.get("clear_auth_header"):
            data["auth_header"] = Upstream.objects.get(pk=self.instance.pk).auth_header
        if not self.instance.pk and "name" in data:
            _check(upstream_services.upstream_name_check, data["name"])
        data.update(_check(upstream_services.upstream_fields_clean,
                           {k: v for k, v in data.items() if k in upstream_services.UPSTREAM_FIELDS}))
        return data


@admin.register(Upstream)
class UpstreamAdmin(ServiceAdmin):
    form = UpstreamForm
    list_display = ("name", "base_url", "enabled", "priority", "high_water", "last_sync_at")
    readonly_fields = ("high_water", "last_sync_at", "checkpoint")
    actions = ["sync_now", "full_sync_now"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The name is the origin recorded on every mirrored version: fixed once created.
        return (*self.readonly_fields, "name") if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Upstream, form: Any, change: bool) -> None:
        fields = changed_fields(form, upstream_services.UPSTREAM_FIELDS) if change else {
            k: v for k, v in form.cleaned_data.items() if k in upstream_services.UPSTREAM_FIELDS}
        if change and not fields:
            return
        saved, _ = upstream_services.upstream_save(name=obj.name, fields=fields,
                                                   actor=admin_actor(request))
        obj.__dict__.update(saved.__dict__)

    def delete_model(self, request: HttpRequest, obj: Upstream) -> None:
        upstream_services.upstream_delete(upstream=obj, actor=admin_actor(request))

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
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ("upstream", "mode", "state", "started_at", "finished_at", "pages", "created",
                    "updated", "unchanged", "conflicts", "rejected", "errors")
    list_filter = ("state", "mode", "upstream")


@admin.register(CatalogFeed)
class CatalogFeedAdmin(ReadOnlyAdmin):
    """Feed URLs of catalogs (their secrets are never stored); revoking calls the service."""

    list_display = ("name", "catalog", "prefix", "owner", "created_by", "created_at",
                    "last_used_at", "revoked_at")
    list_filter = ("catalog",)
    search_fields = ("name", "prefix", "created_by")
    actions = ["revoke"]

    @admin.action(description="Revoke the selected feeds")
    def revoke(self, request: HttpRequest, queryset: QuerySet[CatalogFeed]) -> None:
        for feed in queryset.select_related("catalog"):
            feed_services.feed_revoke(feed=feed, actor=admin_actor(request))
        messages.success(request, "Revoked.")


@admin.register(SyncConflict)
class SyncConflictAdmin(ReadOnlyAdmin):
    """Recorded by syncs; resolve one by reserving, or no longer publishing, the namespace."""

    list_display = ("name", "version", "upstream", "reason", "last_seen_at")
    list_filter = ("upstream",)
    search_fields = ("name",)


class ReservedNamespaceForm(forms.ModelForm):
    class Meta:
        model = ReservedNamespace
        fields = ["pattern", "reason"]

    def clean_pattern(self) -> str:
        return _check(upstream_services.reserved_namespace_clean, self.cleaned_data["pattern"])


@admin.register(ReservedNamespace)
class ReservedNamespaceAdmin(ServiceAdmin):
    form = ReservedNamespaceForm
    list_display = ("pattern", "reason", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("pattern",) if obj else ()

    def save_model(self, request: HttpRequest, obj: ReservedNamespace, form: Any,
                   change: bool) -> None:
        if change and not changed_fields(form, ["reason"]):
            return
        saved = upstream_services.reserved_namespace_add(pattern=obj.pattern, reason=obj.reason,
                                                         actor=admin_actor(request))
        obj.__dict__.update(saved.__dict__)

    def delete_model(self, request: HttpRequest, obj: ReservedNamespace) -> None:
        upstream_services.reserved_namespace_remove(reserved=obj, actor=admin_actor(request))


class CatalogForm(forms.ModelForm):
    class Meta:
        model = Catalog
        fields = ["slug", "title", "description", "public", "sources", "default_action",
                  "review_mode", "trust_policy"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.instance.pk and "slug" in data:
            _check(catalog_services.catalog_slug_check, data["slug"])
        _check(catalog_services.catalog_fields_clean,
               {k: v for k, v in data.items() if k in catalog_services.CATALOG_FIELDS})
        return data


def _rule_of(data: dict[str, Any]) -> dict[str, Any]:
    """A rule as the API takes it: the action and the criteria that are set."""
    return {k: data[k] for k in RULE_FIELDS
            if k == "action" or data.get(k) not in ("", None)}


class RuleForm(forms.ModelForm):
    class Meta:
        model = CatalogRule
        fields = ["position", *RULE_FIELDS]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("DELETE") and "action" in data:
            _check(catalog_services.catalog_rule_clean, _rule_of(data), data.get("position", 0))
        return data


class PinForm(forms.ModelForm):
    class Meta:
        model = CatalogPin
        fields = ["name", "version", "note"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("DELETE") and data.get("name") and data.get("version"):
            _check(catalog_services.catalog_pin_check, name=data["name"], version=data["version"])
        return data


class RuleInline(admin.TabularInline):
    model = CatalogRule
    form = RuleForm
    extra = 0


class PinInline(admin.TabularInline):
    model = CatalogPin
    form = PinForm
    extra = 0


def _live_forms(formset: Any) -> list[Any]:
    """Forms holding a row: existing ones and added ones the user filled in."""
    return [f for f in formset.forms if f.instance.pk is not None or f.has_changed()]


@admin.register(Catalog)
class CatalogAdmin(ServiceAdmin):
    form = CatalogForm
    list_display = ("slug", "title", "public", "default_action", "review_mode", "rebuilt_at")
    readonly_fields = ("generation", "rebuilt_at", "watermark_id", "watermark_at")
    inlines = [RuleInline, PinInline]
    actions = ["rebuild"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The slug is the catalog's URL and its cache key: fixed once created.
        return (*self.readonly_fields, "slug") if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Catalog, form: Any, change: bool) -> None:
        fields = {k: form.cleaned_data[k] for k in sorted(catalog_services.CATALOG_FIELDS)}
        if change:
            changed = changed_fields(form, catalog_services.CATALOG_FIELDS)
            if changed:
                catalog_services.catalog_update(catalog=obj, fields=changed,
                                                actor=admin_actor(request))
            return
        created = catalog_services.catalog_create(slug=obj.slug, fields=fields,
                                                  actor=admin_actor(request))
        obj.__dict__.update(created.__dict__)  # the inlines are bound to this instance

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # What ModelAdmin's change message reads from a saved formset.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if formset.model is CatalogRule:
            self._save_rules(request, form.instance, formset)
        else:
            self._save_pins(request, form.instance, formset)

    def _save_rules(self, request: HttpRequest, catalog: Catalog, formset: Any) -> None:
        """The rule list is replaced as a whole, in the order of the positions given."""
        if not formset.has_changed():
            return
        kept = [(f.cleaned_data.get("position") or 0, i, f)
                for i, f in enumerate(_live_forms(formset)) if not f.cleaned_data.get("DELETE")]
        rules = [_rule_of(f.cleaned_data) for _, _, f in sorted(kept, key=lambda t: t[:2])]
        formset.deleted_objects = list(catalog.rules.all())
        formset.new_objects = catalog_services.catalog_rules_replace(
            catalog=catalog, rules=rules, actor=admin_actor(request))

    def _save_pins(self, request: HttpRequest, catalog: Catalog, formset: Any) -> None:
        actor = admin_actor(request)
        for f in _live_forms(formset):
            before = f.initial.get("name") if f.instance.pk is not None else None
            if f.cleaned_data.get("DELETE"):
                if before is not None:
                    catalog_services.catalog_pin(catalog=catalog, name=before, version=None,
                                                 note="", actor=actor)
                    formset.deleted_objects.append(f.instance)
                continue
            if not f.has_changed():
                continue
            data = f.cleaned_data
            if before is not None and before != data["name"]:
                catalog_services.catalog_pin(catalog=catalog, name=before, version=None,
                                             note="", actor=actor)
            pin = catalog_services.catalog_pin(catalog=catalog, name=data["name"],
                                               version=data["version"], note=data["note"],
                                               actor=actor)
            if before is None:
                formset.new_objects.append(pin)
            else:
                formset.changed_objects.append((pin, f.changed_data))

    def delete_model(self, request: HttpRequest, obj: Catalog) -> None:
        catalog_services.catalog_delete(catalog=obj, actor=admin_actor(request))

    @admin.action(description="Rebuild membership")
    def rebuild(self, request: HttpRequest, queryset: QuerySet[Catalog]) -> None:
        for catalog in queryset:
            catalog_services.catalog_request_rebuild(catalog=catalog, actor=admin_actor(request))
        messages.info(request, "Rebuild queued.")


class OverlayForm(forms.ModelForm):
    class Meta:
        model = CatalogOverlay
        fields = ["catalog", "name", "tags", "notes", "featured", "install_notes"]

    def clean_tags(self) -> Any:
        return _check(catalog_services.overlay_tags_clean, self.cleaned_data["tags"])


@admin.register(CatalogOverlay)
class CatalogOverlayAdmin(ServiceAdmin):
    form = OverlayForm
    list_display = ("catalog", "name", "featured")
    list_filter = ("catalog",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("catalog", "name") if obj else ()

    def save_model(self, request: HttpRequest, obj: CatalogOverlay, form: Any,
                   change: bool) -> None:
        saved = catalog_services.catalog_overlay_set(
            catalog=obj.catalog, name=obj.name, tags=obj.tags, notes=obj.notes,
            featured=obj.featured, install_notes=obj.install_notes, actor=admin_actor(request))
        obj.__dict__.update(saved.__dict__)

    def delete_model(self, request: HttpRequest, obj: CatalogOverlay) -> None:
        catalog_services.catalog_overlay_remove(overlay=obj, actor=admin_actor(request))


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(ServiceAdmin):
    """Decisions are history: a new one supersedes, none is edited or deleted."""

    list_display = ("catalog", "name", "version", "verdict", "decided_by", "decided_at")
    list_filter = ("catalog", "verdict")
    fields = ("catalog", "name", "version", "verdict", "include_future", "reason")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ReviewDecision, form: Any,
                   change: bool) -> None:
        decisions = catalog_services.review_decide(
            catalog=obj.catalog, name=obj.name, version=obj.version or None,
            approve=obj.verdict == ReviewDecision.Verdict.APPROVE, reason=obj.reason,
            include_future=obj.include_future, actor=admin_actor(request))
        obj.__dict__.update(decisions[-1].__dict__)


@admin.register(CatalogEntry)
class CatalogEntryAdmin(ReadOnlyAdmin):
    """Membership is computed; staff change it by deciding reviews (the actions here)."""

    list_display = ("catalog", "name", "version", "state", "is_latest", "listed", "updated_at")
    list_filter = ("catalog", "state")
    search_fields = ("name",)
    raw_id_fields = ("server_version",)
    actions = ["approve", "reject"]

    def has_review_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("curation.add_reviewdecision"))

    def _decide(self, request: HttpRequest, queryset: QuerySet[CatalogEntry], approve: bool) -> None:
        for entry in queryset.select_related("catalog").order_by("catalog_id", "name", "version"):
            try:
                catalog_services.review_decide(
                    catalog=entry.catalog, name=entry.name, version=entry.version,
                    approve=approve, reason="", include_future=False, actor=admin_actor(request))
            except RegistryError as exc:
                messages.error(request, f"{entry}: {exc.message}")

    @admin.action(description="Approve selected versions", permissions=["review"])
    def approve(self, request: HttpRequest, queryset: QuerySet[CatalogEntry]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject selected versions", permissions=["review"])
    def reject(self, request: HttpRequest, queryset: QuerySet[CatalogEntry]) -> None:
        self._decide(request, queryset, approve=False)
