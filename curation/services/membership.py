"""Materialized catalog membership: rebuild by server name, reconcile what changed."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from curation.gates import Gated, gates_apply
from curation.models import (
    Catalog,
    CatalogEntry,
    DirtyServer,
    EntryState,
    ReviewDecision,
)
from curation.rules import (
    FACT_FIELDS,
    Decisions,
    Facts,
    Membership,
    Policy,
    RuleSpec,
    Verdict,
    decide,
    facts_of,
    trust_policies_of,
)
from curation.trust import satisfied_until, satisfying
from mcp_index_common.verification import VERIFIED
from registry.models import ServerVersion, Status
from registry.versioning import Candidate, pick_latest
from signing.models import Attestation

log = logging.getLogger(__name__)

BATCH_NAMES = 1000
_ENTRY_FIELDS = ("state", "reason", "decided_by", "decided_at", "listed", "status", "is_latest",
                 "updated_at", "seen_updated_at", "seen_digest", "seen_status", "trust_until")


@dataclass(frozen=True)
class RebuildReport:
    """What a rebuild changed in one catalog."""

    catalog: str
    servers: int = 0
    entered: int = 0
    left: int = 0
    changed: int = 0


def catalog_policy(catalog: Catalog) -> Policy:
    """The catalog's rules, pins and review decisions in pure form."""
    rules = [RuleSpec(id=r.pk, action=r.action, name_pattern=r.name_pattern,
                      namespace=r.namespace, source=r.source, registry_type=r.registry_type,
                      transport=r.transport, kind=r.kind, repository_host=r.repository_host,
                      status=r.status, schema_valid=r.schema_valid, trust_policy=r.trust_policy)
             for r in catalog.rules.all()]
    versions: dict[tuple[str, str], Verdict] = {}
    servers: dict[str, Verdict] = {}
    approved: set[str] = set()
    for d in ReviewDecision.objects.filter(catalog=catalog).order_by("decided_at", "id"):
        verdict = Verdict(d.verdict == ReviewDecision.Verdict.APPROVE, d.decided_by,
                          d.decided_at, d.reason)
        if d.version:
            versions[(d.name, d.version)] = verdict
        elif not verdict.approve or d.include_future:
            servers[d.name] = verdict
        elif d.name in servers:  # a plain approval lifts an earlier standing verdict
            del servers[d.name]
        if verdict.approve:
            approved.add(d.name)
    return Policy(rules=rules, default_action=catalog.default_action,
                  review_mode=catalog.review_mode,
                  pins={p.name: p.version for p in catalog.pins.all()},
                  decisions=Decisions(versions, servers, frozenset(approved)),
                  trust_policy=catalog.trust_policy)


def _entry_values(m: Membership, row: dict[str, Any], latest: bool,
                  until: datetime | None) -> dict[str, Any]:
    included = m.state == EntryState.INCLUDED
    return {
        "state": m.state, "reason": m.reason[:500], "decided_by": m.by, "decided_at": m.at,
        "is_latest": latest, "status": row["status"] if included else Status.DELETED,
        "seen_updated_at": row["updated_at"], "seen_digest": row["digest"],
        "seen_status": row["status"], "trust_until": until,
    }


def _trust_deadline(policy: Policy, f: Facts, membership: Membership, *, server_known: bool,
                    lapses: dict[str, datetime | None]) -> datetime | None:
    """When this version's state changes as its satisfied trust policies lapse one by one
    (`lapses`: policy slug -> when it stops being satisfied); None: it never does by itself."""
    left = {slug: {f.id} for slug in lapses}
    for when, slug in sorted((w, s) for s, w in lapses.items() if w is not None):
        left[slug] = set()
        if decide(policy, f, server_known=server_known, trusted=left).state != membership.state:
            return when
    return None


def _visible_change(entry: CatalogEntry, values: dict[str, Any]) -> bool:
    """Whether a downstream reader would see a difference (so updated_at must move)."""
    was_in = entry.state == EntryState.INCLUDED
    now_in = values["state"] == EntryState.INCLUDED
    if was_in != now_in or entry.is_latest != values["is_latest"]:
        return True
    if entry.status != values["status"]:
        return True
    return now_in and (entry.seen_updated_at != values["seen_updated_at"]
                       or entry.seen_digest != values["seen_digest"])


