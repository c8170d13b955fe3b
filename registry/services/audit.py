"""The audit trail: one row per mutation, written by every service."""

from __future__ import annotations

from typing import Any

from registry.models import AuditEvent


def audit_record(*, actor: str, action: str, target: str, data: dict[str, Any] | None = None
                 ) -> AuditEvent:
    """Write one audit event (dotted action, e.g. `registry.version.published`)."""
    return AuditEvent.objects.create(actor=actor, action=action, target=target, data=data or {})
