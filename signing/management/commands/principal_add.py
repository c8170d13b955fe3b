"""`manage.py principal_add SLUG (--public-key-file F | --issuer … --subject … --trust-root …)`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from signing import services
from signing.api.inputs import principal_from_body
from signing.management.trust_commands import given, manage_actor, read_public_key, refusing
from signing.models import Principal


class Command(BaseCommand):
    help = ("Add a principal (a public key or a sigstore identity), or change the given fields "
            "of an existing one. Attestations it may affect are re-verified.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--display-name")
        parser.add_argument("--public-key-file", metavar="FILE", help="key principal: PEM public key")
        parser.add_argument("--issuer", help="sigstore principal: OIDC issuer URL (exact)")
        parser.add_argument("--subject", help="sigstore principal: certificate SAN")
        parser.add_argument("--pattern", action="store_true", default=None,
                            help="--subject is a full-match regular expression")
        parser.add_argument("--no-pattern", action="store_false", dest="pattern", default=None)
        parser.add_argument("--trust-root", metavar="SLUG", help="sigstore principal: its root")
        parser.add_argument("--expires-at", metavar="TIME", help="RFC 3339; its vouching ends then")
        parser.add_argument("--no-expiry", action="store_true", help="clear the expiry")

    def handle(self, *args: Any, slug: str, **options: Any) -> None:
        identity = given(options, (("issuer", "issuer"), ("subject", "subject"),
                                   ("pattern", "pattern"), ("trust_root", "trustRoot")))
        key_file = options["public_key_file"]
        if key_file and identity:
            raise CommandError("a principal is a public key or a sigstore identity, not both")
        if options["no_expiry"] and options["expires_at"]:
            raise CommandError("give --expires-at or --no-expiry, not both")
        body = given(options, (("display_name", "displayName"), ("expires_at", "expiresAt")))
        if options["no_expiry"]:
            body["expiresAt"] = None
        if key_file:
            body["publicKey"] = read_public_key(key_file)
        if identity:
            body["sigstore"] = identity
        existing = Principal.objects.select_related("trust_root").filter(slug=slug).first()
        if existing is None:
            if not key_file and not identity:
                raise CommandError("a new principal needs --public-key-file, or --issuer, "
                                   "--subject and --trust-root")
            body.update(id=slug, kind=Principal.KEY if key_file else Principal.SIGSTORE)
        principal = refusing(lambda: services.principal_save(
            principal=principal_from_body(body, existing=existing), actor=manage_actor()))
        detail = (f"keyid {principal.keyid}" if principal.kind == Principal.KEY
                  else f"{principal.oidc_issuer} {principal.subject}")
        verb = "added" if existing is None else "updated"
        self.stdout.write(f"{verb} principal {principal.slug} ({principal.kind}, {detail})")
