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
    if names:
        servers_recompute_latest_from(versions=ServerVersion.objects.filter(name__in=names).only(
            "pk", "name", "version", "published_at", "status", "is_latest"))


def servers_recompute_latest_from(*, versions: Iterable[ServerVersion]) -> None:
    """servers_recompute_latest over rows already in hand (no read): `versions` holds every
    version of each server it names, with the values it is (or is about to be) stored with.

    Rows not stored yet (pk None) only get the flag in memory, so call this before inserting
    them: they are inserted with it, and the rows that lose the flag are cleared first (the
    partial unique index allows one latest row per name). Only rows whose flag changes are
    written: at most 2 statements.
    """
    servers: dict[str, list[ServerVersion]] = {}
    for sv in versions:
        servers.setdefault(sv.name, []).append(sv)
    clear: list[int] = []
    mark: list[int] = []
    for rows in servers.values():
        best = pick_latest([Candidate(sv.version, sv.published_at, sv.status == Status.DELETED)
                            for sv in rows])
        assert best is not None
        for sv in rows:
            latest = sv.version == best.version
            if sv.is_latest != latest:
                if sv.pk is not None:
                    (mark if latest else clear).append(sv.pk)
                sv.is_latest = latest
    if clear:  # clear first: the partial unique index allows one latest row per name
        ServerVersion.objects.filter(pk__in=clear).update(is_latest=False)
    if mark:
        ServerVersion.objects.filter(pk__in=mark).update(is_latest=True)
