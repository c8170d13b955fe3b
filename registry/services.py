"""Every write to the registry: publishing, status changes, edits, ingest, tokens, audit."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from mcp_index_common.validation import validate_manifest
from ops import generations
from registry.errors import InvalidManifest, NotFound, PublishRefused, RegistryError
from registry.manifest import (
    OFFICIAL_META_KEY,
    PUBLISHER_META_KEY,
    canonical_digest,
    compact_json,
    namespace_of,
    remote_urls_of,
    search_text_of,
)
from registry.models import LOCAL_ORIGIN, ApiToken, AuditEvent, RemoteUrl, ServerVersion, Status
from registry.ownership import OwnershipError, check_ownership
from registry.signals import versions_changed, versions_touched
from registry.versioning import Candidate, pick_latest

TOKEN_PREFIX = "mcpi_"


def audit_record(*, actor: str, action: str, target: str, data: dict[str, Any] | None = None
                 ) -> AuditEvent:
    """Write one audit event (dotted action, e.g. `registry.version.published`)."""
    return AuditEvent.objects.create(actor=actor, action=action, target=target, data=data or {})


def versions_invalidate(*, names: Iterable[str]) -> None:
    """What readers see of these servers changed: drop cached reads of every catalog
    showing them (the built-in `all` here; catalogs through `versions_touched`)."""
    names = set(names)
    if names:
        generations.bump_builtin()
        versions_touched.send(sender=ServerVersion, names=names)


def _announce(name: str) -> None:
    """Invalidate caches now; tell derived views (catalogs) once the transaction commits."""
    versions_invalidate(names={name})
    transaction.on_commit(lambda: versions_changed.send(sender=ServerVersion, names={name}))


def _lock_servers(names: Iterable[str]) -> None:
    """Advisory locks for many names, taken in sorted order so writers cannot deadlock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(n, 0)) "
                           "FROM unnest(%s::text[]) AS n ORDER BY n", [sorted(set(names))])


def _reserved_meta_issues(document: dict[str, Any]) -> list[str]:
    meta = document.get("_meta")
    if not isinstance(meta, dict):
        return []
    ours = settings.MCP_INDEX_NAMESPACE + "/"
    return [key for key in meta
            if key == OFFICIAL_META_KEY or key.startswith(ours)
            or (key.startswith("io.modelcontextprotocol.registry/") and key != PUBLISHER_META_KEY)]


def _check_remote_urls(name: str, urls: list[str]) -> None:
    taken = (RemoteUrl.objects.filter(url__in=urls).exclude(name=name)
             .exclude(server_version__status=Status.DELETED)
             .values_list("url", "name").first())
    if taken:
        raise PublishRefused("Failed to publish server", errors=[
            f"remote URL {taken[0]} is already used by server {taken[1]}"])


def _columns(document: dict[str, Any]) -> dict[str, Any]:
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


def validate_for_publish(document: Any) -> dict[str, Any]:
    """Full validation plus our publish-only rules; raises InvalidManifest (422)."""
    result = validate_manifest(document)
    if not result.valid:
        raise InvalidManifest("Failed to publish server, invalid schema: call /validate for "
                              "details", result)
    reserved = _reserved_meta_issues(document)
    if reserved:
        raise PublishRefused("Failed to publish server", errors=[
            f"_meta key {k!r} is reserved for registries and cannot be published" for k in reserved])
    return document


def _check_packages(document: dict[str, Any]) -> None:
    """Package ownership (network I/O): run before any transaction or lock is taken."""
    try:
        check_ownership(document)
    except OwnershipError as exc:
        raise PublishRefused("Failed to publish server", errors=[
            f"registry validation failed: {exc}"]) from exc


def version_publish(*, document: dict[str, Any], actor: str) -> ServerVersion:
    """Publish a new immutable version; recomputes latest; refuses duplicates (400)."""
    validate_for_publish(document)
    _check_packages(document)
    return _version_create(document=document, actor=actor)


