"""Writes of discovery.

Search: derived data, documents kept current by content hash and embeddings by text. Both
are caches of what the versions say (no audit event: nothing here is a decision) and
idempotent, so any caller may run them again after a crash.

Tool inventory (every write audited): inventories found, probes recorded (drift audited),
"probe now", catalog inventory policies and pinned tool sets.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from curation.models import Catalog, CatalogEntry
from curation.services.membership import catalog_rebuild
from discovery import embedding, observation, tasks
from discovery.documents import Document, document_of, tool_texts
from discovery.models import (
    CatalogInventoryPolicy,
    Drift,
    Embedding,
    Inventory,
    Probe,
    ProbeStatus,
    SearchDocument,
    Tool,
)
from discovery.probe import ProbeResult, target_of
from mcp_index_common.toolsets import declared_tools, tool_names, tools_digest
from ops import generations
from registry.errors import RegistryError
from registry.models import ServerVersion, Status
from registry.services import audit_record, versions_invalidate

log = logging.getLogger(__name__)
CHUNK = 500

SYSTEM_ACTOR = "system:prober"
DECLARED_KEY_SUFFIX = "/tools"  # server.json `_meta["<namespace>/tools"]`


@dataclass(frozen=True)
class RefreshReport:
    """What a documents_refresh pass did."""

    written: int
    unchanged: int
    removed: int


@dataclass(frozen=True)
class EmbedReport:
    """What an embeddings_compute pass did."""

    embedded: int
    seconds: float
    remaining: int  # documents whose text still has no vector (another pass takes them)


def served_version_ids(*, names: Iterable[str] | None = None) -> set[int]:
    """Versions that are the latest somewhere: the registry's, and every catalog's."""
    registry = ServerVersion.objects.filter(is_latest=True)
    entries = CatalogEntry.objects.filter(listed=True, is_latest=True)
    if names is not None:
        names = sorted(set(names))
        registry, entries = registry.filter(name__in=names), entries.filter(name__in=names)
    return (set(registry.values_list("id", flat=True))
            | set(entries.values_list("server_version_id", flat=True)))


def document_from_row(row: SearchDocument) -> Document:
    """The Document a stored row says (to embed it, or to rank it)."""
    return Document(name=row.name, title=row.title, description=row.description,
                    packages=row.packages, hosts=row.hosts, repository=row.repository,
                    tools=row.tools, keys=list(row.keys), registry_types=list(row.registry_types),
                    transports=list(row.transports), has_remote=row.has_remote,
                    has_package=row.has_package, namespace=row.namespace)


def _row(version_id: int, doc: Document) -> SearchDocument:
    return SearchDocument(
        server_version_id=version_id, name=doc.name, title=doc.title,
        description=doc.description, packages=doc.packages, hosts=doc.hosts,
        repository=doc.repository, tools=doc.tools, keys=doc.keys,
        registry_types=doc.registry_types, transports=doc.transports,
        has_remote=doc.has_remote, has_package=doc.has_package, namespace=doc.namespace,
        content_hash=doc.content_hash(), embed_hash=doc.embed_hash())


_FIELDS = [f.name for f in SearchDocument._meta.concrete_fields
           if f.name not in ("server_version", "updated_at")] + ["updated_at"]


def documents_refresh(*, names: Iterable[str] | None = None,
                      version_ids: Iterable[int] | None = None) -> RefreshReport:
    """Write the documents of served versions (of `names`, or these ids, or all) whose content
    changed, and drop those of versions no longer served. Unchanged hashes are not written."""
    wanted = set(version_ids or ()) if version_ids is not None else set()
    if names is not None:
        names = set(names)
        wanted |= served_version_ids(names=names)
    elif version_ids is None:
        wanted = served_version_ids()
    written = unchanged = 0
    ordered = sorted(wanted)
    for start in range(0, len(ordered), CHUNK):
        ids = ordered[start: start + CHUNK]
        stored = dict(SearchDocument.objects.filter(server_version_id__in=ids)
                      .values_list("server_version_id", "content_hash"))
        tools = tool_texts(ids)
        fresh: list[SearchDocument] = []
        for vid, manifest in ServerVersion.objects.filter(id__in=ids).values_list("id",
                                                                                 "manifest"):
            row = _row(vid, document_of(manifest if isinstance(manifest, dict) else {},
                                        tools=tools.get(vid, "")))
            if stored.get(vid) == row.content_hash:
                unchanged += 1
            else:
                fresh.append(row)
        with transaction.atomic():
            SearchDocument.objects.bulk_create(
                fresh, update_conflicts=True, unique_fields=["server_version"],
                update_fields=[f for f in _FIELDS if f != "server_version_id"])
        written += len(fresh)
    removed = 0
    if names is not None:  # these servers' documents of versions no longer served
        removed = (SearchDocument.objects.filter(name__in=sorted(names))
                   .exclude(server_version_id__in=ordered).delete()[0])
    elif version_ids is None:  # the full pass: every document of a version no longer served
        gone = sorted(set(SearchDocument.objects.values_list("server_version_id", flat=True))
                      - wanted)
        for start in range(0, len(gone), CHUNK):
            removed += SearchDocument.objects.filter(
                server_version_id__in=gone[start: start + CHUNK]).delete()[0]
    return RefreshReport(written, unchanged, removed)


def missing_embeddings(model: str = embedding.MODEL_ID) -> Q:
    """Documents whose embedded text has no vector of this model yet."""
    return ~Q(embed_hash__in=Embedding.objects.filter(model=model).values("content_hash"))


def embeddings_compute(*, limit: int = 2000) -> EmbedReport:
    """Embed up to `limit` document texts that have no vector yet, in batches."""
    pending = SearchDocument.objects.filter(missing_embeddings())
    if not pending.exists():
        return EmbedReport(0, 0.0, 0)
    encoder = embedding.encoder()
    if encoder is None:
        return EmbedReport(0, 0.0, pending.count())
    rows = list(pending.order_by("embed_hash")[: limit * 2])
    texts: dict[str, str] = {}
    for row in rows:
        if len(texts) >= limit:
            break
        texts.setdefault(row.embed_hash, document_from_row(row).embed_text())
    started = time.perf_counter()
    keys = list(texts)
    vectors = encoder.encode([texts[k] for k in keys])
    Embedding.objects.bulk_create(
        [Embedding(content_hash=k, model=embedding.MODEL_ID, vector=embedding.to_bytes(v))
         for k, v in zip(keys, vectors, strict=True)], ignore_conflicts=True)
    seconds = time.perf_counter() - started
    # Cached search pages were ranked without these vectors: every scope's cached reads go
    # (once per batch of up to `limit` texts, when the transaction commits).
    generations.bump_everything()
    remaining = SearchDocument.objects.filter(missing_embeddings()).count()
    log.info("event=embeddings.computed count=%d seconds=%.2f remaining=%d", len(keys),
             seconds, remaining)
    return EmbedReport(len(keys), seconds, remaining)


def declared_key() -> str:
    """The `_meta` key under which publishers declare their tools."""
    return settings.MCP_INDEX_NAMESPACE + DECLARED_KEY_SUFFIX


class NotProbeable(RegistryError):
    """The version has no remote the prober speaks to (422)."""

    status = 422
    title = "Unprocessable Entity"


class InvalidInventoryPolicy(RegistryError):
    """A catalog inventory policy out of range (422)."""

    status = 422
    title = "Unprocessable Entity"


def _inventory_for(version: Mapping[str, Any]) -> Inventory | None:
    """A new inventory for a version's values (id, name, manifest); None without a remote."""
    manifest = version["manifest"]
    target = target_of(manifest)
    if target is None:
        return None
    vid, name = version["id"], version["name"]
    declared = declared_tools(manifest, declared_key())
    return Inventory(server_version_id=vid, name=name, url=target.url, transport=target.transport,
                     host=target.host[:255], skip_reason=target.skip_reason[:500],
                     declared_digest=tools_digest(declared) if declared is not None else "",
                     declared_names=sorted(tool_names(declared or [])),
                     next_probe_at=timezone.now())


