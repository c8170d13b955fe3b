"""`manage.py rebuild_catalog SLUG`: recompute a catalog's whole membership."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.models import Catalog
from curation.services.membership import catalog_rebuild


class Command(BaseCommand):
    help = "Fully rebuild one catalog's materialized membership."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")

    def handle(self, *args: Any, slug: str, **options: Any) -> None:
        catalog = Catalog.objects.filter(slug=slug).first()
        if catalog is None:
            raise CommandError(f"no catalog {slug!r}")
        report = catalog_rebuild(catalog=catalog)
        self.stdout.write(f"catalog={report.catalog} servers={report.servers} "
                          f"entered={report.entered} left={report.left} changed={report.changed}")
