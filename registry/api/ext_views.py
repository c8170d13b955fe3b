"""Our extensions under /v0.1/x/<namespace>/: whoami and self-service API tokens."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from rest_framework.request import Request

from registry import services
from registry.api.auth import Caller, require_caller
from registry.api.errors import Problem
from registry.api.render import json_response, rfc3339
from registry.api.views import RegistryView, _json_object
from registry.auth.permissions import PUBLISH, pattern_covers, patterns_for
from registry.models import ApiToken
from registry.services.tokens import MAX_PATTERNS, PATTERN_MAX

MAX_TOKEN_DAYS = 366


def token_json(token: ApiToken, secret: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": token.pk, "name": token.name, "prefix": token.prefix, "patterns": token.patterns,
        "scopes": token.scopes, "can_edit": token.can_edit,
        "created_at": rfc3339(token.created_at),
        "expires_at": rfc3339(token.expires_at) if token.expires_at else None,
        "last_used_at": rfc3339(token.last_used_at) if token.last_used_at else None,
        "revoked_at": rfc3339(token.revoked_at) if token.revoked_at else None,
    }
    if secret is not None:
        body["token"] = secret
    return body


class WhoAmIView(RegistryView):
    """GET whoami: the caller's identity and grants."""

    def get(self, request: Request) -> HttpResponse:
        caller = require_caller(request)
        return json_response(json.dumps({
            "auth_method": caller.auth_method, "subject": caller.subject,
            "permissions": [p.as_claim() for p in caller.permissions],
            "scopes": list(caller.scopes), "expires_at": caller.expires_at}))


def _own_tokens(caller: Caller) -> Any:
    qs = ApiToken.objects.order_by("-created_at", "-id")
    if caller.is_admin:
        return qs  # global admins see every token
    return qs.filter(created_by=caller.actor)


class TokensView(RegistryView):
    """GET lists the caller's tokens; POST creates one within the caller's own grants."""

    def get(self, request: Request) -> HttpResponse:
        caller = require_caller(request)
        tokens = [token_json(t) for t in _own_tokens(caller)[:500]]
        return json_response(json.dumps({"tokens": tokens}))

    def post(self, request: Request) -> HttpResponse:
        caller = require_caller(request)
        if caller.token is not None:
            raise Problem(403, "API tokens cannot mint other tokens; log in with a namespace "
                          "proof first")
        body = _json_object(request)
        name, patterns = body.get("name"), body.get("patterns")
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise Problem(422, "name is required (at most 200 characters)")
        if (not isinstance(patterns, list) or not patterns
                or not all(isinstance(p, str) and p.strip() for p in patterns)):
            raise Problem(422, "patterns must be a non-empty list of name patterns")
        if len(patterns) > MAX_PATTERNS or any(len(p) > PATTERN_MAX for p in patterns):
            raise Problem(422, f"patterns: at most {MAX_PATTERNS} name patterns of at most "
                          f"{PATTERN_MAX} characters each")
        days = body.get("expires_in_days")
        # bool is an int in Python: `true` must not read as 1 day.
        if days is not None and (isinstance(days, bool) or not isinstance(days, int)
                                 or not 1 <= days <= MAX_TOKEN_DAYS):
            raise Problem(422, f"expires_in_days must be an integer from 1 to {MAX_TOKEN_DAYS}")
        granted = patterns_for(caller.permissions, PUBLISH)
        outside = [p for p in patterns if not any(pattern_covers(g, p) for g in granted)]
        if outside:
            raise Problem(403, f"Patterns {outside} are outside your grants: "
                          f"{', '.join(granted) or 'nothing'}")
        created = services.token_create(name=name.strip(), patterns=patterns, actor=caller.actor,
                                        expires_in_days=days)
        return json_response(json.dumps(token_json(created.token, created.secret)), status=201)


class TokenDetailView(RegistryView):
    """DELETE revokes one of the caller's tokens."""

    def delete(self, request: Request, token_id: int) -> HttpResponse:
        caller = require_caller(request)
        token = _own_tokens(caller).filter(pk=token_id).first()
        if token is None:
            raise Problem(404, "Token not found")
        services.token_revoke(token=token, actor=caller.actor)
        return HttpResponse(status=204)
