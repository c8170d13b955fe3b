"""The standard registry API (`/v0`, `/v0.1`): thin views over selectors and services."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from rest_framework.request import Request
from rest_framework.views import APIView

from mcp_index_common.validation import validate_manifest
from registry import selectors, services
from registry.api.auth import BearerAuthentication, require_caller
from registry.api.errors import Problem, registry_error_response
from registry.api.render import entry_json, json_response
from registry.api.responses import entries_json, entry_response, list_response
from registry.auth.jwt import ANONYMOUS_METHOD, anonymous_subject, issue_token
from registry.auth.permissions import EDIT, PUBLISH, Permission
from registry.errors import RegistryError
from registry.models import IdempotencyRecord

ANONYMOUS_NAMESPACE = "io.modelcontextprotocol.anonymous"


class RegistryView(APIView):
    """Base: bearer auth available, problem+json errors, no DRF content negotiation cost."""

    authentication_classes = [BearerAuthentication]

    def include_deleted(self, request: Request) -> bool:
        return bool(selectors.parse_bool("include_deleted",
                                         request.query_params.get("include_deleted")))


def _json_object(request: Request) -> dict[str, Any]:
    data = request.data
    if not isinstance(data, dict):
        raise Problem(400, "Request body must be a JSON object")
    return data


class ServerListView(RegistryView):
    """GET /servers: keyset-paginated list with search, updated_since, version filters."""

    def get(self, request: Request) -> HttpResponse:
        page = selectors.list_page(selectors.parse_list_query(request.query_params))
        return list_response(page.rows, page.next_cursor)


class ServerVersionsView(RegistryView):
    """GET /servers/{name}/versions: every version, newest first."""

    def get(self, request: Request, name: str) -> HttpResponse:
        rows = selectors.server_versions(name, include_deleted=self.include_deleted(request))
        return list_response(rows)


class ServerVersionView(RegistryView):
    """GET one version (or `latest`); PUT replaces it (needs `edit`)."""

    def get(self, request: Request, name: str, version: str) -> HttpResponse:
        row = selectors.server_version(name, version,
                                       include_deleted=self.include_deleted(request))
        return entry_response(row)

    def put(self, request: Request, name: str, version: str) -> HttpResponse:
        caller = require_caller(request)
        if not caller.can(EDIT, name):
            raise Problem(403, "You do not have edit permissions for this server")
        sv = services.version_edit(name=name, version=version, document=_json_object(request),
                                   actor=caller.actor)
        return entry_response(selectors.version_row(sv))


def _status_body(request: Request) -> tuple[str, str | None]:
    body = _json_object(request)
    status, message = body.get("status"), body.get("statusMessage")
    if not isinstance(status, str):
        raise Problem(422, "status is required: one of active, deprecated, deleted")
    if message is not None and (not isinstance(message, str) or len(message) > 500):
        raise Problem(422, "statusMessage must be a string of at most 500 characters")
    return status, message


def _require_publish_or_edit(request: Request, name: str) -> str:
    caller = require_caller(request)
    if not (caller.can(PUBLISH, name) or caller.can(EDIT, name)):
        raise Problem(403, "You do not have publish or edit permissions for this server")
    return caller.actor


class VersionStatusView(RegistryView):
    """PATCH /servers/{name}/versions/{version}/status."""

    def patch(self, request: Request, name: str, version: str) -> HttpResponse:
        actor = _require_publish_or_edit(request, name)
        status, message = _status_body(request)
        sv = services.version_set_status(name=name, version=version, status=status,
                                         message=message, actor=actor)
        return entry_response(selectors.version_row(sv))


class ServerStatusView(RegistryView):
    """PATCH /servers/{name}/status: all versions in one transaction."""

    def patch(self, request: Request, name: str) -> HttpResponse:
        actor = _require_publish_or_edit(request, name)
        status, message = _status_body(request)
        versions = services.server_set_status(name=name, status=status, message=message,
                                              actor=actor)
        items = entries_json([selectors.version_row(sv) for sv in versions])
        return json_response(f'{{"updatedCount":{len(versions)},"servers":{items}}}')


class PublishView(RegistryView):
    """POST /publish: a new immutable version; honours Idempotency-Key."""

    def post(self, request: Request) -> HttpResponse:
        caller = require_caller(request)
        document = _json_object(request)
        name = document.get("name")
        if not isinstance(name, str) or not name:
            raise Problem(422, "Failed to publish server, invalid schema: call /validate for "
                          "details", [{"message": "name is required", "location": "body.name"}])
        caller.require(PUBLISH, name)
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            sv = services.version_publish(document=document, actor=caller.actor)
            return json_response(entry_json(selectors.version_row(sv)))
        if len(key) > 200:
            raise Problem(400, "Idempotency-Key must be at most 200 characters")
        return self._idempotent(request, key, caller.actor, document)

    def _idempotent(self, request: Request, key: str, actor: str, document: dict[str, Any]
                    ) -> HttpResponse:
        digest = hashlib.sha256(request.body).hexdigest()
        record = IdempotencyRecord.objects.filter(actor=actor, key=key).first()
        if record is not None:
            if record.request_hash != digest:
                raise Problem(422, "Idempotency-Key was already used with a different request body")
            response = json_response(record.response_body, record.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            with transaction.atomic():
                sv = services.version_publish(document=document, actor=actor)
                body = entry_json(selectors.version_row(sv))
                IdempotencyRecord.objects.create(key=key, actor=actor, request_hash=digest,
                                                 status_code=200, response_body=body)
        except IntegrityError:
            raise Problem(409, "A request with this Idempotency-Key is already being processed"
                          ) from None
        except RegistryError as exc:
            return registry_error_response(exc)
        return json_response(body)


class ValidateView(RegistryView):
    """POST /validate: always 200 with `{valid, issues}` for any JSON document."""

    def post(self, request: Request) -> HttpResponse:
        result = validate_manifest(request.data)
        return json_response(json.dumps(result.as_dict()))


class HealthView(RegistryView):
    def get(self, request: Request) -> HttpResponse:
        body: dict[str, Any] = {"status": "ok"}
        if settings.MCP_INDEX_GITHUB_CLIENT_ID:
            body["github_client_id"] = settings.MCP_INDEX_GITHUB_CLIENT_ID
        return json_response(json.dumps(body))


class PingView(RegistryView):
    def get(self, request: Request) -> HttpResponse:
        return json_response('{"pong":true}')


class VersionView(RegistryView):
    def get(self, request: Request) -> HttpResponse:
        return json_response(json.dumps({
            "version": settings.MCP_INDEX_VERSION, "git_commit": settings.MCP_INDEX_GIT_COMMIT,
            "build_time": settings.MCP_INDEX_BUILD_TIME}))


class AuthNoneView(RegistryView):
    """POST /auth/none: anonymous publishing to io.modelcontextprotocol.anonymous/* (dev only)."""

    authentication_classes: list[type] = []

    def post(self, request: Request) -> HttpResponse:
        if not settings.MCP_INDEX_ANONYMOUS_AUTH:
            raise Problem(404, "Anonymous authentication is disabled on this registry "
                          "(set MCP_INDEX_ANONYMOUS_AUTH=1 to enable it)")
        pattern = f"{ANONYMOUS_NAMESPACE}/*"
        subject = anonymous_subject()
        issued = issue_token(auth_method=ANONYMOUS_METHOD, subject=subject,
                             permissions=[Permission(PUBLISH, pattern), Permission(EDIT, pattern)])
        services.audit_record(actor=f"{ANONYMOUS_METHOD}:{subject}", action="registry.auth.login",
                              target=pattern, data={"method": "none"})
        return json_response(json.dumps(issued.as_response()))
