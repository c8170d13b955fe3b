"""`manage.py trust_root_add SLUG (--trusted-root FILE | --production)`: add or change one."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from signing import services
from signing.api.inputs import trust_root_from_body
from signing.management.trust_commands import given, manage_actor, read_text, refusing
from signing.models import TrustRoot


class Command(BaseCommand):
    help = ("Add a sigstore trust root (a private instance's trusted_root.json, or the embedded "
            "production root), or change an existing one. Sigstore attestations are re-verified.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--trusted-root", metavar="FILE", help="the trusted_root.json")
        source.add_argument("--production", action="store_true",
                            help="sigstore's public-good instance (the embedded root)")
        parser.add_argument("--name")
        active = parser.add_mutually_exclusive_group()
        active.add_argument("--active", action="store_true", default=None, dest="active")
        active.add_argument("--inactive", action="store_false", dest="active", default=None)

    def handle(self, *args: Any, slug: str, **options: Any) -> None:
        body = given(options, (("name", "name"), ("active", "active")))
        if options["production"]:
            body["kind"] = TrustRoot.PRODUCTION
        elif options["trusted_root"]:
            text = read_text(options["trusted_root"], "trusted root")
            try:
                body.update(kind=TrustRoot.CUSTOM, trustedRoot=json.loads(text))
            except ValueError as exc:
                raise CommandError(f"{options['trusted_root']} is not JSON: {exc}") from exc
        existing = TrustRoot.objects.filter(slug=slug).first()
        if existing is None:
            if "kind" not in body:
                raise CommandError("a new trust root needs --trusted-root FILE or --production")
            body["id"] = slug
        root = refusing(lambda: services.trust_root_save(
            root=trust_root_from_body(body, existing=existing), actor=manage_actor()))
        verb = "added" if existing is None else "updated"
        state = "active" if root.is_active else "inactive"
        self.stdout.write(f"{verb} trust root {root.slug} ({root.kind}, {state})")
