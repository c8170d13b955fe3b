"""Writes to catalogs: settings, rules, pins, overlays and review decisions (all audited)."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from curation.models import (
    Action,
    Catalog,
    CatalogEntry,
    CatalogOverlay,
    CatalogPin,
    CatalogRule,
    EntryState,
    ReviewDecision,
    ReviewMode,
)
from curation.services.membership import catalog_rebuild
from curation.tasks import enqueue_rebuild
from ops import generations
from registry.errors import NotFound, RegistryError
from registry.limits import check_columns, check_string_list
from registry.models import ServerVersion
from registry.services import audit_record

BUILTIN_SLUG = "all"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
CATALOG_FIELDS = {"title", "description", "public", "sources", "default_action", "review_mode",
                  "trust_policy"}
MEMBERSHIP_FIELDS = {"sources", "default_action", "review_mode", "trust_policy"}
RULE_FIELDS = {"action", "name_pattern", "namespace", "source", "registry_type", "transport",
               "kind", "repository_host", "status", "schema_valid", "trust_policy", "note"}
DESCRIPTION_MAX = 5000  # characters of a catalog description
NOTES_MAX = 5000  # characters of an overlay's notes and install notes
MAX_SOURCES = 100  # origins a catalog draws from ('local' and upstream names)
MAX_RULES = 500  # rules per catalog


def catalog_slug_check(slug: str) -> None:
    """A new catalog's slug: a lowercase slug other than the built-in `all`."""
    if not isinstance(slug, str) or not _SLUG.match(slug) or slug == BUILTIN_SLUG:
        raise RegistryError("catalog slug must be a lowercase slug other than 'all'")


def catalog_fields_clean(fields: dict[str, Any]) -> dict[str, Any]:
    """Catalog settings checked (RegistryError on an unknown field or a bad value)."""
    unknown = set(fields) - CATALOG_FIELDS
    if unknown:
        raise RegistryError(f"unknown catalog fields: {', '.join(sorted(unknown))}")
    checks = {
        "title": lambda v: isinstance(v, str) and len(v) <= 200,
        "description": lambda v: isinstance(v, str) and len(v) <= 5000,
        "public": lambda v: isinstance(v, bool),
        "sources": lambda v: isinstance(v, list) and all(isinstance(s, str) and s for s in v),
        "default_action": lambda v: v in Action.values,
        "review_mode": lambda v: v in ReviewMode.values,
        "trust_policy": lambda v: isinstance(v, str) and len(v) <= 100,
    }
    for key, value in fields.items():
        if not checks[key](value):
            raise RegistryError(f"invalid value for {key}: {value!r}")
    if "sources" in fields:
        check_string_list(fields["sources"], field="sources", max_items=MAX_SOURCES, max_length=200)
    check_columns(Catalog, fields, limits={"description": DESCRIPTION_MAX})
    return fields


def _bump(catalog: Catalog) -> None:
    Catalog.objects.filter(pk=catalog.pk).update(generation=catalog.generation + 1)
    generations.bump([catalog.slug])


@transaction.atomic
def catalog_create(*, slug: str, fields: dict[str, Any], actor: str) -> Catalog:
    """A new catalog; its membership is built after commit."""
    catalog_slug_check(slug)
    if Catalog.objects.filter(slug=slug).exists():
        raise RegistryError(f"catalog {slug} already exists")
    top = ServerVersion.objects.aggregate(m=Max("id"))["m"] or 0
    catalog = Catalog.objects.create(slug=slug, watermark_id=top, watermark_at=timezone.now(),
                                     **catalog_fields_clean(fields))
    audit_record(actor=actor, action="curation.catalog.created", target=f"catalog:{slug}",
                 data=fields)
    enqueue_rebuild(catalog.pk)
    return catalog


