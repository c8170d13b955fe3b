"""Status changes of one version or of every version of a server (any direction)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from registry.errors import NotFound, RegistryError
from registry.limits import check_columns
from registry.manifest import remote_urls_of
from registry.models import ServerVersion, Status
from registry.services.audit import audit_record
from registry.services.versions import (
    announce,
    check_remote_urls,
    lock_servers,
    servers_recompute_latest,
)


def _validate_status(status: str, message: str | None) -> str:
    if status not in Status.values:
        raise RegistryError(f"Invalid status: {status}. Must be one of: active, deprecated, deleted")
    if status == Status.ACTIVE and message:
        raise RegistryError("statusMessage cannot be provided when setting status to active")
    check_columns(ServerVersion, {"status_message": message or ""})
    return message or ""


def _apply_status(sv: ServerVersion, status: str, message: str, now: datetime) -> bool:
    if sv.status == status and sv.status_message == message:
        return False
    if status != Status.DELETED and sv.status == Status.DELETED:
        check_remote_urls(sv.name, remote_urls_of(sv.manifest))
    if sv.status != status:
        sv.status_changed_at = now
    sv.status, sv.status_message, sv.updated_at = status, message, now
    sv.save(update_fields=["status", "status_message", "status_changed_at", "updated_at"])
    return True


@transaction.atomic
def version_set_status(*, name: str, version: str, status: str, message: str | None,
                       actor: str) -> ServerVersion:
    """Change one version's status (any direction); a no-op is refused with 400."""
    message = _validate_status(status, message)
    lock_servers([name])
    sv = ServerVersion.objects.filter(name=name, version=version).first()
    if sv is None:
        raise NotFound("Server version not found")
    if not _apply_status(sv, status, message, timezone.now()):
        raise RegistryError("No changes to apply: status and message are already set to the "
                            "provided values")
    servers_recompute_latest(names=[name])
    audit_record(actor=actor, action="registry.version.status_changed", target=str(sv),
                 data={"status": status, "message": message})
    announce(name)
    sv.refresh_from_db()
    return sv


@transaction.atomic
def server_set_status(*, name: str, status: str, message: str | None, actor: str
                      ) -> list[ServerVersion]:
    """Change the status of every version of a server in one transaction."""
    message = _validate_status(status, message)
    lock_servers([name])
    versions = list(ServerVersion.objects.filter(name=name).order_by("-published_at"))
    if not versions:
        raise NotFound("Server not found")
    now = timezone.now()
    changed = [sv for sv in versions if _apply_status(sv, status, message, now)]
    if not changed:
        raise RegistryError("No changes to apply: all versions already have the requested "
                            "status and message")
    servers_recompute_latest(names=[name])
    audit_record(actor=actor, action="registry.server.status_changed", target=name,
                 data={"status": status, "message": message, "versions": len(changed)})
    announce(name)
    return list(ServerVersion.objects.filter(pk__in=[sv.pk for sv in changed])
                .order_by("-published_at"))
