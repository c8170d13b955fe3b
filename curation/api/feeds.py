"""Feed URLs over the extension API: list, create (the secret shown once), revoke.

`/v0.1/x/<ns>/feeds` and `/feeds/{id}`; every caller sees and revokes only their own feeds
(those they created, or those of the user their API token belongs to); administrators see
and revoke every feed (`?catalog=<slug>` narrows the list).
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from rest_framework.request import Request

from curation import selectors
from curation.api.payloads import optional_str
from curation.models import CatalogFeed
from curation.services import feeds as feed_services
from registry.api.auth import Caller, require_caller
from registry.api.errors import Problem
from registry.api.render import json_response, rfc3339
from registry.api.views import RegistryView, _json_object
from registry.auth.resource import base_url
from registry.errors import NotFound


def feed_json(feed: CatalogFeed) -> dict[str, Any]:
    """A feed as listed: never its secret, which only the creating response carries."""
    def t(value: Any) -> str | None:
        return rfc3339(value) if value else None

    return {"id": feed.pk, "catalog": feed.catalog.slug, "name": feed.name, "prefix": feed.prefix,
            "createdBy": feed.created_by, "createdAt": t(feed.created_at),
            "lastUsedAt": t(feed.last_used_at), "revokedAt": t(feed.revoked_at)}


def _owner_id(caller: Caller) -> int | None:
    return caller.token.owner_id if caller.token is not None else None


def _holds(caller: Caller, feed: CatalogFeed) -> bool:
    owner = _owner_id(caller)
    return (caller.is_admin or feed.created_by == caller.actor
            or (owner is not None and feed.owner_id == owner))


class FeedsView(RegistryView):
    """GET the caller's feeds; POST `{catalog, name}` issues one (201, with `url` and
    `secret`, shown this once)."""

    def get(self, request: Request) -> HttpResponse:
        caller = require_caller(request)
        slug = request.query_params.get("catalog") or None
        if caller.is_admin:
            feeds = selectors.feeds_all(slug=slug)
        else:
            feeds = [f for f in selectors.feeds_held(actor=caller.actor, owner_id=_owner_id(caller))
                     if slug is None or f.catalog.slug == slug]
        return json_response(json.dumps({"feeds": [feed_json(f) for f in feeds]}))

    def post(self, request: Request) -> HttpResponse:
        caller = require_caller(request)
        body = _json_object(request)
        slug = body.get("catalog")
        if not isinstance(slug, str) or not slug:
            raise Problem(422, "catalog (a catalog slug) is required")
        name = optional_str(body, "name", limit=200)
        try:
            ref = selectors.catalog_resolve(slug[:100])
        except NotFound as exc:
            raise Problem(404, exc.message) from exc
        if not selectors.feed_may_create(ref, caller):
            raise Problem(403, f"A feed of {ref.slug} needs a role in that catalog "
                          "(and the built-in catalog 'all' has no feeds)")
        assert ref.catalog is not None  # feed_may_create refuses the built-in
        owner = caller.token.owner if caller.token is not None else None
        created = feed_services.feed_create(catalog=ref.catalog, name=name, actor=caller.actor,
                                            owner=owner)
        url = f"{base_url(request)}/c/{ref.slug}/k/{created.secret}"
        return json_response(json.dumps({**feed_json(created.feed), "secret": created.secret,
                                         "url": url}), status=201)


class FeedDetailView(RegistryView):
    """DELETE revokes one of the caller's feeds (idempotent: 200 with `revokedAt`)."""

    def delete(self, request: Request, feed_id: int) -> HttpResponse:
        caller = require_caller(request)
        feed = CatalogFeed.objects.select_related("catalog").filter(pk=feed_id).first()
        if feed is None or not _holds(caller, feed):
            raise Problem(404, f"No feed {feed_id} of yours")
        feed = feed_services.feed_revoke(feed=feed, actor=caller.actor)
        return json_response(json.dumps(feed_json(feed)))
