"""Cache invalidation: search documents are derived from versions, refresh them on change."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import receiver

from discovery.tasks import search_documents_refresh_task
from registry.signals import versions_touched


@receiver(versions_touched, dispatch_uid="discovery.documents")
def refresh_documents(sender: Any, names: set[str], **kwargs: Any) -> None:
    """Published, edited, ingested or status-changed servers get their documents rewritten
    (by content hash) once the writing transaction commits."""
    chosen = sorted(names)
    transaction.on_commit(lambda: search_documents_refresh_task.delay(chosen))
