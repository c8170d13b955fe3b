"""The standard registry API's writes (`/v0`, `/v0.1`): thin views over services.

The reads (`GET …/servers…`) are serving's (serving.api.views).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from rest_framework.request import Request
from rest_framework.views import APIView

from mcp_index_common.validation import validate_manifest
from registry import services
from registry.api.auth import BearerAuthentication, require_caller
from registry.api.errors import Problem
from registry.api.render import entries_json, entry_json, entry_response, json_response
from registry.auth.jwt import ANONYMOUS_METHOD, anonymous_subject, issue_token
from registry.auth.permissions import EDIT, PUBLISH, Permission
from registry.models import ServerVersion

ANONYMOUS_NAMESPACE = "io.modelcontextprotocol.anonymous"


class RegistryView(APIView):
    """Base: bearer auth available, problem+json errors, no DRF content negotiation cost."""

    authentication_classes = [BearerAuthentication]


def _json_object(request: Request) -> dict[str, Any]:
    data = request.data
    if not isinstance(data, dict):
        raise Problem(400, "Request body must be a JSON object")
    return data


class VersionEditView(RegistryView):
    """PUT /servers/{name}/versions/{version}: replace a version (needs `edit`).

    Routed by serving.api.urls, whose read view of the same URL extends this one.
    """

    def put(self, request: Request, name: str, version: str) -> HttpResponse:
        caller = require_caller(request)
        if not caller.can(EDIT, name):
            raise Problem(403, "You do not have edit permissions for this server")
        sv = services.version_edit(name=name, version=version, document=_json_object(request),
                                   actor=caller.actor)
        return entry_response(sv)


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
        return entry_response(sv)


class ServerStatusView(RegistryView):
    """PATCH /servers/{name}/status: all versions in one transaction."""

    def patch(self, request: Request, name: str) -> HttpResponse:
        actor = _require_publish_or_edit(request, name)
        status, message = _status_body(request)
        versions = services.server_set_status(name=name, status=status, message=message,
                                              actor=actor)
        items = entries_json(versions)
        return json_response(f'{{"updatedCount":{len(versions)},"servers":{items}}}')


IDEMPOTENCY_KEY_MAX = 200  # IdempotencyRecord.key


@dataclass(frozen=True)
class PublishInput:
    """A publish body: a JSON object naming the server (the service validates the rest)."""

    document: dict[str, Any]
    name: str

    @classmethod
    def parse(cls, request: Request) -> PublishInput:
        document = _json_object(request)
        name = document.get("name")
        if not isinstance(name, str) or not name:
            raise Problem(422, "Failed to publish server, invalid schema: call /validate for "
                          "details", [{"message": "name is required", "location": "body.name"}])
        return cls(document=document, name=name)


def idempotency_of(request: Request) -> services.Idempotency | None:
    """The request's Idempotency-Key, if any, with the sha256 of the exact body bytes."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return None
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise Problem(400, f"Idempotency-Key must be at most {IDEMPOTENCY_KEY_MAX} characters")
    return services.Idempotency(key=key, request_hash=hashlib.sha256(request.body).hexdigest())


def render_published(sv: ServerVersion) -> str:
    """The publish answer: the version as every read renders it."""
    return entry_json(sv)


def publish_response(result: services.PublishResult) -> HttpResponse:
    response = json_response(result.body, result.status_code)
    if result.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


class PublishView(RegistryView):
    """POST /publish: a new immutable version; honours Idempotency-Key."""

    def post(self, request: Request) -> HttpResponse:
        caller = require_caller(request)
        body = PublishInput.parse(request)
        caller.require(PUBLISH, body.name)
        result = services.version_publish(document=body.document, actor=caller.actor,
                                          idempotency=idempotency_of(request),
                                          render=render_published)
        return publish_response(result)


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
