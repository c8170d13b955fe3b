"""Name patterns and permissions carried by registry JWTs and API tokens."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PUBLISH = "publish"
EDIT = "edit"
ACTIONS = (PUBLISH, EDIT)


@dataclass(frozen=True)
class Permission:
    """One grant: an action on a name pattern (`*` alone is global, a trailing `*` a prefix)."""

    action: str
    resource: str

    def as_claim(self) -> dict[str, str]:
        return {"action": self.action, "resource": self.resource}


def pattern_matches(pattern: str, name: str) -> bool:
    """True when a name pattern (official semantics) covers a server name."""
    if pattern == "*":
        return True
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return pattern == name


def has_permission(permissions: Iterable[Permission], action: str, name: str) -> bool:
    """True when any grant for `action` covers `name`."""
    return any(p.action == action and pattern_matches(p.resource, name) for p in permissions)


def patterns_for(permissions: Iterable[Permission], action: str) -> list[str]:
    """The resource patterns granted for one action, in order, without duplicates."""
    seen: list[str] = []
    for p in permissions:
        if p.action == action and p.resource not in seen:
            seen.append(p.resource)
    return seen


def namespace_grants(namespace: str, *, subdomains: bool = False) -> list[Permission]:
    """Publish grants for a proven reverse-DNS namespace (`com.example/*`, optionally `com.example.*`)."""
    grants = [Permission(PUBLISH, f"{namespace}/*")]
    if subdomains:
        grants.append(Permission(PUBLISH, f"{namespace}.*"))
    return grants


def reverse_domain(domain: str) -> str:
    """`example.com` -> `com.example` (the namespace a domain proof grants)."""
    return ".".join(reversed(domain.strip(".").lower().split(".")))


def pattern_covers(granted: str, requested: str) -> bool:
    """True when every name `requested` matches is also matched by `granted`."""
    if granted == "*":
        return True
    if granted.endswith("*"):
        return requested.startswith(granted[:-1])
    return granted == requested
