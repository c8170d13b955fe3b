"""Curation on the pages: a signed-in user's catalog roles, catalogs, entries, rule previews."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from curation import rules as rule_logic
from curation import selectors as curation
from curation.models import Catalog, CatalogEntry, EntryState, SyncRun, Upstream
from curation.trust import satisfying as trust_satisfying
from registry.api.auth import Caller
from registry.auth.permissions import EDIT, PUBLISH, Permission
from registry.models import ServerVersion
from registry.querysets import ServerVersionQuerySet
from web.grants import user_tokens_live

PREVIEW_SAMPLE = 8


def user_caller(user: Any) -> Caller | None:
    """The signed-in user as an API caller: superusers are administrators, everyone else
    holds the grants and catalog scopes (`catalog:<slug>:<role>`) of their live tokens."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        perms: list[Permission] = [Permission(PUBLISH, "*"), Permission(EDIT, "*")]
        return Caller("user", user.get_username(), tuple(perms))
    perms, scopes = [], []
    for token in user_tokens_live(user):
        perms += [Permission(PUBLISH, p) for p in token.patterns]
        perms += [Permission(EDIT, p) for p in token.patterns] if token.can_edit else []
        scopes += [s for s in token.scopes if isinstance(s, str)]
    return Caller("user", user.get_username(), tuple(perms), scopes=tuple(scopes))


def is_admin(user: Any) -> bool:
    return curation.is_admin(user_caller(user))


def roles(user: Any, catalog: Catalog) -> set[str]:
    """The user's roles in a catalog (viewer, reviewer, owner)."""
    return curation.catalog_roles(catalog.slug, user_caller(user))


@dataclass(frozen=True)
class CatalogCard:
    """A catalog on the catalogs page, with its counts and the user's roles."""

    catalog: Catalog
    listed: int
    pending: int
    roles: frozenset[str]


def catalogs_for(user: Any) -> list[CatalogCard]:
    """Catalogs the user may read, with listed and pending counts (one query)."""
    caller = user_caller(user)
    rows = Catalog.objects.order_by("slug").annotate(
        n_listed=Count("entries", filter=Q(entries__listed=True, entries__is_latest=True)
                       & ~Q(entries__status="deleted")),
        n_pending=Count("entries", filter=Q(entries__state=EntryState.PENDING)))
    cards = []
    for c in rows:
        user_roles = frozenset(curation.catalog_roles(c.slug, caller))
        if c.public or user_roles:
            cards.append(CatalogCard(c, c.n_listed, c.n_pending, user_roles))
    return cards


def catalog_readable(user: Any, catalog: Catalog) -> bool:
    return catalog.public or bool(roles(user, catalog))


def catalog_choices(user: Any) -> list[tuple[str, str]]:
    """(slug, title) of the catalogs the user may filter by."""
    caller = user_caller(user)
    return [(c.slug, c.title or c.slug) for c in Catalog.objects.order_by("slug")
            if c.public or curation.catalog_roles(c.slug, caller)]


def in_catalog(qs: ServerVersionQuerySet, slug: str) -> ServerVersionQuerySet:
    """The versions a catalog lists as latest (its own latest: pins may differ from ours)."""
    return qs.filter(Q(catalog_entries__trust_until__isnull=True)
                     | Q(catalog_entries__trust_until__gt=timezone.now()),
                     catalog_entries__catalog__slug=slug, catalog_entries__listed=True,
                     catalog_entries__is_latest=True)


def version_entries(user: Any, sv: ServerVersion) -> list[CatalogEntry]:
    """This version's membership in every catalog the user may read."""
    caller = user_caller(user)
    entries = CatalogEntry.objects.filter(server_version=sv).select_related("catalog")
    return [e for e in entries.order_by("catalog__slug")
            if e.catalog.public or curation.catalog_roles(e.catalog.slug, caller)]