def _rebuild_batch(catalog: Catalog, policy: Policy, names: list[str], now: datetime,
                   needs_manifest: bool) -> tuple[int, int, int]:
    qs = ServerVersion.objects.filter(name__in=names)
    if catalog.sources:
        qs = qs.filter(origin__in=catalog.sources)
    fields = FACT_FIELDS + (("manifest",) if needs_manifest else ())
    rows = list(qs.values(*fields))
    existing = {e.server_version_id: e
                for e in CatalogEntry.objects.filter(catalog=catalog, name__in=names)}
    candidates = {row["id"] for row in rows}
    orphans = [sv_id for sv_id in existing if sv_id not in candidates]
    if orphans:  # entries whose version left the catalog's sources
        rows += list(ServerVersion.objects.filter(pk__in=orphans).values(*FACT_FIELDS))
    trusted = {slug: satisfying(policy_slug=slug, version_ids=sorted(candidates))
               for slug in trust_policies_of(policy)}
    lapsing = {slug: satisfied_until(policy_slug=slug, version_ids=sorted(ids))
               for slug, ids in trusted.items()}
    known = {e.name for e in existing.values() if e.state == EntryState.INCLUDED}
    known |= policy.decisions.approved_servers
    by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_name[row["name"]].append(row)
    creates: list[CatalogEntry] = []
    updates: list[CatalogEntry] = []
    entered = left = 0
    members: dict[int, Membership] = {}
    deadlines: dict[int, datetime | None] = {}
    for name, versions in by_name.items():
        for row in versions:
            if row["id"] in candidates:
                facts = facts_of(row, row.get("manifest"))
                members[row["id"]] = decide(policy, facts, server_known=name in known,
                                            trusted=trusted)
                lapses = {slug: lapsing[slug].get(row["id"]) for slug, ids in trusted.items()
                          if row["id"] in ids}
                if any(when is not None for when in lapses.values()):
                    deadlines[row["id"]] = _trust_deadline(
                        policy, facts, members[row["id"]], server_known=name in known,
                        lapses=lapses)
            else:
                members[row["id"]] = Membership(EntryState.EXCLUDED, "not from a catalog source")
    # The gates of the apps above (discovery: liveness, pinned tool sets), once per batch.
    members.update(gates_apply(catalog, {
        row["id"]: Gated(row["id"], row["name"], row["version"], members[row["id"]])
        for row in rows if members[row["id"]].state == EntryState.INCLUDED}, now))
    for name, versions in by_name.items():
        # Latest among what the catalog serves (tombstones count as deleted): exactly what a
        # downstream mirror recomputes from this catalog's responses.
        listed = {}
        for row in versions:
            entry = existing.get(row["id"])
            included = members[row["id"]].state == EntryState.INCLUDED
            if included or (entry is not None and entry.listed):
                listed[row["id"]] = Candidate(row["version"], row["published_at"],
                                              not included or row["status"] == Status.DELETED)
        best = pick_latest(list(listed.values()))
        for row in versions:
            latest = row["id"] in listed and best is not None and row["version"] == best.version
            values = _entry_values(members[row["id"]], row, latest, deadlines.get(row["id"]))
            entry = existing.get(row["id"])
            included = values["state"] == EntryState.INCLUDED
            if entry is None:
                creates.append(CatalogEntry(catalog=catalog, server_version_id=row["id"],
                                            name=name, version=row["version"], listed=included,
                                            updated_at=now, **values))
                entered += included
                continue
            if _visible_change(entry, values):
                values["updated_at"] = now
                was_in = entry.state == EntryState.INCLUDED
                entered += included and not was_in
                left += was_in and not included
            values["listed"] = entry.listed or included
            if any(getattr(entry, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(entry, k, v)
                updates.append(entry)
    CatalogEntry.objects.bulk_create(creates, batch_size=1000)
    CatalogEntry.objects.bulk_update(updates, _ENTRY_FIELDS, batch_size=500)
    return entered, left, len(creates) + len(updates)


def catalog_rebuild(*, catalog: Catalog, names: Iterable[str] | None = None) -> RebuildReport:
    """Recompute membership for the given server names (all when None), in batches."""
    if names is None:
        qs = ServerVersion.objects.all()
        if catalog.sources:
            qs = qs.filter(origin__in=catalog.sources)
        wanted = set(qs.values_list("name", flat=True).distinct())
        wanted |= set(CatalogEntry.objects.filter(catalog=catalog)
                      .values_list("name", flat=True).distinct())
    else:
        wanted = set(names)
    ordered = sorted(wanted)
    entered = left = changed = 0
    for start in range(0, len(ordered), BATCH_NAMES):
        with transaction.atomic():
            locked = Catalog.objects.select_for_update().get(pk=catalog.pk)
            policy = catalog_policy(locked)
            needs_manifest = any(r.needs_manifest for r in policy.rules)
            e, lft, c = _rebuild_batch(locked, policy, ordered[start:start + BATCH_NAMES],
                                       timezone.now(), needs_manifest)
            entered, left, changed = entered + e, left + lft, changed + c
            fields = ["rebuilt_at"]
            locked.rebuilt_at = timezone.now()
            if c:
                locked.generation += 1
                fields.append("generation")
            locked.save(update_fields=fields)
    log.info("catalog.rebuilt catalog=%s servers=%d entered=%d left=%d changed=%d",
             catalog.slug, len(ordered), entered, left, changed)
    return RebuildReport(catalog.slug, len(ordered), entered, left, changed)


def servers_mark_dirty(*, names: Iterable[str]) -> None:
    """Queue server names for the catalog reconcile (same transaction as the change)."""
    DirtyServer.objects.bulk_create([DirtyServer(name=n) for n in sorted(set(names))])


def catalogs_reconcile(*, limit: int = 20000) -> list[RebuildReport]:
    """Rebuild, in every catalog, the servers that changed since the last reconcile, and
    those whose trust deadline passed (a signer expired)."""
    dirty = list(DirtyServer.objects.order_by("id").values_list("id", "name")[:limit])
    dirty_names = {n for _, n in dirty}
    reports = []
    for catalog in Catalog.objects.order_by("pk"):
        top = ServerVersion.objects.aggregate(m=Max("id"))["m"] or 0
        started = timezone.now()
        fresh = ServerVersion.objects.filter(id__gt=catalog.watermark_id)
        if catalog.watermark_at is not None:  # local edits and status changes
            fresh = fresh | ServerVersion.objects.filter(
                updated_at__gt=catalog.watermark_at - timedelta(minutes=1))
        lapsed = CatalogEntry.objects.filter(catalog=catalog, trust_until__lte=started)
        names = dirty_names | set(fresh.values_list("name", flat=True).distinct())
        names |= set(lapsed.values_list("name", flat=True).distinct())
        if names:
            reports.append(catalog_rebuild(catalog=catalog, names=names))
        Catalog.objects.filter(pk=catalog.pk).update(watermark_id=top, watermark_at=started)
    if dirty:
        DirtyServer.objects.filter(id__lte=dirty[-1][0]).delete()
    return reports


def trust_next_deadline() -> datetime | None:
    """The next moment a catalog entry's trust lapses (for scheduling the reconcile)."""
    return (CatalogEntry.objects.filter(trust_until__gt=timezone.now())
            .aggregate(first=Min("trust_until"))["first"])


def catalogs_follow_trust(*, version_ids: Iterable[int] = (), policies: Iterable[str] = ()
                          ) -> list[RebuildReport]:
    """Trust evidence of these versions, or these policies, changed: rebuild the affected
    servers of every catalog that depends on trust, inside the caller's transaction, so the
    change and the membership it implies commit together (a revoked signer is never served).

    A policy change can only affect versions with a verified attestation (a policy needs at
    least one signer): those are re-examined in the catalogs referring to the policy.
    """
    work: dict[int, set[str]] = defaultdict(set)
    ids, slugs = set(version_ids), set(policies)
    if ids:
        names = set(ServerVersion.objects.filter(pk__in=ids).values_list("name", flat=True))
        for pk in _catalogs_where(~Q(trust_policy="") | Q(rules__trust_policy__gt="")):
            work[pk] |= names
    if slugs:
        catalogs = _catalogs_where(Q(trust_policy__in=slugs) | Q(rules__trust_policy__in=slugs))
        if catalogs:
            attested = Attestation.objects.filter(state=VERIFIED).values("version_id")
            names = set(ServerVersion.objects.filter(pk__in=attested)
                        .values_list("name", flat=True))
            for pk in catalogs:
                work[pk] |= names
    return [catalog_rebuild(catalog=catalog, names=work[catalog.pk])
            for catalog in Catalog.objects.filter(pk__in=[pk for pk, n in work.items() if n])
            .order_by("pk")]


def _catalogs_where(condition: Q) -> list[int]:
    return list(Catalog.objects.filter(condition).values_list("pk", flat=True).distinct())
