"""What a verified proof yields, and how a proof fails."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from registry.auth.permissions import Permission


class ProofError(Exception):
    """A proof that is malformed, badly signed, expired or replayed; the reason is shown."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ProofResult:
    """A verified identity: how it was proven, who it is and what it may publish."""

    auth_method: str
    subject: str
    permissions: list[Permission]
    # Non-secret facts for the audit log (repository, workflow, issuer...).
    evidence: Mapping[str, str] = field(default_factory=dict)
