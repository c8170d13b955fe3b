"""Ingest (import and mirroring): tolerant, keeps upstream timestamps and status."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from operator import attrgetter
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Field
from django.utils import timezone

from mcp_index_common.validation import validate_manifest
from registry.manifest import OFFICIAL_META_KEY, namespace_of, remote_urls_of
from registry.models import RemoteUrl, ServerVersion, Status
from registry.services.versions import (
    columns_of,
    lock_servers,
    servers_recompute_latest_from,
    versions_invalidate,
)


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to one ingested entry."""

    action: str  # created | updated | unchanged | rejected | conflict
    name: str = ""
    version: str = ""
    invalid: bool = False
    reason: str = ""


@dataclass(frozen=True)
class PreparedEntry:
    """An ingest entry parsed into column values, before any database access."""

    name: str
    version: str
    values: dict[str, Any]
    remote_urls: list[str]
    upstream_updated_at: datetime | None

    @property
    def invalid(self) -> bool:
        return bool(self.values["validation_issues"])


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def split_entry(entry: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(server document, response _meta) from a list entry or a bare server.json."""
    if isinstance(entry, dict) and isinstance(entry.get("server"), dict):
        meta = entry.get("_meta")
        return entry["server"], meta if isinstance(meta, dict) else {}
    if isinstance(entry, dict):
        return entry, {}
    return None, {}


def ingest_prepare(*, entry: Any, origin: str, now: datetime | None = None
                   ) -> PreparedEntry | IngestOutcome:
    """Parse and validate one entry (no queries); a rejected IngestOutcome when unusable."""
    document, meta = split_entry(entry)
    if document is None:
        return IngestOutcome("rejected", reason="entry is not a JSON object")
    name, version = document.get("name"), document.get("version")
    if not isinstance(name, str) or "/" not in name or not isinstance(version, str) or not version:
        return IngestOutcome("rejected", reason="entry has no usable name and version")
    if len(name) > 200 or len(version) > 255:
        return IngestOutcome("rejected", name=name[:200], reason="name or version too long")
    try:
        columns = columns_of(document)
    except (ValueError, TypeError) as exc:  # e.g. integers outside the I-JSON range
        return IngestOutcome("rejected", name=name, version=version, reason=str(exc))
    now = now or timezone.now()
    raw_official = meta.get(OFFICIAL_META_KEY)
    official: dict[str, Any] = raw_official if isinstance(raw_official, dict) else {}
    raw_status = official.get("status")
    status = raw_status if isinstance(raw_status, str) and raw_status in Status.values else Status.ACTIVE
    upstream_updated = _parse_time(official.get("updatedAt"))
    published = _parse_time(official.get("publishedAt")) or now
    updated = upstream_updated or published
    changed_at = _parse_time(official.get("statusChangedAt")) or updated
    raw_message = official.get("statusMessage")
    message = raw_message if isinstance(raw_message, str) else ""
    issues = [i.as_dict() for i in validate_manifest(document).issues if i.severity == "error"]
    values = {
        **columns, "namespace": namespace_of(name), "status": status,
        "status_message": message[:500], "status_changed_at": changed_at,
        "published_at": published, "updated_at": updated, "origin": origin,
        "validation_issues": issues, "upstream_meta": meta or None,
    }
    return PreparedEntry(name, version, values, remote_urls_of(document), upstream_updated)


def _stored_upstream_updated(upstream_meta: Any) -> datetime | None:
    official = upstream_meta.get(OFFICIAL_META_KEY) if isinstance(upstream_meta, dict) else None
    return _parse_time(official.get("updatedAt")) if isinstance(official, dict) else None


def _ingest_action(existing: ServerVersion, prepared: PreparedEntry) -> str:
    """`updated` or `unchanged` (identical, or older than what is stored: an overlap replay)."""
    values = prepared.values
    stored_at = _stored_upstream_updated(existing.upstream_meta)
    if stored_at and prepared.upstream_updated_at and prepared.upstream_updated_at < stored_at:
        return "unchanged"
    same = (existing.digest == values["digest"] and existing.status == values["status"]
            and existing.status_message == values["status_message"]
            and existing.upstream_meta == values["upstream_meta"])
    return "unchanged" if same else "updated"


def version_ingest(*, entry: Any, origin: str, now: datetime | None = None,
                   recompute_latest: bool = True) -> IngestOutcome:
    """Upsert one entry from an import or an upstream, storing its validation issues."""
    prepared = ingest_prepare(entry=entry, origin=origin, now=now)
    if isinstance(prepared, IngestOutcome):
        return prepared
    outcomes = versions_ingest_bulk(prepared=[prepared], origin=origin,
                                    recompute_latest=recompute_latest)
    return outcomes[0]


_UPDATE_FIELDS = ("manifest", "manifest_text", "schema_url", "title", "description", "search_text",
                  "digest", "namespace", "status", "status_message", "status_changed_at",
                  "published_at", "updated_at", "origin", "validation_issues", "upstream_meta")


def _insert_versions(versions: list[ServerVersion]) -> None:
    """bulk_create, as ids drawn from the sequence and one COPY of the rows (PostgreSQL).

    Django 5.2's bulk_create sends each column as one array (INSERT … SELECT FROM UNNEST),
    and psycopg escapes an array of JSON texts in Python, quote by quote: for a page of
    manifests that took longer than validating them. COPY rows are written by psycopg's C code.
    """
    if not versions:
        return
    if connection.vendor != "postgresql":
        ServerVersion.objects.bulk_create(versions)
        return
    meta = ServerVersion._meta
    fields = meta.concrete_fields
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [meta.db_table, meta.pk.attname, len(versions)])
        for sv, (pk,) in zip(versions, cursor.fetchall(), strict=True):
            sv.pk = pk
            sv._state.adding, sv._state.db = False, connection.alias
        columns = ", ".join(quote(f.attname) for f in fields)
        values = _copy_values(fields)
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for sv in versions:
                copy.write_row([value(sv) for value in values])


def _copy_values(fields: Sequence[Field[Any, Any]]) -> list[Callable[[ServerVersion], Any]]:
    """What each column of a version's COPY row holds, as bulk_create would save it.

    Text, numbers, booleans and datetimes go as they are (psycopg writes them; the server
    parses the text); the manifest as the compact JSON already made for `manifest_text`, the
    other JSON columns dumped once here (None is SQL NULL, as JSONField saves it); any other
    field, or a date with auto_now, through Django's own preparation.
    """
    values: list[Callable[[ServerVersion], Any]] = []
    for field in fields:
        if field.attname == "manifest":
            values.append(attrgetter("manifest_text"))
        elif isinstance(field, models.JSONField):
            values.append(partial(_json_text, field.attname, field.encoder))
        elif (isinstance(field, _AS_THEY_ARE) and not getattr(field, "auto_now", False)
              and not getattr(field, "auto_now_add", False)):
            values.append(attrgetter(field.attname))
        else:
            values.append(partial(_prepared, field))
    return values


_AS_THEY_ARE = (models.CharField, models.TextField, models.BooleanField, models.IntegerField,
                models.AutoField, models.BigAutoField, models.DateTimeField)


def _json_text(attname: str, encoder: type[json.JSONEncoder] | None, sv: ServerVersion) -> str | None:
    value = getattr(sv, attname)
    return None if value is None else json.dumps(value, cls=encoder)


def _prepared(field: Field[Any, Any], sv: ServerVersion) -> Any:
    return field.get_db_prep_save(field.pre_save(sv, True), connection)  # pre_save: auto_now


@transaction.atomic
def versions_ingest_bulk(*, prepared: list[PreparedEntry], origin: str,
                         takeover_from: frozenset[str] = frozenset(),
                         recompute_latest: bool = True) -> list[IngestOutcome]:
    """Upsert prepared entries in a few statements, with version_ingest's semantics.

    A row held by another origin is left alone (outcome `conflict`) unless that origin is
    in `takeover_from`; latest is recomputed once per touched server, from the rows read
    here (servers_recompute_latest_from), unless `recompute_latest` is False.
    """
    unique: dict[tuple[str, str], PreparedEntry] = {}
    for p in prepared:
        unique[(p.name, p.version)] = p  # a page repeating a key: the last copy wins
    names = {p.name for p in unique.values()}
    lock_servers(names)
    existing: dict[tuple[str, str], ServerVersion] = {}
    for sv in ServerVersion.objects.filter(name__in=names):
        existing[(sv.name, sv.version)] = sv
    outcomes: dict[tuple[str, str], IngestOutcome] = {}
    to_create: list[tuple[ServerVersion, PreparedEntry]] = []
    to_update: list[tuple[ServerVersion, PreparedEntry]] = []
    for key, p in unique.items():
        found = existing.get(key)
        if found is None:
            to_create.append((ServerVersion(name=p.name, version=p.version, **p.values), p))
            outcomes[key] = IngestOutcome("created", p.name, p.version, p.invalid)
        elif found.origin != origin and found.origin not in takeover_from:
            outcomes[key] = IngestOutcome("conflict", p.name, p.version, p.invalid,
                                          reason=f"already held by origin {found.origin!r}")
        elif _ingest_action(found, p) == "unchanged":
            outcomes[key] = IngestOutcome("unchanged", p.name, p.version, p.invalid)
        else:
            for field, value in p.values.items():
                setattr(found, field, value)
            to_update.append((found, p))
            outcomes[key] = IngestOutcome("updated", p.name, p.version, p.invalid)
    written = {p.name for _, p in to_create + to_update}
    if recompute_latest:  # from the rows in hand (every version of these names, as they will
        # be stored), before the insert: new rows go in with their flag, none is updated again
        servers_recompute_latest_from(versions=[
            sv for sv in [*existing.values(), *(sv for sv, _ in to_create)] if sv.name in written])
    _insert_versions([sv for sv, _ in to_create])
    if to_update:
        ServerVersion.objects.bulk_update([sv for sv, _ in to_update], _UPDATE_FIELDS)
        RemoteUrl.objects.filter(server_version__in=[sv.pk for sv, _ in to_update]).delete()
    RemoteUrl.objects.bulk_create([RemoteUrl(server_version=sv, url=u, name=p.name)
                                   for sv, p in to_create + to_update for u in p.remote_urls])
    versions_invalidate(names=written)
    return [outcomes[(p.name, p.version)] for p in prepared]
