"""`manage.py load_demo`: the bundled demo servers (real registry entries), idempotently."""

from __future__ import annotations

from importlib import resources
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load the bundled demo dataset (safe to run repeatedly)."

    def handle(self, *args: Any, **options: Any) -> None:
        path = resources.files("registry.fixtures") / "demo-servers.json"
        call_command("import_servers", str(path), origin="demo", stdout=self.stdout)
