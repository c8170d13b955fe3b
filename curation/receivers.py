"""Cache invalidation: catalog membership is derived from versions, refresh it on change."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import receiver

from curation.tasks import catalogs_reconcile_task
from registry.signals import versions_changed


@receiver(versions_changed, dispatch_uid="curation.reconcile")
def reconcile_catalogs(sender: Any, names: set[str], **kwargs: Any) -> None:
    """Local publishes and status changes reach every catalog without waiting for beat."""
    transaction.on_commit(catalogs_reconcile_task.delay)
