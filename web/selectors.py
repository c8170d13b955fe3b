"""Reads behind the pages: search with filters, one server's page, a user's grants."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.db import connection
from django.db.models import Q

from curation.selectors import catalog_resolve
from discovery.inventory import VersionTools, version_tools
from discovery.probe import target_of
from mcp_index_common import clientconfig
from registry.models import ServerVersion, Status
from registry.querysets import ServerVersionQuerySet
from serving.search import SearchFilters, search_page
from web import curation, trust
from web.publisher import Icons, PublisherInfo, publisher_info, themed_icons

REGISTRY_TYPES = ("npm", "pypi", "oci", "nuget", "mcpb")
TRANSPORTS = ("stdio", "streamable-http", "sse")
SORTS = {
    "relevance": ("name",),  # with a query, serving.search's order (ranked_search)
    "name": ("name",),
    "updated": ("-updated_at", "name"),
    "published": ("-published_at", "name"),
}
# The columns a result card needs: `manifest` for packages, remotes and icons.
CARD_FIELDS = ("id", "name", "namespace", "version", "title", "description", "status",
               "updated_at", "published_at", "manifest", "origin")


@dataclass(frozen=True)
class Filters:
    """The search box and the filter bar, already validated."""

    q: str = ""
    registry_type: str = ""
    transport: str = ""
    kind: str = ""  # remote | package
    status: str = ""
    namespace: str = ""
    policy: str = ""  # slug of a trust policy the version must satisfy
    catalog: str = ""  # slug of a catalog: its own latest versions instead of ours
    sort: str = "relevance"

    @property
    def ranked(self) -> bool:
        return bool(self.q) and self.sort == "relevance"


def http_url(value: Any) -> str:
    """`value` if it is an absolute http(s) URL, else "": manifest links are untrusted."""
    if not isinstance(value, str) or len(value) > 2000:
        return ""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return value.strip()


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def icon_url(manifest: dict[str, Any]) -> str:
    """The first https icon (the schema requires https; anything else is dropped)."""
    for icon in _dicts(manifest.get("icons")):
        src = http_url(icon.get("src"))
        if src.lower().startswith("https://"):
            return src
    return ""


@dataclass(frozen=True)
class ServerCard:
    """One search result: the latest version of a server and what it ships as."""

    name: str
    namespace: str
    version: str
    title: str
    description: str
    status: str
    updated_at: datetime
    published_at: datetime
    registry_types: tuple[str, ...]
    transports: tuple[str, ...]
    remote: bool
    icon: str
    mirrored: bool

    @classmethod
    def of(cls, sv: ServerVersion) -> ServerCard:
        manifest = sv.manifest if isinstance(sv.manifest, dict) else {}
        packages = _dicts(manifest.get("packages"))
        remotes = _dicts(manifest.get("remotes"))
        types = {str(p.get("registryType")) for p in packages if p.get("registryType")}
        transports = {str(p["transport"].get("type")) for p in packages
                      if isinstance(p.get("transport"), dict) and p["transport"].get("type")}
        transports |= {str(r.get("type")) for r in remotes if r.get("type")}
        return cls(name=sv.name, namespace=sv.namespace, version=sv.version,
                   title=sv.title, description=sv.description, status=sv.status,
                   updated_at=sv.updated_at, published_at=sv.published_at,
                   registry_types=tuple(sorted(types)), transports=tuple(sorted(transports)),
                   remote=bool(remotes), icon=icon_url(manifest), mirrored=sv.origin != "local")


def _contains(key: str, item: dict[str, Any], text: str) -> Q:
    """`manifest[key]` holds an element containing `item` (jsonb @> on PostgreSQL).

    SQLite (the quick-start database) has no JSON containment: it matches the compact
    manifest text instead, which is close enough for a development server.
    """
    if connection.vendor == "postgresql":
        return Q(**{f"manifest__{key}__contains": [item]})
    return Q(manifest_text__contains=text)


RANKED_MAX = 300  # results a page of the web catalog ranks (the rest is noise for a person)


@dataclass(frozen=True)
class Ranked:
    """The web catalog's ranked results: versions in relevance order, facets, a suggestion."""

    versions: list[ServerVersion]
    facets: dict[str, dict[str, int]]
    suggestion: str | None


def ranked_search(filters: Filters) -> Ranked:
    """Latest versions matching `filters.q`, most relevant first (the API's search), with the
    page's other filters (status, namespace, policy) applied to the ranked ones."""
    scope = catalog_resolve(filters.catalog or "all")
    page = search_page(scope, filters.q, SearchFilters(
        registry_type=filters.registry_type, transport=filters.transport,
        remote_only=filters.kind == "remote", package_only=filters.kind == "package"),
        limit=RANKED_MAX, include_deleted=filters.status == Status.DELETED, highlights=False)
    ids = [hit.row.id for hit in page.hits]
    chosen = server_search(Filters(status=filters.status, namespace=filters.namespace,
                                   policy=filters.policy, catalog=filters.catalog, sort="name"))
    by_id = {sv.id: sv for sv in chosen.filter(id__in=ids)}
    return Ranked([by_id[i] for i in ids if i in by_id], page.facets, page.suggestion)


