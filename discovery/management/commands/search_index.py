"""`manage.py search_index [--embed]`: bring every search document (and vector) up to date."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from discovery.services import documents_refresh, embeddings_compute


class Command(BaseCommand):
    help = "Refresh the search documents of every served version; --embed computes vectors."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--embed", action="store_true",
                            help="also embed every text that has no vector yet (inline)")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        report = documents_refresh()
        self.stdout.write(f"documents written={report.written} unchanged={report.unchanged} "
                          f"removed={report.removed} seconds={time.perf_counter() - started:.1f}")
        if not options["embed"]:
            return
        started, total = time.perf_counter(), 0
        while True:
            step = embeddings_compute(limit=2000)
            total += step.embedded
            if not step.remaining or not step.embedded:
                break
        seconds = time.perf_counter() - started
        self.stdout.write(f"embedded={total} remaining={step.remaining} seconds={seconds:.1f} "
                          f"texts_per_second={total / seconds if seconds else 0:.1f}")
