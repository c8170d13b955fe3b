"""Attestations travel with mirrored versions: fetched from an upstream MCP Index, verified here.

An upstream that is itself an MCP Index marks versions with verified signers under
`_meta["<its namespace>/trust"]`. For those, we fetch the raw attestations from its
extension endpoint and submit them locally; `signing` verifies them again against *our*
principals and roots. The upstream's verdicts and states are never trusted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from registry.models import ServerVersion
from registry.services import PreparedEntry
from signing.services import attestations_mirror

log = logging.getLogger(__name__)

_API_SUFFIX = re.compile(r"(/c/[^/]+)?/v0(\.1)?/*$")


@dataclass(frozen=True)
class AttestationSync:
    """What mirroring attestations for one page did."""

    versions: int = 0
    created: int = 0
    refused: int = 0
    errors: tuple[str, ...] = ()


def upstream_root(base_url: str) -> str:
    """`https://h/c/team/v0.1` -> `https://h`: where an MCP Index serves its extensions."""
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, _API_SUFFIX.sub("", parts.path), "", ""))


def _trust_namespace(meta: Any) -> str | None:
    """The namespace of an upstream `…/trust` summary that lists verified signers, if any."""
    if not isinstance(meta, dict):
        return None
    for key, value in meta.items():
        if key.endswith("/trust") and isinstance(value, dict) and value.get("verifiedSigners"):
            return key[: -len("/trust")]
    return None


def page_attestations_mirror(*, client: httpx.Client, base_url: str, origin: str,
                             entries: Iterable[PreparedEntry]) -> AttestationSync:
    """Fetch and locally re-verify the attestations of a page's signed entries."""
    wanted = {(e.name, e.version): ns for e in entries
              if (ns := _trust_namespace(e.values.get("upstream_meta")))}
    if not wanted:
        return AttestationSync()
    root = upstream_root(base_url)
    versions = {(sv.name, sv.version): sv for sv in ServerVersion.objects.filter(
        name__in={n for n, _ in wanted}, origin=origin)}
    created = refused = 0
    errors: list[str] = []
    for (name, version), namespace in wanted.items():
        sv = versions.get((name, version))
        if sv is None:
            continue  # refused as a conflict, or filtered out
        url = (f"{root}/v0.1/x/{namespace}/servers/{quote(name, safe='')}"
               f"/versions/{quote(version, safe='')}/attestations")
        try:
            response = client.get(url)
            response.raise_for_status()
            items = response.json().get("attestations", [])
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            errors.append(f"attestations of {name}@{version}: {exc}")
            continue
        report = attestations_mirror(version=sv, items=items if isinstance(items, list) else [],
                                     origin=origin)
        created += report.created
        refused += report.refused
    if errors:
        log.warning("sync.attestations origin=%s errors=%d", origin, len(errors))
    return AttestationSync(versions=len(wanted), created=created, refused=refused,
                           errors=tuple(errors))
