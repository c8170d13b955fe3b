"""What a signed-in user holds: their API tokens and the name patterns they may publish to."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from registry.auth.permissions import pattern_covers
from registry.models import ApiToken


def user_tokens(user: Any) -> list[ApiToken]:
    """The API tokens a user owns, newest first."""
    return list(ApiToken.objects.filter(owner=user).order_by("-created_at", "-id"))


def user_tokens_live(user: Any) -> list[ApiToken]:
    """The user's tokens that are neither revoked nor expired."""
    return list(ApiToken.objects.filter(owner=user, revoked_at__isnull=True)
                .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())))


def user_publish_patterns(user: Any) -> list[str]:
    """Name patterns a signed-in user may publish to (and so may scope new tokens to).

    Superusers hold `*`; everyone else holds the patterns of their live tokens, which an
    administrator (or a namespace proof through the CLI) granted in the first place.
    """
    if not getattr(user, "is_authenticated", False):
        return []
    if user.is_superuser:
        return ["*"]
    patterns: list[str] = []
    for token in user_tokens_live(user):
        for pattern in token.patterns if isinstance(token.patterns, list) else []:
            if isinstance(pattern, str) and pattern not in patterns:
                patterns.append(pattern)
    return patterns


def patterns_outside(requested: list[str], granted: list[str]) -> list[str]:
    """The requested patterns no grant covers."""
    return [p for p in requested if not any(pattern_covers(g, p) for g in granted)]