@transaction.atomic
def catalog_update(*, catalog: Catalog, fields: dict[str, Any], actor: str) -> Catalog:
    """Change settings; membership is rebuilt when sources, actions, mode or policy change."""
    cleaned = catalog_fields_clean(fields)
    for key, value in cleaned.items():
        setattr(catalog, key, value)
    catalog.save()
    audit_record(actor=actor, action="curation.catalog.updated", target=f"catalog:{catalog.slug}",
                 data=cleaned)
    if MEMBERSHIP_FIELDS & cleaned.keys():
        enqueue_rebuild(catalog.pk)
    return catalog


def catalog_rule_clean(raw: Any, position: int) -> CatalogRule:
    """One rule of a rule list checked and built (unsaved); RegistryError if it is bad."""
    if not isinstance(raw, dict):
        raise RegistryError(f"rule {position}: must be an object")
    unknown = set(raw) - RULE_FIELDS
    if unknown:
        raise RegistryError(f"rule {position}: unknown fields {', '.join(sorted(unknown))}")
    if raw.get("action") not in Action.values:
        raise RegistryError(f"rule {position}: action must be allow, deny or review")
    if raw.get("kind", "") not in CatalogRule.Kind.values:
        raise RegistryError(f"rule {position}: kind must be remote, package or empty")
    if raw.get("schema_valid") not in (None, True, False):
        raise RegistryError(f"rule {position}: schema_valid must be true, false or null")
    for key in RULE_FIELDS - {"action", "kind", "schema_valid"}:
        value = raw.get(key, "")
        if not isinstance(value, str) or len(value) > 200:
            raise RegistryError(f"rule {position}: {key} must be a string")
    check_columns(CatalogRule, raw, prefix=f"rules[{position}].")
    return CatalogRule(position=position, **raw)


@transaction.atomic
def catalog_rules_replace(*, catalog: Catalog, rules: list[Any], actor: str) -> list[CatalogRule]:
    """Replace the ordered rule list (first match wins) and rebuild after commit."""
    if not isinstance(rules, list) or len(rules) > MAX_RULES:
        raise RegistryError(f"rules must be a list of at most {MAX_RULES} rules")
    cleaned = [catalog_rule_clean(raw, i) for i, raw in enumerate(rules)]
    catalog.rules.all().delete()
    for rule in cleaned:
        rule.catalog = catalog
    created = CatalogRule.objects.bulk_create(cleaned)
    audit_record(actor=actor, action="curation.catalog.rules_replaced",
                 target=f"catalog:{catalog.slug}", data={"rules": rules})
    _bump(catalog)
    enqueue_rebuild(catalog.pk)
    return created


def catalog_pin_check(*, name: str, version: str) -> None:
    """A pin must name an existing version (NotFound otherwise)."""
    check_columns(CatalogPin, {"name": name, "version": version})
    if not ServerVersion.objects.filter(name=name, version=version).exists():
        raise NotFound(f"{name} has no version {version}")


@transaction.atomic
def catalog_pin(*, catalog: Catalog, name: str, version: str | None, note: str, actor: str
                ) -> CatalogPin | None:
    """Show a server at exactly one version (None removes the pin); applied immediately."""
    if version is None:
        CatalogPin.objects.filter(catalog=catalog, name=name).delete()
        pin = None
    else:
        catalog_pin_check(name=name, version=version)
        pin, _ = CatalogPin.objects.update_or_create(catalog=catalog, name=name,
                                                     defaults={"version": version,
                                                               "note": note[:500]})
    audit_record(actor=actor, action="curation.catalog." + ("pinned" if pin else "unpinned"),
                 target=f"catalog:{catalog.slug}:{name}", data={"version": version})
    catalog_rebuild(catalog=catalog, names=[name])
    return pin


def overlay_tags_clean(tags: Any) -> list[str]:
    """Overlay tags: a list of at most 50 strings of 1 to 50 characters."""
    if not isinstance(tags, list) or not all(isinstance(t, str) and 0 < len(t) <= 50 for t in tags) \
            or len(tags) > 50:
        raise RegistryError("tags must be a list of at most 50 short strings")
    return tags


