"""JSON shapes of curation objects in the extension API (secrets never included)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from curation.models import (
    Catalog,
    CatalogEntry,
    CatalogPin,
    CatalogRule,
    SyncConflict,
    SyncRun,
    Upstream,
)
from registry.api.errors import Problem
from registry.api.render import rfc3339


def _t(value: datetime | None) -> str | None:
    return rfc3339(value) if value else None


def optional_str(body: dict[str, Any], key: str, limit: int = 5000) -> str:
    """A body string that may be absent (then empty); 422 when it is not a short string."""
    value = body.get(key, "")
    if not isinstance(value, str) or len(value) > limit:
        raise Problem(422, f"{key} must be a string of at most {limit} characters")
    return value


def upstream_json(u: Upstream) -> dict[str, Any]:
    return {"name": u.name, "base_url": u.base_url, "has_auth_header": bool(u.auth_header),
            "include_patterns": u.include_patterns, "exclude_patterns": u.exclude_patterns,
            "interval_minutes": u.interval_minutes, "priority": u.priority,
            "enabled": u.enabled, "overlap_seconds": u.overlap_seconds, "page_size": u.page_size,
            "high_water": _t(u.high_water), "resumable": u.checkpoint is not None,
            "last_sync_at": _t(u.last_sync_at)}


def run_json(r: SyncRun, log: bool = False) -> dict[str, Any]:
    body = {"id": r.pk, "mode": r.mode, "state": r.state, "resumed": r.resumed,
            "since": _t(r.since), "started_at": _t(r.started_at),
            "finished_at": _t(r.finished_at), "pages": r.pages, "created": r.created,
            "updated": r.updated, "unchanged": r.unchanged, "skipped": r.skipped,
            "conflicts": r.conflicts, "rejected": r.rejected, "invalid": r.invalid,
            "vanished": r.vanished, "retries": r.retries, "errors": r.errors, "error": r.error}
    if log:
        body["log"] = r.log
    return body


def conflict_json(c: SyncConflict) -> dict[str, Any]:
    return {"name": c.name, "version": c.version, "reason": c.reason,
            "first_seen_at": _t(c.first_seen_at), "last_seen_at": _t(c.last_seen_at)}


def catalog_json(c: Catalog) -> dict[str, Any]:
    return {"slug": c.slug, "title": c.title, "description": c.description, "public": c.public,
            "sources": c.sources, "default_action": c.default_action,
            "review_mode": c.review_mode, "trust_policy": c.trust_policy,
            "generation": c.generation, "rebuilt_at": _t(c.rebuilt_at),
            "base_url": f"/c/{c.slug}/v0.1"}


def rule_json(r: CatalogRule) -> dict[str, Any]:
    body: dict[str, Any] = {"id": r.pk, "position": r.position, "action": r.action}
    for key in ("name_pattern", "namespace", "source", "registry_type", "transport", "kind",
                "repository_host", "status", "trust_policy", "note"):
        if getattr(r, key):
            body[key] = getattr(r, key)
    if r.schema_valid is not None:
        body["schema_valid"] = r.schema_valid
    return body


def pin_json(p: CatalogPin) -> dict[str, Any]:
    return {"name": p.name, "version": p.version, "note": p.note}


def entry_json(e: CatalogEntry) -> dict[str, Any]:
    return {"name": e.name, "version": e.version, "state": e.state, "reason": e.reason,
            "since": _t(e.created_at)}
