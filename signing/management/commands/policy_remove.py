"""`manage.py policy_remove SLUG`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from signing import services
from signing.management.trust_commands import manage_actor, refusing
from signing.models import TrustPolicy


class Command(BaseCommand):
    help = "Remove a trust policy."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")

    def handle(self, *args: Any, slug: str, **options: Any) -> None:
        policy = TrustPolicy.objects.filter(slug=slug).first()
        if policy is None:
            raise CommandError(f"no policy {slug}")
        refusing(lambda: services.policy_delete(policy=policy, actor=manage_actor()))
        self.stdout.write(f"removed policy {slug}")
