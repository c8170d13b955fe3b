"""discovery's membership gate (registered with curation.gates): a catalog may require that
remote versions probed ok recently, and may pin the tool set it approved."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from curation.gates import Gated
from curation.models import Catalog, EntryState, ReviewDecision
from curation.rules import Membership
from discovery.models import CatalogInventoryPolicy, Inventory, ToolsetPin
from registry.services import audit_record


def inventory_gate(catalog: Catalog, included: Mapping[int, Gated], now: datetime
                   ) -> dict[int, Membership]:
    """Overrides for included versions that fail the catalog's inventory policy: not live
    (excluded until an ok probe), or a tool set other than the pinned one (back to review
    until a reviewer approves again, which pins the new set)."""
    policy = CatalogInventoryPolicy.objects.filter(catalog=catalog).first()
    if policy is None or not included:
        return {}
    inventories = {i.server_version_id: i for i in
                   Inventory.objects.filter(server_version_id__in=list(included))}
    overrides: dict[int, Membership] = {}
    if policy.live_within_days:
        since = now - timedelta(days=policy.live_within_days)
        for vid, inv in inventories.items():
            if inv.last_ok_at is None or inv.last_ok_at < since:
                seen = f"last ok {inv.last_ok_at:%Y-%m-%d}" if inv.last_ok_at else "never probed ok"
                overrides[vid] = Membership(
                    EntryState.EXCLUDED, f"not live: no ok probe in {policy.live_within_days} days "
                    f"({seen})")
    if policy.pin_tools:
        overrides.update(_pinned(catalog, included, inventories, overrides, now))
    return overrides


def _pinned(catalog: Catalog, included: Mapping[int, Gated], inventories: Mapping[int, Inventory],
            decided: Mapping[int, Membership], now: datetime) -> dict[int, Membership]:
    candidates = {vid: inv for vid, inv in inventories.items()
                  if inv.tools_digest and vid not in decided}
    pins = {p.server_version_id: p for p in
            ToolsetPin.objects.filter(catalog=catalog, server_version_id__in=list(candidates))}
    approvals: dict[tuple[str, str], datetime] = {}
    names = {included[vid].name for vid in candidates}
    for name, version, at in (ReviewDecision.objects.filter(
            catalog=catalog, name__in=names, verdict=ReviewDecision.Verdict.APPROVE)
            .values_list("name", "version", "decided_at")):
        key = (name, version)
        approvals[key] = max(at, approvals.get(key, at))
    overrides: dict[int, Membership] = {}
    for vid, inv in candidates.items():
        gated, pin = included[vid], pins.get(vid)
        if pin is None:
            _pin(catalog, vid, inv.tools_digest, gated.membership.by or "system:catalog", now, gated)
            continue
        if pin.digest == inv.tools_digest:
            continue
        approved = max(approvals.get((gated.name, gated.version), pin.pinned_at),
                       approvals.get((gated.name, ""), pin.pinned_at))
        if approved > pin.pinned_at:  # a reviewer approved after the set changed: pin it
            _pin(catalog, vid, inv.tools_digest, gated.membership.by or "reviewer", now, gated, pin)
            continue
        overrides[vid] = Membership(
            EntryState.PENDING, f"tool set changed since approval (approved {pin.digest[:19]}…, "
            f"observed {inv.tools_digest[:19]}…): awaiting review")
    return overrides


def _pin(catalog: Catalog, version_id: int, digest: str, by: str, now: datetime, gated: Gated,
         pin: ToolsetPin | None = None) -> None:
    """Record the tool set a catalog accepts for a version (audited; the rebuild's transaction)."""
    previous = pin.digest if pin else ""
    ToolsetPin.objects.update_or_create(catalog=catalog, server_version_id=version_id,
                                        defaults={"digest": digest, "pinned_by": by[:200],
                                                  "pinned_at": now})
    audit_record(actor=by, action="discovery.toolset.pinned",
                 target=f"catalog:{catalog.slug}:{gated.name}@{gated.version}",
                 data={"digest": digest, "previous": previous})
