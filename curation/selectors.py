"""Reads of catalogs: resolving a slug, roles and access, the review queue.

The standard read API of a catalog (its list and versions) is serving's (serving.reader).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from curation.models import Catalog, CatalogEntry, CatalogFeed, EntryState
from ops import generations
from registry.errors import NotFound

BUILTIN_SLUG = "all"
ROLES = ("viewer", "reviewer", "owner")


@dataclass(frozen=True)
class CatalogRef:
    """A resolved catalog slug: the built-in `all` (catalog None: the registry's own tables)
    or a stored catalog. The read API's scope (serving.reader)."""

    slug: str
    catalog: Catalog | None

    @property
    def builtin(self) -> bool:
        return self.catalog is None


# Catalogs this process has read, by the generation they were read at (ops.generations):
# any change to a catalog replaces its generation, so a hit is never stale,
# and a read of a catalog costs a Redis round trip instead of a query. Only with Redis.
_resolved: dict[str, tuple[str, Catalog]] = {}


def catalog_resolve(slug: str, known: generations.Generation | None = None) -> CatalogRef:
    """The catalog for a URL slug; NotFound when there is none. `known`: the catalog's
    generation when the caller has just read it (it keys the process's copy of the row)."""
    if slug == BUILTIN_SLUG:
        return CatalogRef(slug, None)
    generation = known or generations.current(slug)
    if generation is not None:
        seen = _resolved.get(slug)
        if seen is not None and seen[0] == generation.token:
            return CatalogRef(slug, seen[1])
    catalog = Catalog.objects.filter(slug=slug).first()
    if catalog is not None and generation is not None:
        _resolved[slug] = (generation.token, catalog)
    if catalog is None:
        raise NotFound(f"No catalog named {slug}")
    return CatalogRef(slug, catalog)


def is_admin(caller: Any) -> bool:
    """A caller with global edit (`*`): the registry's administrators."""
    return caller is not None and caller.is_admin


def catalog_roles(slug: str, caller: Any) -> set[str]:
    """Roles from token scopes `catalog:<slug|*>:<role>`; a role implies the ones below it."""
    if caller is None:
        return set()
    if is_admin(caller):
        return set(ROLES)
    roles: set[str] = set()
    for scope in caller.scopes:
        parts = scope.split(":")
        if len(parts) == 3 and parts[0] == "catalog" and parts[1] in (slug, "*") \
                and parts[2] in ROLES:
            roles |= set(ROLES[: ROLES.index(parts[2]) + 1])
    return roles


def catalog_readable(ref: CatalogRef, caller: Any) -> bool:
    """Public catalogs are readable by anyone; others need a catalog role."""
    return ref.catalog is None or ref.catalog.public or bool(catalog_roles(ref.slug, caller))


def review_queue(catalog: Catalog, *, limit: int = 100) -> list[CatalogEntry]:
    """Pending versions, oldest first."""
    return list(CatalogEntry.objects.filter(catalog=catalog, state=EntryState.PENDING)
                .order_by("created_at", "id")[:limit])


def catalogs_visible(caller: Any) -> list[Catalog]:
    """Catalogs the caller may read."""
    return [c for c in Catalog.objects.order_by("slug")
            if c.public or catalog_roles(c.slug, caller)]


def feeds_held(*, actor: str, owner_id: int | None = None) -> list[CatalogFeed]:
    """Feeds created by `actor` or owned by the user `owner_id`, newest first."""
    held = Q(created_by=actor) | Q(owner_id=owner_id) if owner_id is not None else Q(created_by=actor)
    return list(CatalogFeed.objects.filter(held).select_related("catalog")
                .order_by("-created_at", "-id")[:200])


def feeds_all(*, slug: str | None = None) -> list[CatalogFeed]:
    """Every feed (for administrators), optionally of one catalog, newest first."""
    feeds = CatalogFeed.objects.select_related("catalog").order_by("-created_at", "-id")
    return list((feeds.filter(catalog__slug=slug) if slug else feeds)[:200])


def feed_may_create(ref: CatalogRef, caller: Any) -> bool:
    """A feed is issued for a stored catalog in which the caller holds a role: it grants
    reading that catalog, and keeps doing so if the catalog is later made private."""
    return ref.catalog is not None and bool(catalog_roles(ref.slug, caller))
