"""`manage.py sync_upstream NAME [--full]`: mirror an upstream now, resuming its checkpoint."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.models import SyncRun, Upstream
from curation.services.membership import catalogs_reconcile
from curation.sync import SyncBusy, upstream_sync


class Command(BaseCommand):
    help = "Sync one upstream: incremental by default, --full walks everything and marks vanished."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--full", action="store_true")
        parser.add_argument("--no-reconcile", action="store_true",
                            help="leave catalog updates to the periodic reconcile")

    def handle(self, *args: Any, name: str, full: bool, **options: Any) -> None:
        upstream = Upstream.objects.filter(name=name).first()
        if upstream is None:
            raise CommandError(f"no upstream named {name!r}")
        try:
            report = upstream_sync(upstream=upstream, full=full)
        except SyncBusy as exc:
            raise CommandError(str(exc)) from exc
        if not options["no_reconcile"]:
            catalogs_reconcile()
        self.stdout.write(report.summary())
        if report.state != SyncRun.State.SUCCEEDED:
            raise CommandError(f"sync stopped: {report.error} (the next sync resumes)")
