"""`GET …/x/<ns>/servers/{name}/versions/{version|latest}/tools`: a version's observed tools
and its last check, in the root and in every catalog (what the scope serves, nothing more)."""

from __future__ import annotations

import json

from django.http import HttpResponse
from rest_framework.request import Request

from curation.selectors import BUILTIN_SLUG, catalog_resolve
from discovery.inventory import version_tools
from discovery.services import probe_request
from registry.api.auth import require_caller
from registry.api.errors import Problem
from registry.api.render import json_response
from registry.models import ServerVersion
from serving import reader
from serving.api.views import ReadView


class VersionToolsView(ReadView):
    """A version's tool inventory: `{server, version, tools, inventory}`."""

    def get(self, request: Request, name: str, version: str, slug: str = BUILTIN_SLUG
            ) -> HttpResponse:
        scope = self.scope(request, slug)
        row = reader.server_version(scope, name, version,
                                    include_deleted=self.include_deleted(request))
        body = {"server": row.name, "version": row.version, **version_tools(row.id).as_json()}
        return json_response(json.dumps(body, separators=(",", ":")))


class ProbeNowView(ReadView):
    """POST: probe this version's remote now (registry administrators; 202, audited)."""

    def post(self, request: Request, name: str, version: str, slug: str = BUILTIN_SLUG
             ) -> HttpResponse:
        caller = require_caller(request)
        if not caller.is_admin:
            raise Problem(403, "Only registry administrators can request a probe")
        row = reader.server_version(catalog_resolve(BUILTIN_SLUG), name, version,
                                    include_deleted=False)
        target = ServerVersion.objects.get(pk=row.id)
        inventory = probe_request(version=target, actor=caller.actor)
        body = {"server": row.name, "version": row.version, "url": inventory.url,
                "status": "requested"}
        return json_response(json.dumps(body, separators=(",", ":")), status=202)
