"""Publishing a version (with Idempotency-Key replays) and replacing its manifest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from mcp_index_common.input import value_problem
from mcp_index_common.validation import validate_manifest
from registry.errors import (
    Conflict,
    IdempotencyKeyReused,
    InvalidInput,
    InvalidManifest,
    NotFound,
    PublishRefused,
    RegistryError,
)
from registry.limits import check_columns
from registry.manifest import OFFICIAL_META_KEY, PUBLISHER_META_KEY, namespace_of, remote_urls_of
from registry.models import LOCAL_ORIGIN, IdempotencyRecord, RemoteUrl, ServerVersion, Status
from registry.ownership import OwnershipError, check_ownership
from registry.services.audit import audit_record
from registry.services.versions import (
    announce,
    check_remote_urls,
    columns_of,
    lock_servers,
    servers_recompute_latest,
)


def _reserved_meta_issues(document: dict[str, Any]) -> list[str]:
    meta = document.get("_meta")
    if not isinstance(meta, dict):
        return []
    ours = settings.MCP_INDEX_NAMESPACE + "/"
    return [key for key in meta
            if key == OFFICIAL_META_KEY or key.startswith(ours)
            or (key.startswith("io.modelcontextprotocol.registry/") and key != PUBLISHER_META_KEY)]


# RemoteUrl.url is indexed: with multibyte characters 2,000 characters could overflow a
# b-tree row, so the limit is in bytes.
REMOTE_URL_MAX_BYTES = 2000


def _check_storable(document: dict[str, Any]) -> None:
    """InvalidInput (422) for what a valid manifest may still hold that cannot be stored:
    numbers RFC 8785 cannot canonicalise, NUL, lone surrogates, values over their column."""
    problem = value_problem(document, location="")
    if problem is not None:
        raise InvalidInput(f"Failed to publish server: {problem}", location=problem.location)
    check_columns(ServerVersion, {key: document.get(key) for key in ("name", "version", "title")})
    remotes = document.get("remotes")
    for i, remote in enumerate(remotes if isinstance(remotes, list) else []):
        url = remote.get("url") if isinstance(remote, dict) else None
        if isinstance(url, str) and len(url.encode()) > REMOTE_URL_MAX_BYTES:
            raise InvalidInput(f"Failed to publish server: remotes[{i}].url is longer than "
                               f"{REMOTE_URL_MAX_BYTES} bytes", location=f"remotes[{i}].url")


def validate_for_publish(document: Any) -> dict[str, Any]:
    """Full validation plus our publish-only rules; raises InvalidManifest (422)."""
    result = validate_manifest(document)
    if not result.valid:
        raise InvalidManifest("Failed to publish server, invalid schema: call /validate for "
                              "details", result)
    _check_storable(document)
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


@dataclass(frozen=True)
class Idempotency:
    """An Idempotency-Key and the sha256 of the request it came with."""

    key: str
    request_hash: str


@dataclass(frozen=True)
class PublishResult:
    """A publish's answer: the new version and its rendered body, or an earlier answer replayed."""

    body: str  # what the renderer made of the version ("" without one), or the stored answer
    status_code: int = 200
    version: ServerVersion | None = None  # None when replayed
    replayed: bool = False


# Turns the new version into the response body: passed by the API, which owns the rendering,
# so that the answer stored for an Idempotency-Key is byte for byte the one first sent.
Render = Callable[[ServerVersion], str]


def version_publish(*, document: dict[str, Any], actor: str,
                    idempotency: Idempotency | None = None, render: Render | None = None
                    ) -> PublishResult:
    """Publish a new immutable version; recomputes latest; refuses duplicates (400).

    With `idempotency`, a repeat of the same request by the same actor replays the stored
    answer (a different body under the key is refused, 422); the answer is stored in the
    publishing transaction, so a publish that failed leaves nothing and can be retried.
    """
    if idempotency is not None:
        if render is None:
            raise ValueError("an idempotent publish needs a renderer for the answer it stores")
        replay = _idempotent_replay(idempotency=idempotency, actor=actor)
        if replay is not None:
            return replay
    validate_for_publish(document)
    _check_packages(document)
    try:
        return _version_create(document=document, actor=actor, idempotency=idempotency,
                               render=render)
    except IntegrityError:
        if idempotency is None:
            raise
        # A concurrent request with the same key committed its record first.
        raise Conflict("A request with this Idempotency-Key is already being processed"
                       ) from None


