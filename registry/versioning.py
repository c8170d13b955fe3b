"""Which version is `latest`: the official registry's rules, exactly.

Both semver (three numeric parts, optional `v`): semver precedence. Neither: the later
publish time. Mixed: semver wins. Deleted versions are never latest unless every version
is deleted, in which case the highest deleted one keeps the flag (official #1081 fix).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cmp_to_key

_IDENT = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    rf"(?:-({_IDENT}(?:\.{_IDENT})*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


@dataclass(frozen=True)
class Candidate:
    """What the latest computation needs to know about one version."""

    version: str
    published_at: datetime
    deleted: bool


def parse_semver(version: str) -> tuple[int, int, int, tuple[str, ...] | None] | None:
    """(major, minor, patch, prerelease identifiers or None), or None if not strict semver."""
    match = _SEMVER.match(version)
    if not match:
        return None
    pre = tuple(match.group(4).split(".")) if match.group(4) else None
    return int(match.group(1)), int(match.group(2)), int(match.group(3)), pre


def _compare_pre(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> int:
    if a == b:
        return 0
    if a is None:
        return 1  # a release outranks any prerelease of the same core
    if b is None:
        return -1
    for x, y in zip(a, b, strict=False):
        if x == y:
            continue
        xd, yd = x.isdigit(), y.isdigit()
        if xd and yd:
            return -1 if int(x) < int(y) else 1
        if xd != yd:
            return -1 if xd else 1  # numeric identifiers sort before alphanumeric ones
        return -1 if x < y else 1
    return (len(a) > len(b)) - (len(a) < len(b))


def compare_versions(a: str, b: str, a_time: datetime, b_time: datetime) -> int:
    """-1, 0 or 1, following the official CompareVersions."""
    sa, sb = parse_semver(a), parse_semver(b)
    if sa and sb:
        if sa[:3] != sb[:3]:
            return -1 if sa[:3] < sb[:3] else 1
        return _compare_pre(sa[3], sb[3])
    if not sa and not sb:
        return (a_time > b_time) - (a_time < b_time)
    return 1 if sa else -1


def pick_latest(candidates: Sequence[Candidate]) -> Candidate | None:
    """The version that should carry is_latest among all versions of one server.

    Between versions of equal precedence (`1.0.0` and `v1.0.0+build`, or two non-semver
    versions published at the same instant) the one published first wins, as upstream,
    where a new version takes the flag only if it compares higher; then the greater version
    text. So the pick never depends on the order the candidates come in (rows read from
    the database, or held in memory by an ingest, agree).
    """
    if not candidates:
        return None
    pool = [c for c in candidates if not c.deleted] or list(candidates)

    def cmp(x: Candidate, y: Candidate) -> int:
        order = compare_versions(x.version, y.version, x.published_at, y.published_at)
        if order:
            return order
        if x.published_at != y.published_at:
            return 1 if x.published_at < y.published_at else -1
        return (x.version > y.version) - (x.version < y.version)

    return max(pool, key=cmp_to_key(cmp))
