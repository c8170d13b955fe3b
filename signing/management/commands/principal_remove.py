"""`manage.py principal_remove SLUG`: its attestations are re-verified without it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from signing import services
from signing.management.trust_commands import manage_actor, refusing
from signing.models import Principal


class Command(BaseCommand):
    help = "Remove a principal; the attestations it verified are re-verified without it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")

    def handle(self, *args: Any, slug: str, **options: Any) -> None:
        principal = Principal.objects.filter(slug=slug).first()
        if principal is None:
            raise CommandError(f"no principal {slug}")
        refusing(lambda: services.principal_delete(principal=principal, actor=manage_actor()))
        self.stdout.write(f"removed principal {slug}")
