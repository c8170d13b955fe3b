"""Admin: inventories (read-only, with "probe now"), probes, catalog inventory policies."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from discovery.models import CatalogInventoryPolicy, Inventory, Probe
from discovery.services import catalog_inventory_policy_set, probe_request
from registry.admin import ReadOnlyAdmin, ServiceAdmin
from registry.errors import RegistryError


@admin.register(Inventory)
class InventoryAdmin(ReadOnlyAdmin):
    list_display = ("name", "server_version", "status", "tool_count", "drift", "checked_at",
                    "next_probe_at", "host")
    list_filter = ("status", "drift", "transport")
    search_fields = ("name", "url", "host")
    actions = ["probe_now"]

    @admin.action(description="Probe now")
    def probe_now(self, request: HttpRequest, queryset: QuerySet[Inventory]) -> None:
        actor = f"admin:{request.user.get_username()}"
        for inventory in queryset.select_related("server_version"):
            try:
                probe_request(version=inventory.server_version, actor=actor)
            except RegistryError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        self.message_user(request, f"{queryset.count()} probe(s) requested")


@admin.register(Probe)
class ProbeAdmin(ReadOnlyAdmin):
    list_display = ("inventory", "status", "tools_digest", "drift", "checked_at", "duration_ms",
                    "requested_by")
    list_filter = ("status", "drift")
    search_fields = ("inventory__name",)


@admin.register(CatalogInventoryPolicy)
class CatalogInventoryPolicyAdmin(ServiceAdmin):
    list_display = ("catalog", "live_within_days", "pin_tools")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        catalog_inventory_policy_set(catalog=obj.catalog, live_within_days=obj.live_within_days,
                                     pin_tools=obj.pin_tools,
                                     actor=f"admin:{request.user.get_username()}")

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        catalog_inventory_policy_set(catalog=obj.catalog, live_within_days=None, pin_tools=False,
                                     actor=f"admin:{request.user.get_username()}")
