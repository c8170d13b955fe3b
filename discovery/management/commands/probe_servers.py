"""`manage.py probe_servers [NAME [VERSION]] [--due]`: probe now, or run one scheduled batch."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from discovery import runner
from discovery.models import Inventory
from discovery.services import probe_request
from registry.errors import RegistryError
from registry.models import ServerVersion


class Command(BaseCommand):
    help = "Probe a server version's remote now (audited), or the due ones (--due)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", help="server name (all its versions with remotes)")
        parser.add_argument("version", nargs="?", help="only this version (or 'latest')")
        parser.add_argument("--due", action="store_true", help="run one scheduled batch")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["due"]:
            self.stdout.write(runner.probe_due().summary())
            return
        name = options["name"]
        if not name:
            raise CommandError("give a server name, or --due")
        versions = ServerVersion.objects.filter(name=name)
        if options["version"] == "latest":
            versions = versions.filter(is_latest=True)
        elif options["version"]:
            versions = versions.filter(version=options["version"])
        if not versions.exists():
            raise CommandError(f"no such server version: {name} {options['version'] or ''}")
        for version in versions.order_by("published_at"):
            try:
                probe_request(version=version, actor="cli:manage.py", enqueue=False)
            except RegistryError as exc:
                self.stderr.write(f"{version.name} {version.version}: {exc.message}")
                continue
            inventory = Inventory.objects.get(server_version=version)
            probe = runner.probe_one(inventory, requested_by="cli:manage.py")
            self.stdout.write(f"{version.name} {version.version}: {probe.status}"
                              f" tools={len(probe.tools)} {probe.tools_digest} {probe.reason}")
