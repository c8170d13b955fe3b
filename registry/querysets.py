"""Chainable reads over server versions, shared by the list, detail and feed endpoints."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models.expressions import RawSQL


class ServerVersionQuerySet(models.QuerySet):
    """Filters of the standard registry API."""

    def visible(self, *, include_deleted: bool = False) -> ServerVersionQuerySet:
        return self if include_deleted else self.exclude(status="deleted")

    def named(self, name: str) -> ServerVersionQuerySet:
        return self.filter(name=name)

    def latest_only(self) -> ServerVersionQuerySet:
        return self.filter(is_latest=True)

    def updated_since(self, when: datetime) -> ServerVersionQuerySet:
        return self.filter(updated_at__gt=when)

    def search(self, text: str) -> ServerVersionQuerySet:
        """Case-insensitive substring of name, title or description (trigram-indexed on PG)."""
        return self.filter(search_text__contains=text.lower())

    def after(self, name: str, version: str) -> ServerVersionQuerySet:
        """Keyset seek past (name, version), a row comparison the (name, version) index serves."""
        return self.filter(
            RawSQL("(name, version) > (%s, %s)", (name, version),
                   output_field=models.BooleanField())
        )

    def in_list_order(self) -> ServerVersionQuerySet:
        return self.order_by("name", "version")