def inventories_discover(*, limit: int = 5000, version_ids: Iterable[int] | None = None) -> int:
    """Create the inventory rows of versions with a remote that have none yet (idempotent)."""
    qs = ServerVersion.objects.filter(remote_urls__isnull=False, inventory__isnull=True)
    if version_ids is not None:
        qs = qs.filter(pk__in=list(version_ids))
    rows = list(qs.distinct().order_by("pk").values("id", "name", "manifest")[:limit])
    made = [inv for inv in (_inventory_for(row) for row in rows) if inv is not None]
    Inventory.objects.bulk_create(made, ignore_conflicts=True, batch_size=500)
    if made:
        versions_invalidate(names={inv.name for inv in made})
    return len(made)


def _backoff(failures: int) -> timedelta:
    """Re-probe interval: the normal one when ok; after failures, from one hour doubling up
    to the maximum (a dead server is asked ever more rarely, never never)."""
    interval = timedelta(hours=settings.MCP_INDEX_PROBE_INTERVAL_HOURS)
    if failures == 0:
        return interval
    longest = timedelta(hours=settings.MCP_INDEX_PROBE_MAX_BACKOFF_HOURS)
    return min(timedelta(hours=2 ** min(failures - 1, 16)), longest)


def _replace_tools(inventory: Inventory, tools: list[dict[str, Any]]) -> None:
    Tool.objects.filter(inventory=inventory).delete()
    Tool.objects.bulk_create([Tool(
        inventory=inventory, server_version_id=inventory.server_version_id,
        name=t["name"][:200], title=str(t.get("title", ""))[:500],
        description=t.get("description", ""), input_schema=t.get("inputSchema", {}),
        annotations=t.get("annotations", {}), document=t,
        search_text=" ".join([t["name"], t.get("title", ""), t.get("description", "")]).lower())
        for t in tools], batch_size=500)


