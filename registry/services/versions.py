"""What every write to versions shares: locks, stored columns, latest, invalidation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction

from ops import generations
from registry.errors import PublishRefused
from registry.manifest import canonical_digest, compact_json, search_text_of
from registry.models import RemoteUrl, ServerVersion, Status
from registry.signals import versions_changed, versions_touched
from registry.versioning import Candidate, pick_latest


def versions_invalidate(*, names: Iterable[str]) -> None:
    """What readers see of these servers changed: drop cached reads of every catalog
    showing them (the built-in `all` here; catalogs through `versions_touched`)."""
    names = set(names)
    if names:
        generations.bump_builtin()
        versions_touched.send(sender=ServerVersion, names=names)


def announce(name: str) -> None:
    """Invalidate caches now; tell derived views (catalogs) once the transaction commits."""
    versions_invalidate(names={name})
    transaction.on_commit(lambda: versions_changed.send(sender=ServerVersion, names={name}))


def lock_servers(names: Iterable[str]) -> None:
    """Advisory locks for many names, taken in sorted order so writers cannot deadlock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(n, 0)) "
                           "FROM unnest(%s::text[]) AS n ORDER BY n", [sorted(set(names))])



def check_remote_urls(name: str, urls: list[str]) -> None:
    taken = (RemoteUrl.objects.filter(url__in=urls).exclude(name=name)
             .exclude(server_version__status=Status.DELETED)
             .values_list("url", "name").first())
    if taken:
        raise PublishRefused("Failed to publish server", errors=[
            f"remote URL {taken[0]} is already used by server {taken[1]}"])


def columns_of(document: dict[str, Any]) -> dict[str, Any]:
    title = document.get("title")
    description = document.get("description")
    return {
        "manifest": document,
        "manifest_text": compact_json(document),
        "schema_url": str(document.get("$schema") or "")[:500],
        "title": title if isinstance(title, str) else "",
        "description": description if isinstance(description, str) else "",
        "search_text": search_text_of(document),
        "digest": canonical_digest(document),
    }


def servers_recompute_latest(*, names: Iterable[str]) -> None:
    """Move is_latest to the version the official rules pick, for each server: 3 statements."""
    names = set(names)
    if not names:
        return
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for row in (ServerVersion.objects.filter(name__in=names)
                .values_list("pk", "name", "version", "published_at", "status", "is_latest")):
        rows.setdefault(row[1], []).append(row)
    clear, mark = [], []
    for versions in rows.values():
        best = pick_latest([Candidate(r[2], r[3], r[4] == Status.DELETED) for r in versions])
        assert best is not None
        for r in versions:
            if r[2] == best.version and not r[5]:
                mark.append(r[0])
            elif r[2] != best.version and r[5]:
                clear.append(r[0])
    if clear:  # clear first: the partial unique index allows one latest row per name
        ServerVersion.objects.filter(pk__in=clear).update(is_latest=False)
    if mark:
        ServerVersion.objects.filter(pk__in=mark).update(is_latest=True)