@transaction.atomic
def _version_create(*, document: dict[str, Any], actor: str) -> ServerVersion:
    name, version = document["name"], document["version"]
    _lock_servers([name])
    if ServerVersion.objects.filter(name=name, version=version).exists():
        raise PublishRefused("Failed to publish server", errors=[
            f"invalid version: cannot publish duplicate version {version} of {name}"])
    if ServerVersion.objects.filter(name=name).count() >= settings.MCP_INDEX_MAX_VERSIONS_PER_SERVER:
        raise PublishRefused("Failed to publish server", errors=[
            f"{name} has reached the limit of {settings.MCP_INDEX_MAX_VERSIONS_PER_SERVER} versions"])
    urls = remote_urls_of(document)
    _check_remote_urls(name, urls)
    now = timezone.now()
    sv = ServerVersion.objects.create(
        name=name, namespace=namespace_of(name), version=version, status=Status.ACTIVE,
        status_changed_at=now, published_at=now, updated_at=now, origin=LOCAL_ORIGIN,
        **_columns(document),
    )
    RemoteUrl.objects.bulk_create([RemoteUrl(server_version=sv, url=u, name=name) for u in urls])
    servers_recompute_latest(names=[name])
    audit_record(actor=actor, action="registry.version.published", target=str(sv),
                 data={"digest": sv.digest})
    _announce(name)
    sv.refresh_from_db()
    return sv


def _validate_status(status: str, message: str | None) -> str:
    if status not in Status.values:
        raise RegistryError(f"Invalid status: {status}. Must be one of: active, deprecated, deleted")
    if status == Status.ACTIVE and message:
        raise RegistryError("statusMessage cannot be provided when setting status to active")
    return message or ""


def _apply_status(sv: ServerVersion, status: str, message: str, now: datetime) -> bool:
    if sv.status == status and sv.status_message == message:
        return False
    if status != Status.DELETED and sv.status == Status.DELETED:
        _check_remote_urls(sv.name, remote_urls_of(sv.manifest))
    if sv.status != status:
        sv.status_changed_at = now
    sv.status, sv.status_message, sv.updated_at = status, message, now
    sv.save(update_fields=["status", "status_message", "status_changed_at", "updated_at"])
    return True


@transaction.atomic
def version_set_status(*, name: str, version: str, status: str, message: str | None,
                       actor: str) -> ServerVersion:
    """Change one version's status (any direction); a no-op is refused with 400."""
    message = _validate_status(status, message)
    _lock_servers([name])
    sv = ServerVersion.objects.filter(name=name, version=version).first()
    if sv is None:
        raise NotFound("Server version not found")
    if not _apply_status(sv, status, message, timezone.now()):
        raise RegistryError("No changes to apply: status and message are already set to the "
                            "provided values")
    servers_recompute_latest(names=[name])
    audit_record(actor=actor, action="registry.version.status_changed", target=str(sv),
                 data={"status": status, "message": message})
    _announce(name)
    sv.refresh_from_db()
    return sv


@transaction.atomic
def server_set_status(*, name: str, status: str, message: str | None, actor: str
                      ) -> list[ServerVersion]:
    """Change the status of every version of a server in one transaction."""
    message = _validate_status(status, message)
    _lock_servers([name])
    versions = list(ServerVersion.objects.filter(name=name).order_by("-published_at"))
    if not versions:
        raise NotFound("Server not found")
    now = timezone.now()
    changed = [sv for sv in versions if _apply_status(sv, status, message, now)]
    if not changed:
        raise RegistryError("No changes to apply: all versions already have the requested "
                            "status and message")
    servers_recompute_latest(names=[name])
    audit_record(actor=actor, action="registry.server.status_changed", target=name,
                 data={"status": status, "message": message, "versions": len(changed)})
    _announce(name)
    return list(ServerVersion.objects.filter(pk__in=[sv.pk for sv in changed])
                .order_by("-published_at"))


def version_edit(*, name: str, version: str, document: dict[str, Any], actor: str
                 ) -> ServerVersion:
    """Admin replace of a version's manifest; name and version cannot change."""
    validate_for_publish(document)
    _check_packages(document)
    return _version_replace(name=name, version=version, document=document, actor=actor)