def server_search(filters: Filters) -> ServerVersionQuerySet:
    """Latest version of each matching server, in the chosen order."""
    qs = ServerVersion.objects.all()
    qs = curation.in_catalog(qs, filters.catalog) if filters.catalog else qs.latest_only()
    qs = qs.filter(status=filters.status) if filters.status else qs.visible()
    if filters.q:
        qs = qs.search(filters.q)
    if filters.namespace:
        qs = qs.filter(namespace=filters.namespace)
    if filters.registry_type:
        t = filters.registry_type
        qs = qs.filter(_contains("packages", {"registryType": t}, f'"registryType":"{t}"'))
    if filters.transport:
        t = filters.transport
        qs = qs.filter(_contains("packages", {"transport": {"type": t}}, f'{{"type":"{t}"')
                       | _contains("remotes", {"type": t}, f'"type":"{t}"'))
    if filters.kind == "remote":
        qs = qs.filter(_contains("remotes", {}, '"remotes":[{'))
    elif filters.kind == "package":
        qs = qs.filter(_contains("packages", {}, '"packages":[{'))
    if filters.policy:
        qs = trust.satisfying(qs, filters.policy)
    return qs.order_by(*SORTS.get(filters.sort, SORTS["name"])).only(*CARD_FIELDS)


@dataclass(frozen=True)
class VersionRow:
    """A line in a server's version history."""

    version: str
    status: str
    status_message: str
    published_at: datetime
    updated_at: datetime
    is_latest: bool


@dataclass(frozen=True)
class LaunchView:
    """One package or remote with its inputs and the generated client configurations."""

    launch: clientconfig.Launch
    source: dict[str, Any]
    configs: clientconfig.ClientConfigs | None


@dataclass(frozen=True)
class ServerPage:
    """Everything the server page shows about one version."""

    version: ServerVersion
    versions: list[VersionRow]
    launches: list[LaunchView]
    repository_url: str
    website_url: str
    icon: str
    pretty_json: str
    trust: trust.TrustView
    catalog_entries: list[Any]
    icons: Icons | None = None  # per theme (light, dark)
    publisher: PublisherInfo | None = None
    tools: VersionTools | None = None

    @property
    def manifest(self) -> dict[str, Any]:
        return self.version.manifest if isinstance(self.version.manifest, dict) else {}


def server_versions(name: str) -> list[VersionRow]:
    """Every version of a server, newest publish first (deleted ones marked, not hidden)."""
    rows = (ServerVersion.objects.named(name).order_by("-published_at", "-id")
            .values_list("version", "status", "status_message", "published_at", "updated_at",
                         "is_latest"))
    return [VersionRow(*row) for row in rows]


def server_version(name: str, version: str | None) -> ServerVersion | None:
    """The requested version, or the latest; None when there is no such server."""
    qs = ServerVersion.objects.named(name)
    return (qs.filter(version=version) if version else qs.latest_only()).first()


def server_page(sv: ServerVersion, user: Any) -> ServerPage:
    """Assemble the page of one version: history, run options and links."""
    manifest = sv.manifest if isinstance(sv.manifest, dict) else {}
    launches = [LaunchView(launch=launch, source=launch.source,
                           configs=clientconfig.configs_for(launch) if launch.configurable else None)
                for launch in clientconfig.launches(manifest)]
    repository = manifest.get("repository") if isinstance(manifest.get("repository"), dict) else {}
    return ServerPage(version=sv, versions=server_versions(sv.name), launches=launches,
                      repository_url=http_url(repository.get("url")),
                      website_url=http_url(manifest.get("websiteUrl")), icon=icon_url(manifest),
                      pretty_json=_pretty(sv.manifest_text), trust=trust.version_trust(sv),
                      catalog_entries=curation.version_entries(user, sv),
                      icons=themed_icons(manifest),
                      publisher=publisher_info(manifest),

                      # Only versions with a remote the prober speaks to have an inventory.
                      tools=version_tools(sv.pk) if target_of(manifest) is not None else None)


def _pretty(text: str) -> str:
    """The stored manifest text indented, keeping the publisher's key order."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def namespace_summary(namespace: str) -> dict[str, int]:
    """How many servers a namespace has, by status of their latest version."""
    counts = {s: 0 for s in Status.values}
    rows = (ServerVersion.objects.latest_only().filter(namespace=namespace)
            .values_list("status", flat=True))
    for status in rows:
        counts[status] = counts.get(status, 0) + 1
    return counts