@transaction.atomic
def probe_record(*, inventory_id: int, result: ProbeResult, requested_by: str = "",
                 now: datetime | None = None) -> Probe:
    """Store one probe's outcome: history, current state, next probe, drift (audited),
    the observation statement, and catalogs that gate on the inventory rebuilt."""
    now = now or timezone.now()
    inventory = Inventory.objects.select_for_update().get(pk=inventory_id)
    ok = result.status == ProbeStatus.OK
    drift = Drift.NONE
    changed = ok and bool(inventory.tools_digest) and inventory.tools_digest != result.tools_digest
    observed = tool_names(result.tools)
    if changed:
        drift = Drift.CHANGED
    elif ok and inventory.declared_digest and observed != frozenset(inventory.declared_names):
        drift = Drift.DECLARED
    probe = Probe.objects.create(
        inventory=inventory, checked_at=now, status=result.status, reason=result.reason[:500],
        duration_ms=result.duration_ms, protocol_version=result.protocol_version,
        server_info=result.server_info, tools=result.tools if ok else [],
        tools_digest=result.tools_digest, prompt_count=result.prompt_count,
        resource_count=result.resource_count,
        authorization_servers=result.authorization_servers, drift=drift,
        requested_by=requested_by[:200])
    before = (inventory.status, inventory.tools_digest, inventory.drift)
    target = f"{inventory.name}@{inventory.server_version.version}"
    if changed:
        old = {t["name"] for t in Probe.objects.filter(inventory=inventory, status=ProbeStatus.OK)
               .exclude(pk=probe.pk).order_by("-checked_at", "-id").values_list("tools", flat=True)
               .first() or []}
        audit_record(actor=SYSTEM_ACTOR, action="discovery.inventory.drifted", target=target,
                     data={"from": inventory.tools_digest, "to": result.tools_digest,
                           "added": sorted(observed - old), "removed": sorted(old - observed),
                           "probe": probe.pk})
    elif drift == Drift.DECLARED and inventory.drift != Drift.DECLARED:
        audit_record(actor=SYSTEM_ACTOR, action="discovery.inventory.declared_mismatch",
                     target=target, data={"declared": inventory.declared_names,
                                          "observed": sorted(observed), "probe": probe.pk})
    inventory.status, inventory.reason, inventory.checked_at = result.status, result.reason[:500], now
    inventory.failures = 0 if ok else inventory.failures + 1
    inventory.next_probe_at = now + (_backoff(inventory.failures) if result.status != ProbeStatus.SKIPPED
                                     else timedelta(hours=settings.MCP_INDEX_PROBE_MAX_BACKOFF_HOURS))
    inventory.authorization_servers = result.authorization_servers
    if ok:
        new_set = inventory.tools_digest != result.tools_digest
        inventory.last_ok_at = now
        inventory.protocol_version = result.protocol_version
        inventory.server_info = result.server_info
        inventory.tool_count = len(result.tools)
        inventory.prompt_count, inventory.resource_count = result.prompt_count, result.resource_count
        inventory.tools_digest = result.tools_digest
        # A changed set is remembered (a version is immutable: its tools should be too);
        # a mismatch with the declared tools is judged again on every ok probe.
        inventory.drift = Drift.CHANGED if Drift.CHANGED in (drift, inventory.drift) else drift
        if drift != Drift.NONE:
            inventory.drift_at = now
        if new_set:
            _replace_tools(inventory, result.tools)
            observation.observation_sign(inventory=inventory, probe=probe)
    inventory.save()
    if before[0] != inventory.status:
        audit_record(actor=SYSTEM_ACTOR, action="discovery.inventory.status_changed", target=target,
                     data={"from": before[0], "to": inventory.status, "reason": inventory.reason,
                           "probe": probe.pk})
    if before != (inventory.status, inventory.tools_digest, inventory.drift):
        versions_invalidate(names={inventory.name})
        _rebuild_gated(names=[inventory.name])
    log.info("discovery.probe.recorded version=%s status=%s tools=%s drift=%s", target,
             result.status, len(result.tools), drift or "none")
    return probe


