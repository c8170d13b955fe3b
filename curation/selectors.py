"""Reads of catalogs: the standard list/detail API per catalog, roles, the review queue."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.fields import BooleanField

from curation import read_sql
from curation.models import Catalog, CatalogEntry, CatalogOverlay, EntryState
from ops import generations
from registry.auth.permissions import EDIT, patterns_for
from registry.errors import NotFound
from registry.models import Status
from registry.selectors import ListQuery, Page, encode_cursor, sql_reads
from signing.selectors import verified_attestation_exists

BUILTIN_SLUG = "all"
ROLES = ("viewer", "reviewer", "owner")
# Catalog entry columns, then the version columns the standard response needs.
_COLUMNS = ("server_version_id", "status", "is_latest", "updated_at", "state", "reason",
            "server_version__manifest_text", "server_version__status_message",
            "server_version__status_changed_at", "server_version__published_at",
            "server_version__origin", "server_version__digest", "server_version__upstream_meta",
            "attested", "overlaid", "name", "version")
_OVERLAID = _COLUMNS.index("overlaid")


@dataclass(frozen=True)
class CatalogRef:
    """A resolved catalog slug: the built-in `all` (catalog None) or a stored catalog."""

    slug: str
    catalog: Catalog | None

    @property
    def builtin(self) -> bool:
        return self.catalog is None


# Catalogs this process has read, by the generation they were read at (ops.generations):
# any change to a catalog replaces its generation, so a hit is never stale,
# and a read of a catalog costs a Redis round trip instead of a query. Only with Redis.
_resolved: dict[str, tuple[str, Catalog]] = {}


def catalog_resolve(slug: str) -> CatalogRef:
    """The catalog for a URL slug; NotFound when there is none."""
    if slug == BUILTIN_SLUG:
        return CatalogRef(slug, None)
    generation = generations.current(slug)
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
    return caller is not None and "*" in patterns_for(caller.permissions, EDIT)


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


def _listed(catalog: Catalog, include_deleted: bool) -> QuerySet[CatalogEntry]:
    # `attested` and `overlaid` say whether a row needs the trust and overlay queries at all.
    qs = CatalogEntry.objects.filter(catalog=catalog, listed=True).annotate(
        attested=verified_attestation_exists("server_version_id"),
        overlaid=Exists(CatalogOverlay.objects.filter(catalog_id=OuterRef("catalog_id"),
                                                      name=OuterRef("name"))))
    return qs if include_deleted else qs.exclude(status=Status.DELETED)


def _row(values: tuple[Any, ...]) -> dict[str, Any]:
    """A render row (registry ENTRY_FIELDS) with the catalog's status, latest and timestamps."""
    (sv_id, status, is_latest, updated_at, state, _reason, text, message, changed_at, published,
     origin, digest, meta, attested) = values[:14]
    included = state == EntryState.INCLUDED
    return {"id": sv_id, "manifest_text": text, "status": status,
            "status_message": message if included else "removed from this catalog",
            "status_changed_at": changed_at if included else updated_at,
            "published_at": published, "updated_at": updated_at, "is_latest": is_latest,
            "origin": origin, "digest": digest, "upstream_meta": meta, "attested": attested}


def catalog_extras(catalog: Catalog, values: Iterable[tuple[Any, ...]]
                   ) -> dict[int, dict[str, Any]]:
    """Our `_meta` catalog block per version: overlays (one query, when a row has one) and pins."""
    values = list(values)
    names = {v[-2] for v in values if v[_OVERLAID]}
    overlays = ({o.name: o for o in CatalogOverlay.objects.filter(catalog=catalog, name__in=names)}
                if names else {})
    key = settings.MCP_INDEX_NAMESPACE + "/catalog"
    extras: dict[int, dict[str, Any]] = {}
    for v in values:
        block: dict[str, Any] = {"catalog": catalog.slug}
        overlay = overlays.get(v[-2])
        if overlay is not None:
            block.update(tags=overlay.tags, featured=overlay.featured)
            if overlay.notes:
                block["notes"] = overlay.notes
            if overlay.install_notes:
                block["installNotes"] = overlay.install_notes
        if v[5] == "pinned":
            block["pinned"] = True
        extras[v[0]] = {key: block}
    return extras


@dataclass(frozen=True)
class CatalogPage:
    """Rows to render plus our per-version `_meta` extras."""

    page: Page
    extras: dict[int, dict[str, Any]]


def catalog_list_page(catalog: Catalog, query: ListQuery) -> CatalogPage:
    """One keyset page of a catalog in (name, version) order: two queries."""
    if sql_reads():
        values = read_sql.catalog_list_values(catalog.pk, query)
    else:
        values = _catalog_list_values_orm(catalog, query)
    more = len(values) > query.limit
    values = values[: query.limit]
    cursor = encode_cursor(values[-1][-2], values[-1][-1]) if more and values else None
    return CatalogPage(Page([_row(v) for v in values], cursor), catalog_extras(catalog, values))


def _catalog_list_values_orm(catalog: Catalog, query: ListQuery) -> list[tuple[Any, ...]]:
    qs = _listed(catalog, query.include_deleted)
    if query.search:
        qs = qs.filter(server_version__search_text__contains=query.search.lower())
    if query.updated_since is not None:
        qs = qs.filter(updated_at__gt=query.updated_since)
    if query.version == "latest":
        qs = qs.filter(is_latest=True)
    elif query.version:
        qs = qs.filter(version=query.version)
    if query.after is not None:
        qs = qs.filter(RawSQL("(curation_catalogentry.name, curation_catalogentry.version) > (%s, %s)",
                              query.after, output_field=BooleanField()))
    return list(qs.order_by("name", "version").values_list(*_COLUMNS)[: query.limit + 1])


def catalog_server_versions(catalog: Catalog, name: str, *, include_deleted: bool) -> CatalogPage:
    """All of a server's versions in the catalog, newest publish first; NotFound when none."""
    values = list(_listed(catalog, include_deleted).filter(name=name)
                  .order_by("-server_version__published_at", "-server_version_id")
                  .values_list(*_COLUMNS))
    if not values:
        raise NotFound("Server not found")
    return CatalogPage(Page([_row(v) for v in values], None), catalog_extras(catalog, values))


def catalog_server_version(catalog: Catalog, name: str, version: str, *, include_deleted: bool
                           ) -> CatalogPage:
    """One version (or `latest`) as the catalog serves it; NotFound when absent or hidden."""
    qs = _listed(catalog, include_deleted).filter(name=name)
    qs = qs.filter(is_latest=True) if version == "latest" else qs.filter(version=version)
    values = list(qs.values_list(*_COLUMNS)[:1])
    if not values:
        raise NotFound("Server not found")
    return CatalogPage(Page([_row(values[0])], None), catalog_extras(catalog, values))


def review_queue(catalog: Catalog, *, limit: int = 100) -> list[CatalogEntry]:
    """Pending versions, oldest first."""
    return list(CatalogEntry.objects.filter(catalog=catalog, state=EntryState.PENDING)
                .order_by("created_at", "id")[:limit])


def catalogs_visible(caller: Any) -> list[Catalog]:
    """Catalogs the caller may read."""
    return [c for c in Catalog.objects.order_by("slug")
            if c.public or catalog_roles(c.slug, caller)]
