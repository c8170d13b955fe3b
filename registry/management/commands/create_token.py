"""`manage.py create_token NAME --pattern P`: an admin-issued API token, printed once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.errors import RegistryError
from registry.services import token_create


class Command(BaseCommand):
    help = "Create a long-lived API token scoped to name patterns; prints the secret once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--pattern", action="append", default=[], dest="patterns",
                            help="name pattern it may publish, e.g. com.acme/* (repeatable)")
        parser.add_argument("--scope", action="append", default=[], dest="scopes",
                            help="extra scope, e.g. catalog:internal:reviewer (repeatable)")
        parser.add_argument("--edit", action="store_true", help="also grant admin edit")
        parser.add_argument("--expires-in-days", type=int, default=None)

    def handle(self, *args: Any, name: str, patterns: list[str], scopes: list[str], edit: bool,
               expires_in_days: int | None, **options: Any) -> None:
        try:
            created = token_create(name=name, patterns=patterns, scopes=scopes, can_edit=edit,
                                   expires_in_days=expires_in_days, actor="cli:manage.py")
        except RegistryError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(created.secret)