def _rebuild_gated(*, names: list[str]) -> None:
    """Rebuild these servers in every catalog whose membership depends on the inventory."""
    for catalog in Catalog.objects.filter(inventory_policy__isnull=False).order_by("pk"):
        catalog_rebuild(catalog=catalog, names=names)


@transaction.atomic
def probe_request(*, version: ServerVersion, actor: str, enqueue: bool = True) -> Inventory:
    """An admin's "probe now": due at once, probed by a task after commit (audited);
    `enqueue=False` when the caller probes it itself."""
    inventories_discover(version_ids=[version.pk])
    inventory = Inventory.objects.filter(server_version=version).first()
    if inventory is None:
        raise NotProbeable(f"{version.name} {version.version} has no streamable-http or sse remote")
    Inventory.objects.filter(pk=inventory.pk).update(next_probe_at=timezone.now())
    audit_record(actor=actor, action="discovery.probe.requested",
                 target=f"{version.name}@{version.version}", data={"url": inventory.url})
    pk = inventory.pk
    if enqueue:
        transaction.on_commit(lambda: tasks.probe_inventory_task.delay(pk, actor))
    return inventory


def due_inventories(*, limit: int, now: datetime | None = None) -> list[Inventory]:
    """Claim the inventories due for a probe (skipping rows another worker holds): their
    next probe moves an hour on, a lease the recorded outcome replaces."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(Inventory.objects.select_for_update(skip_locked=True)
                   .filter(next_probe_at__lte=now)
                   .exclude(server_version__status=Status.DELETED)
                   .order_by("next_probe_at", "pk")[:limit])
        Inventory.objects.filter(pk__in=[i.pk for i in due]).update(
            next_probe_at=now + timedelta(hours=1))
    return due


@transaction.atomic
def catalog_inventory_policy_set(*, catalog: Catalog, live_within_days: int | None,
                                 pin_tools: bool, actor: str) -> CatalogInventoryPolicy:
    """Set (or, with neither requirement, remove) a catalog's inventory requirements."""
    if live_within_days is not None and not 1 <= live_within_days <= 3650:
        raise InvalidInventoryPolicy("live_within_days must be between 1 and 3650")
    if live_within_days is None and not pin_tools:
        CatalogInventoryPolicy.objects.filter(catalog=catalog).delete()
        policy = CatalogInventoryPolicy(catalog=catalog)
    else:
        policy, _ = CatalogInventoryPolicy.objects.update_or_create(
            catalog=catalog, defaults={"live_within_days": live_within_days, "pin_tools": pin_tools})
    audit_record(actor=actor, action="discovery.catalog_policy.set", target=f"catalog:{catalog.slug}",
                 data={"live_within_days": live_within_days, "pin_tools": pin_tools})
    catalog_rebuild(catalog=catalog)
    return policy