def review_queue(catalog: Catalog) -> list[CatalogEntry]:
    """Pending versions, oldest first, with their versions (for titles and links)."""
    ids = [e.pk for e in curation.review_queue(catalog)]
    return list(CatalogEntry.objects.filter(pk__in=ids).select_related("server_version")
                .order_by("created_at", "id"))


# --- rules preview ---

@dataclass(frozen=True)
class RulePreview:
    """How many servers a rule decides (first match wins), with a few of their names."""

    position: int
    action: str
    matched: int
    sample: tuple[str, ...]


@dataclass(frozen=True)
class Preview:
    """What a rule list would do to the latest version of every server in the sources."""

    rules: list[RulePreview]
    default_action: str
    by_default: int
    default_sample: tuple[str, ...]
    totals: dict[str, int]
    considered: int


def rules_preview(catalog: Catalog, specs: list[rule_logic.RuleSpec], default_action: str
                  ) -> Preview:
    """Run the rules (curation's pure matcher) over the latest version of each server."""
    qs = ServerVersion.objects.latest_only().visible()
    if catalog.sources:
        qs = qs.filter(origin__in=catalog.sources)
    needs_manifest = any(s.needs_manifest for s in specs)
    fields = (*rule_logic.FACT_FIELDS, "manifest") if needs_manifest else rule_logic.FACT_FIELDS
    rows = list(qs.order_by("name").values(*fields))
    trusted = {slug: trust_satisfying(policy_slug=slug, version_ids=[r["id"] for r in rows])
               for slug in {s.trust_policy for s in specs if s.trust_policy}}
    hits: list[list[str]] = [[] for _ in specs]
    fallback: list[str] = []
    totals: Counter[str] = Counter()
    for row in rows:
        facts = rule_logic.facts_of(row, row.get("manifest") if needs_manifest else None)
        for i, spec in enumerate(specs):
            if rule_logic.rule_matches(spec, facts, trusted):
                hits[i].append(row["name"])
                totals[spec.action] += 1
                break
        else:
            fallback.append(row["name"])
            totals[default_action] += 1
    return Preview(
        rules=[RulePreview(i + 1, s.action, len(h), tuple(h[:PREVIEW_SAMPLE]))
               for i, (s, h) in enumerate(zip(specs, hits, strict=True))],
        default_action=default_action, by_default=len(fallback),
        default_sample=tuple(fallback[:PREVIEW_SAMPLE]), totals=dict(totals),
        considered=len(rows))


# --- upstreams ---

@dataclass(frozen=True)
class UpstreamStatus:
    """An upstream with its latest run and open conflicts."""

    upstream: Upstream
    last_run: SyncRun | None
    conflicts: int
    mirrored: int


def upstream_statuses() -> list[UpstreamStatus]:
    """Every upstream with its latest run (a bounded number of queries)."""
    upstreams = list(Upstream.objects.order_by("priority", "name")
                     .annotate(n_conflicts=Count("conflicts", distinct=True)))
    latest: dict[int, SyncRun] = {}
    for run in SyncRun.objects.filter(upstream__in=upstreams).order_by(
            "upstream_id", "-started_at", "-id").distinct("upstream_id"):
        latest[run.upstream_id] = run
    mirrored = dict(ServerVersion.objects.filter(origin__in=[u.name for u in upstreams])
                    .order_by().values_list("origin").annotate(n=Count("id")))
    return [UpstreamStatus(u, latest.get(u.pk), u.n_conflicts, mirrored.get(u.name, 0))
            for u in upstreams]


def upstream_runs(upstream: Upstream, limit: int = 20) -> list[SyncRun]:
    return list(upstream.runs.order_by("-started_at", "-id")[:limit])




def feed_catalog_choices(user: Any) -> list[tuple[str, str]]:
    """(slug, title) of the catalogs the user may issue themselves a feed URL of."""
    caller = user_caller(user)
    return [(c.slug, c.title or c.slug) for c in Catalog.objects.order_by("slug")
            if curation.feed_may_create(curation.CatalogRef(c.slug, c), caller)]
