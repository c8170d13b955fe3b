"""`manage.py policy_set SLUG --threshold K --principal A --principal B …`: add or change."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from signing import services
from signing.api.inputs import policy_from_body
from signing.management.trust_commands import given, manage_actor, refusing
from signing.models import TrustPolicy


class Command(BaseCommand):
    help = ("Create a trust policy (K of these principals must vouch), or change the given "
            "fields of an existing one; --principal replaces its principals.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--title")
        parser.add_argument("--threshold", type=int, metavar="K")
        parser.add_argument("--principal", action="append", dest="principals", metavar="SLUG",
                            help="a principal of the policy (repeatable)")
        parser.add_argument("--predicate-type", action="append", dest="predicate_types",
                            metavar="URI", help="an accepted predicate type (repeatable)")
        verdicts = parser.add_mutually_exclusive_group()
        verdicts.add_argument("--verdict", action="append", dest="verdicts",
                              help="an accepted verdict (repeatable; default: approved)")
        verdicts.add_argument("--any-verdict", action="store_true", help="accept every verdict")

    def handle(self, *args: Any, slug: str, **options: Any) -> None:
        body = given(options, (("title", "title"), ("threshold", "threshold"),
                               ("principals", "principals"), ("predicate_types", "predicateTypes"),
                               ("verdicts", "verdicts")))
        if options["any_verdict"]:
            body["verdicts"] = []
        existing = TrustPolicy.objects.filter(slug=slug).first()
        if existing is None:
            body["id"] = slug

        def save() -> TrustPolicy:
            change = policy_from_body(body, existing=existing)
            return services.policy_save(policy=change.policy, principals=change.principals,
                                        actor=manage_actor())

        policy = refusing(save)
        members = sorted(policy.principals.values_list("slug", flat=True))
        verb = "added" if existing is None else "updated"
        self.stdout.write(f"{verb} policy {policy.slug}: {policy.threshold} of {len(members)} "
                          f"({', '.join(members)})")
