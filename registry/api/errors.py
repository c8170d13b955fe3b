"""RFC 9457 problem+json for every API error, in the official registry's shape."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from rest_framework import exceptions
from rest_framework.views import exception_handler

# The problem+json builder lives in ops, whose middleware answers API paths too.
from ops.http import problem_response
from ops.parsers import BodyRefused
from registry.auth import resource
from registry.errors import InvalidManifest, RegistryError


class Problem(exceptions.APIException):
    """Raise from a view to answer with a problem document."""

    def __init__(self, status: int, detail: str, errors: list[Any] | None = None, *,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status_code = status
        self.problem_detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def registry_error_response(exc: RegistryError) -> HttpResponse:
    """Map a domain error to its problem response (422s list the validation issues)."""
    errors: list[Any] = exc.errors
    if isinstance(exc, InvalidManifest):
        errors = [{"message": i.message, "location": i.path or "body", "type": i.type,
                   "reference": i.reference} for i in exc.result.errors]
    return problem_response(exc.status, exc.message, errors)


def _drf_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            out += _drf_errors(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(detail, list):
        return [e for item in detail for e in _drf_errors(item, prefix)]
    return [{"message": str(detail), "location": prefix or "body"}]


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    """DRF exception handler: every error leaves as problem+json."""
    if isinstance(exc, RegistryError):
        return registry_error_response(exc)
    if isinstance(exc, Problem):
        answer = problem_response(exc.status_code, exc.problem_detail, exc.errors, exc.headers)
        if exc.status_code == 401 and "WWW-Authenticate" not in answer:
            # Every 401 says how to authenticate: where the protected-resource metadata is
            # (RFC 9728) when an IdP is configured, else the plain Bearer scheme.
            answer["WWW-Authenticate"] = resource.challenge(context["request"])
        return answer
    if isinstance(exc, BodyRefused):
        return problem_response(400, f"Request body refused: {exc.location} {exc.reason}",
                                [{"message": exc.reason, "location": exc.location}])
    if isinstance(exc, exceptions.ParseError):
        return problem_response(400, f"Malformed JSON body: {exc.detail}")
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return problem_response(415, str(exc.detail))
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data.get("detail") if isinstance(response.data, dict) else None
    if detail is not None and len(response.data) == 1:
        return problem_response(response.status_code, str(detail))
    return problem_response(response.status_code, "Request validation failed",
                            _drf_errors(response.data))