def _idempotent_replay(*, idempotency: Idempotency, actor: str) -> PublishResult | None:
    record = IdempotencyRecord.objects.filter(actor=actor, key=idempotency.key).first()
    if record is None:
        return None
    if record.request_hash != idempotency.request_hash:
        raise IdempotencyKeyReused("Idempotency-Key was already used with a different request body")
    return PublishResult(body=record.response_body, status_code=record.status_code, replayed=True)


@transaction.atomic
def _version_create(*, document: dict[str, Any], actor: str, idempotency: Idempotency | None,
                    render: Render | None) -> PublishResult:
    name, version = document["name"], document["version"]
    lock_servers([name])
    if ServerVersion.objects.filter(name=name, version=version).exists():
        raise PublishRefused("Failed to publish server", errors=[
            f"invalid version: cannot publish duplicate version {version} of {name}"])
    if ServerVersion.objects.filter(name=name).count() >= settings.MCP_INDEX_MAX_VERSIONS_PER_SERVER:
        raise PublishRefused("Failed to publish server", errors=[
            f"{name} has reached the limit of {settings.MCP_INDEX_MAX_VERSIONS_PER_SERVER} versions"])
    urls = remote_urls_of(document)
    check_remote_urls(name, urls)
    now = timezone.now()
    sv = ServerVersion.objects.create(
        name=name, namespace=namespace_of(name), version=version, status=Status.ACTIVE,
        status_changed_at=now, published_at=now, updated_at=now, origin=LOCAL_ORIGIN,
        **columns_of(document),
    )
    RemoteUrl.objects.bulk_create([RemoteUrl(server_version=sv, url=u, name=name) for u in urls])
    servers_recompute_latest(names=[name])
    audit_record(actor=actor, action="registry.version.published", target=str(sv),
                 data={"digest": sv.digest})
    announce(name)
    sv.refresh_from_db()
    body = render(sv) if render is not None else ""
    if idempotency is not None:
        IdempotencyRecord.objects.create(key=idempotency.key, actor=actor,
                                         request_hash=idempotency.request_hash,
                                         status_code=200, response_body=body)
    return PublishResult(body=body, version=sv)


def version_edit(*, name: str, version: str, document: dict[str, Any], actor: str
                 ) -> ServerVersion:
    """Admin replace of a version's manifest; name and version cannot change."""
    validate_for_publish(document)
    _check_packages(document)
    return _version_replace(name=name, version=version, document=document, actor=actor)


@transaction.atomic
def _version_replace(*, name: str, version: str, document: dict[str, Any], actor: str
                     ) -> ServerVersion:
    lock_servers([name])
    sv = ServerVersion.objects.filter(name=name, version=version).first()
    if sv is None or sv.status == Status.DELETED:
        raise NotFound("Server not found")
    if document.get("name") != name:
        raise RegistryError("Cannot rename server")
    if document.get("version") != version:
        raise RegistryError("Version in request body must match URL path parameter")
    urls = remote_urls_of(document)
    check_remote_urls(name, urls)
    before = sv.digest
    for key, value in columns_of(document).items():
        setattr(sv, key, value)
    sv.updated_at = timezone.now()
    sv.validation_issues = []
    sv.save()
    RemoteUrl.objects.filter(server_version=sv).delete()
    RemoteUrl.objects.bulk_create([RemoteUrl(server_version=sv, url=u, name=name) for u in urls])
    audit_record(actor=actor, action="registry.version.edited", target=str(sv),
                 data={"digest_before": before, "digest_after": sv.digest})
    announce(name)
    return sv
