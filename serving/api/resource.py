"""RFC 9728 protected-resource metadata: `/.well-known/oauth-protected-resource[/c/<slug>]`.

Served only when an IdP is configured (MCP_INDEX_OAUTH_ISSUER); the document of a catalog
exists for every catalog, public or not (it reveals only the slug and the title, and a
client must be able to read it before it holds a token).
"""

from __future__ import annotations

import json
import re

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from curation.selectors import catalog_resolve
from ops.http import problem_response
from registry.auth import resource
from registry.errors import NotFound

_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,100}$")  # what Django's slug converter accepts


@require_safe
def metadata_view(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """The metadata of the registry (no slug) or of one catalog."""
    if not resource.enabled():
        return problem_response(404, "This registry accepts no OAuth access tokens "
                                "(MCP_INDEX_OAUTH_ISSUER is not set)")
    name = "MCP registry"
    if slug is not None:
        if not _SLUG.match(slug):
            return problem_response(404, "No such catalog")
        try:
            ref = catalog_resolve(slug)
        except NotFound as exc:
            return problem_response(404, exc.message)
        name = (ref.catalog.title if ref.catalog else "") or f"MCP registry catalog {slug}"
    document = resource.metadata(request, f"/c/{slug}" if slug else "/", name=name)
    response = HttpResponse(json.dumps(document), content_type="application/json")
    response["Cache-Control"] = "public, max-age=300"
    return response
