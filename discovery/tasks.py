"""Celery tasks: scheduled re-probes (beat) and "probe now". Each loads its rows and calls
the runner, which records outcomes through discovery.services."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from discovery import runner
from discovery.models import Inventory


@shared_task(acks_late=True, time_limit=120, soft_time_limit=110,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def probe_inventory_task(inventory_id: int, requested_by: str = "") -> str:
    """Probe one version's remote now (an admin's "probe now")."""
    inventory = Inventory.objects.filter(pk=inventory_id).first()
    if inventory is None:
        return "skipped: no such inventory"
    return runner.probe_one(inventory, requested_by=requested_by).status


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def probe_due_task() -> str:
    """Beat: find new remote versions, then probe a batch of the due ones."""
    return runner.probe_due().summary()