@transaction.atomic
def catalog_overlay_set(*, catalog: Catalog, name: str, tags: list[str], notes: str,
                        featured: bool, install_notes: str, actor: str) -> CatalogOverlay:
    """Annotate a server in a catalog; its entries' catalog timestamps move so mirrors see it."""
    overlay_tags_clean(tags)
    check_columns(CatalogOverlay, {"name": name, "notes": notes, "install_notes": install_notes},
                  limits={"notes": NOTES_MAX, "install_notes": NOTES_MAX})
    overlay, _ = CatalogOverlay.objects.update_or_create(
        catalog=catalog, name=name,
        defaults={"tags": tags, "notes": notes, "featured": featured,
                  "install_notes": install_notes})
    CatalogEntry.objects.filter(catalog=catalog, name=name, listed=True).update(
        updated_at=timezone.now())
    _bump(catalog)
    audit_record(actor=actor, action="curation.catalog.annotated",
                 target=f"catalog:{catalog.slug}:{name}",
                 data={"tags": tags, "featured": featured})
    return overlay


@transaction.atomic
def review_decide(*, catalog: Catalog, name: str, version: str | None, approve: bool,
                  reason: str, include_future: bool, actor: str) -> list[ReviewDecision]:
    """Approve or reject a version, or a whole server (optionally its future versions too)."""
    check_columns(ReviewDecision, {"name": name, "version": version or "", "decided_by": actor})
    entries = CatalogEntry.objects.filter(catalog=catalog, name=name)
    if version is not None and not entries.filter(version=version).exists():
        raise NotFound(f"{name} {version} is not a candidate of catalog {catalog.slug}")
    if version is None and not entries.exists():
        raise NotFound(f"{name} is not a candidate of catalog {catalog.slug}")
    verdict = ReviewDecision.Verdict.APPROVE if approve else ReviewDecision.Verdict.REJECT
    common = {"catalog": catalog, "name": name, "verdict": verdict, "reason": reason[:1000],
              "decided_by": actor}
    if version is not None:
        decisions = [ReviewDecision(version=version, **common)]
    else:
        # The versions present now get their own decision; a standing server-level decision
        # covers later ones (a rejection always does, an approval only with include_future).
        present = entries.exclude(state=EntryState.DENIED).values_list("version", flat=True)
        decisions = [ReviewDecision(version=v, **common) for v in present]
        decisions.append(ReviewDecision(version="", include_future=include_future, **common))
    created = ReviewDecision.objects.bulk_create(decisions)
    audit_record(actor=actor, action="curation.review." + ("approved" if approve else "rejected"),
                 target=f"catalog:{catalog.slug}:{name}" + (f"@{version}" if version else ""),
                 data={"reason": reason, "include_future": include_future,
                       "versions": [d.version for d in decisions if d.version]})
    catalog_rebuild(catalog=catalog, names=[name])
    return created


def catalog_request_rebuild(*, catalog: Catalog, actor: str) -> None:
    """Queue a full rebuild of the catalog after commit."""
    audit_record(actor=actor, action="curation.catalog.rebuild_requested",
                 target=f"catalog:{catalog.slug}")
    enqueue_rebuild(catalog.pk)


@transaction.atomic
def catalog_overlay_remove(*, overlay: CatalogOverlay, actor: str) -> None:
    """Drop a server's annotations in a catalog; its entries' timestamps move, as on a change."""
    catalog = overlay.catalog
    overlay.delete()
    CatalogEntry.objects.filter(catalog=catalog, name=overlay.name, listed=True).update(
        updated_at=timezone.now())
    _bump(catalog)
    audit_record(actor=actor, action="curation.catalog.annotation_removed",
                 target=f"catalog:{catalog.slug}:{overlay.name}")


@transaction.atomic
def catalog_delete(*, catalog: Catalog, actor: str) -> None:
    """Remove a catalog with its rules, pins, overlays, decisions and entries (no versions)."""
    audit_record(actor=actor, action="curation.catalog.deleted", target=f"catalog:{catalog.slug}",
                 data={"entries": catalog.entries.count()})
    catalog.delete()
