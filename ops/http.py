"""Two HTTP facts every layer shares: which paths are the API, and how their errors look.

API paths answer errors as RFC 9457 problem+json in the official registry's shape, also
when the refusal comes from ops (a 429, an unauthorized scrape) rather than from a view.
The API's own error mapping (domain errors, DRF exceptions) builds on these in
registry/api/errors.py.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from django.http import HttpResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"
# The protected-resource metadata (RFC 9728) is read by machines too: problem+json and CORS.
RESOURCE_METADATA = "/.well-known/oauth-protected-resource"
API_PREFIXES = ("/v0/", "/v0.1/", "/c/", RESOURCE_METADATA + "/")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES) or path in ("/v0", "/v0.1", "/mcp", RESOURCE_METADATA)


def problem_body(status: int, detail: str, errors: list[Any] | None = None) -> dict[str, Any]:
    """`{"title","status","detail","errors":[{"message",…}]}` as Huma writes it."""
    body: dict[str, Any] = {"title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    if errors:
        body["errors"] = [e if isinstance(e, dict) else {"message": str(e)} for e in errors]
    return body


def problem_response(status: int, detail: str, errors: list[Any] | None = None,
                     headers: dict[str, str] | None = None) -> HttpResponse:
    """A ready problem+json response (for middleware and plain Django views)."""
    response = HttpResponse(json.dumps(problem_body(status, detail, errors)), status=status,
                            content_type=PROBLEM_CONTENT_TYPE)
    for key, value in (headers or {}).items():
        response[key] = value
    return response