@transaction.atomic
def _version_replace(*, name: str, version: str, document: dict[str, Any], actor: str
                     ) -> ServerVersion:
    _lock_servers([name])
    sv = ServerVersion.objects.filter(name=name, version=version).first()
    if sv is None or sv.status == Status.DELETED:
        raise NotFound("Server not found")
    if document.get("name") != name:
        raise RegistryError("Cannot rename server")
    if document.get("version") != version:
        raise RegistryError("Version in request body must match URL path parameter")
    urls = remote_urls_of(document)
    _check_remote_urls(name, urls)
    before = sv.digest
    for key, value in _columns(document).items():
        setattr(sv, key, value)
    sv.updated_at = timezone.now()
    sv.validation_issues = []
    sv.save()
    RemoteUrl.objects.filter(server_version=sv).delete()
    RemoteUrl.objects.bulk_create([RemoteUrl(server_version=sv, url=u, name=name) for u in urls])
    audit_record(actor=actor, action="registry.version.edited", target=str(sv),
                 data={"digest_before": before, "digest_after": sv.digest})
    _announce(name)
    return sv


# --- ingest (import and mirroring): tolerant, keeps upstream timestamps and status ---

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
        columns = _columns(document)
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


@transaction.atomic
def versions_ingest_bulk(*, prepared: list[PreparedEntry], origin: str,
                         takeover_from: frozenset[str] = frozenset(),
                         recompute_latest: bool = True) -> list[IngestOutcome]:
    """Upsert prepared entries in a few statements, with version_ingest's semantics.

    A row held by another origin is left alone (outcome `conflict`) unless that origin is
    in `takeover_from`; latest is recomputed once per touched server.
    """
    unique: dict[tuple[str, str], PreparedEntry] = {}
    for p in prepared:
        unique[(p.name, p.version)] = p  # a page repeating a key: the last copy wins
    names = {p.name for p in unique.values()}
    _lock_servers(names)
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
    ServerVersion.objects.bulk_create([sv for sv, _ in to_create])
    if to_update:
        ServerVersion.objects.bulk_update([sv for sv, _ in to_update], _UPDATE_FIELDS)
        RemoteUrl.objects.filter(server_version__in=[sv.pk for sv, _ in to_update]).delete()
    RemoteUrl.objects.bulk_create([RemoteUrl(server_version=sv, url=u, name=p.name)
                                   for sv, p in to_create + to_update for u in p.remote_urls])
    written = {p.name for _, p in to_create + to_update}
    if recompute_latest:
        servers_recompute_latest(names=written)
    versions_invalidate(names=written)
    return [outcomes[(p.name, p.version)] for p in prepared]


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


# --- API tokens ---

@dataclass(frozen=True)
class CreatedToken:
    """A new API token: the secret is only ever available here."""

    token: ApiToken
    secret: str


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(*, name: str, patterns: Iterable[str], actor: str, owner: Any = None,
                 can_edit: bool = False, scopes: Iterable[str] = (),
                 expires_in_days: int | None = None) -> CreatedToken:
    """Create a scoped API token; returns the secret once (only its hash is stored)."""
    patterns = [p.strip() for p in patterns if p and p.strip()]
    if not patterns and not scopes:
        raise RegistryError("a token needs at least one name pattern or scope")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken.objects.create(
        name=name, prefix=secret[: len(TOKEN_PREFIX) + 6], token_hash=_hash_secret(secret),
        patterns=patterns, can_edit=can_edit, scopes=list(scopes), owner=owner, expires_at=expires,
        created_by=actor)
    audit_record(actor=actor, action="registry.token.created", target=f"token:{token.pk}",
                 data={"name": name, "patterns": patterns, "scopes": list(scopes)})
    return CreatedToken(token=token, secret=secret)


def token_revoke(*, token: ApiToken, actor: str) -> ApiToken:
    """Revoke a token (idempotent)."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="registry.token.revoked", target=f"token:{token.pk}")
    return token


def token_live_id(secret: str) -> int | None:
    """The id of the live token (not revoked, not expired) for a secret; reads only."""
    live = ApiToken.objects.filter(token_hash=_hash_secret(secret), revoked_at__isnull=True)
    return live.exclude(expires_at__lte=timezone.now()).values_list("pk", flat=True).first()


def token_authenticate(secret: str) -> ApiToken | None:
    """The live token for a secret (not revoked, not expired), touching last_used_at."""
    token = ApiToken.objects.filter(token_hash=_hash_secret(secret)).select_related("owner").first()
    now = timezone.now()
    if token is None or token.revoked_at or (token.expires_at and token.expires_at <= now):
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
