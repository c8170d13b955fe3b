"""Chainable reads over catalog entries: the standard API's filters, named as on versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models
from django.db.models.expressions import RawSQL
from django.utils import timezone


class CatalogEntryQuerySet(models.QuerySet):
    """The same filters as registry.querysets.ServerVersionQuerySet, over a catalog's entries
    (their own status, latest and time), so one list filter serves the root and catalogs."""

    def listed_in(self, catalog: Any) -> CatalogEntryQuerySet:
        """The entries a catalog serves (included now, or once and then served as deleted)."""
        return self.filter(catalog=catalog, listed=True).served()

    def served(self) -> CatalogEntryQuerySet:
        """Entries whose trust still holds now: one past its trust deadline is not served,
        even before the reconcile removes it (fail closed; the SQL reader does the same)."""
        return self.filter(models.Q(trust_until__isnull=True)
                           | models.Q(trust_until__gt=timezone.now()))

    def visible(self, *, include_deleted: bool = False) -> CatalogEntryQuerySet:
        return self if include_deleted else self.exclude(status="deleted")

    def named(self, name: str) -> CatalogEntryQuerySet:
        return self.filter(name=name)

    def latest_only(self) -> CatalogEntryQuerySet:
        return self.filter(is_latest=True)

    def updated_since(self, when: datetime) -> CatalogEntryQuerySet:
        return self.filter(updated_at__gt=when)

    def search(self, text: str) -> CatalogEntryQuerySet:
        """Case-insensitive substring of the version's name, title or description."""
        return self.filter(server_version__search_text__contains=text.lower())

    def after(self, name: str, version: str) -> CatalogEntryQuerySet:
        """Keyset seek past (name, version); qualified, since the version table is joined."""
        return self.filter(
            RawSQL("(curation_catalogentry.name, curation_catalogentry.version) > (%s, %s)",
                   (name, version), output_field=models.BooleanField())
        )

    def in_list_order(self) -> CatalogEntryQuerySet:
        return self.order_by("name", "version")
