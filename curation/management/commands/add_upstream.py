"""`manage.py add_upstream NAME URL [options]`: register (or update) an upstream registry."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.services.upstreams import upstream_save
from registry.errors import RegistryError


class Command(BaseCommand):
    help = "Add or update an upstream registry to mirror (its auth header is never printed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="short name, also the origin of mirrored versions")
        parser.add_argument("url", help="base URL of the API, e.g. https://registry.example/v0.1")
        parser.add_argument("--auth-header", default=None,
                            help="Authorization header value, e.g. 'Bearer mcpi_…'")
        parser.add_argument("--include", action="append", default=None, metavar="GLOB",
                            help="only mirror names matching (repeatable)")
        parser.add_argument("--exclude", action="append", default=None, metavar="GLOB",
                            help="never mirror names matching (repeatable)")
        parser.add_argument("--interval", type=int, default=None, help="minutes between syncs")
        parser.add_argument("--priority", type=int, default=None,
                            help="lower wins when upstreams overlap (default 100)")
        parser.add_argument("--disabled", action="store_true", help="add it disabled")

    def handle(self, *args: Any, name: str, url: str, **options: Any) -> None:
        fields = {"base_url": url, "auth_header": options["auth_header"],
                  "include_patterns": options["include"], "exclude_patterns": options["exclude"],
                  "interval_minutes": options["interval"], "priority": options["priority"],
                  "enabled": False if options["disabled"] else None}
        try:
            upstream, created = upstream_save(
                name=name, fields={k: v for k, v in fields.items() if v is not None},
                actor="cli:manage.py")
        except RegistryError as exc:
            raise CommandError(exc.message) from exc
        verb = "added" if created else "updated"
        self.stdout.write(f"{verb} upstream {upstream.name} -> {upstream.base_url}")
