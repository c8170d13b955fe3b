"""`manage.py trust_root_remove SLUG`: only a root no principal uses."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from signing import services
from signing.management.trust_commands import manage_actor, refusing
from signing.models import TrustRoot


class Command(BaseCommand):
    help = "Remove a trust root that no principal uses; sigstore attestations are re-verified."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")

    def handle(self, *args: Any, slug: str, **options: Any) -> None:
        root = TrustRoot.objects.filter(slug=slug).first()
        if root is None:
            raise CommandError(f"no trust root {slug}")
        refusing(lambda: services.trust_root_delete(root=root, actor=manage_actor()))
        self.stdout.write(f"removed trust root {slug}")
