"""Writes to upstreams and reserved namespaces (every change audited, secrets never logged)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction

from curation.models import ReservedNamespace, Upstream
from registry.errors import RegistryError
from registry.limits import check_columns, check_string_list
from registry.services import audit_record

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
UPSTREAM_FIELDS = {"base_url", "auth_header", "include_patterns", "exclude_patterns",
                   "interval_minutes", "priority", "enabled", "overlap_seconds", "page_size"}
AUTH_HEADER_MAX = 4096  # characters: a header value, not a document
MAX_PATTERNS = 1000  # name globs per list; each at most a server name's length


def upstream_name_check(name: str) -> None:
    """An upstream's name is the origin of what it mirrors: a lowercase slug, never `local`."""
    if not isinstance(name, str) or not _NAME.match(name) or name == "local":
        raise RegistryError("upstream name must be a lowercase slug (not 'local')")


def upstream_fields_clean(fields: dict[str, Any]) -> dict[str, Any]:
    """Upstream settings checked and normalised (RegistryError on a bad one)."""
    unknown = set(fields) - UPSTREAM_FIELDS
    if unknown:
        raise RegistryError(f"unknown upstream fields: {', '.join(sorted(unknown))}")
    out = dict(fields)
    if "base_url" in out:
        url = out["base_url"]
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise RegistryError("base_url must be an http(s) URL, e.g. https://registry.example/v0.1")
        out["base_url"] = url.rstrip("/")
    for key in ("include_patterns", "exclude_patterns"):
        if key in out and (not isinstance(out[key], list)
                           or not all(isinstance(p, str) and p for p in out[key])):
            raise RegistryError(f"{key} must be a list of name globs")
    for key, low, high in (("interval_minutes", 1, 100000), ("priority", -1000000, 1000000),
                           ("overlap_seconds", 0, 86400), ("page_size", 1, 100)):
        if key in out and (not isinstance(out[key], int) or isinstance(out[key], bool)
                           or not low <= out[key] <= high):
            raise RegistryError(f"{key} must be an integer from {low} to {high}")
    if "enabled" in out and not isinstance(out["enabled"], bool):
        raise RegistryError("enabled must be true or false")
    if "auth_header" in out and (not isinstance(out["auth_header"], str)
                                 or "\n" in out["auth_header"] or "\r" in out["auth_header"]):
        raise RegistryError("auth_header must be a single-line string")
    for key in ("include_patterns", "exclude_patterns"):
        if key in out:
            check_string_list(out[key], field=key, max_items=MAX_PATTERNS, max_length=200)
    check_columns(Upstream, out, limits={"auth_header": AUTH_HEADER_MAX})
    return out


@transaction.atomic
def upstream_save(*, name: str, fields: dict[str, Any], actor: str) -> tuple[Upstream, bool]:
    """Create or update an upstream by name; returns (upstream, created)."""
    upstream_name_check(name)
    cleaned = upstream_fields_clean(fields)
    upstream = Upstream.objects.select_for_update().filter(name=name).first()
    created = upstream is None
    if upstream is None:
        if "base_url" not in cleaned:
            raise RegistryError("base_url is required")
        upstream = Upstream(name=name)
    for key, value in cleaned.items():
        setattr(upstream, key, value)
    upstream.save()
    shown = {k: ("<set>" if k == "auth_header" and v else v) for k, v in cleaned.items()}
    audit_record(actor=actor, action="curation.upstream." + ("created" if created else "updated"),
                 target=f"upstream:{name}", data=shown)
    return upstream, created


@transaction.atomic
def upstream_delete(*, upstream: Upstream, actor: str) -> None:
    """Remove an upstream (mirrored versions stay, with their origin)."""
    audit_record(actor=actor, action="curation.upstream.deleted", target=f"upstream:{upstream.name}")
    upstream.delete()


def reserved_namespace_clean(pattern: str) -> str:
    """A reserved namespace: a namespace or glob such as `com.acme.*` (no server part)."""
    pattern = pattern.strip() if isinstance(pattern, str) else ""
    if not pattern or "/" in pattern or len(pattern) > 200:
        raise RegistryError("a reserved namespace is a namespace or glob such as com.acme.*")
    return pattern


@transaction.atomic
def reserved_namespace_add(*, pattern: str, reason: str, actor: str) -> ReservedNamespace:
    """Reserve a namespace pattern (or change its reason): upstream entries in it are
    refused as conflicts from the next sync on."""
    pattern = reserved_namespace_clean(pattern)
    reserved, created = ReservedNamespace.objects.update_or_create(
        pattern=pattern, defaults={"reason": reason[:500]})
    audit_record(actor=actor,
                 action="curation.reserved_namespace." + ("added" if created else "updated"),
                 target=f"reserved_namespace:{pattern}", data={"reason": reason[:500]})
    return reserved


@transaction.atomic
def reserved_namespace_remove(*, reserved: ReservedNamespace, actor: str) -> None:
    """Lift a reservation: later syncs may mirror that namespace again."""
    audit_record(actor=actor, action="curation.reserved_namespace.removed",
                 target=f"reserved_namespace:{reserved.pattern}")
    reserved.delete()
