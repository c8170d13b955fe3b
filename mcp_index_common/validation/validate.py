"""Entry point: validate one parsed server.json document."""

from __future__ import annotations

from typing import Any

from mcp_index_common.validation.result import ERROR, JSON, Issue, ValidationResult
from mcp_index_common.validation.schema import check_schema
from mcp_index_common.validation.semantic import check_semantics


def validate_manifest(document: Any, *, semantic: bool = True) -> ValidationResult:
    """Schema (by `$schema`) plus semantic checks; a non-object is a single json issue."""
    if not isinstance(document, dict):
        return ValidationResult((Issue(JSON, "", "server.json must be a JSON object", ERROR,
                                       "json-not-object"),))
    issues = check_schema(document)
    if semantic:
        issues += check_semantics(document)
    return ValidationResult(tuple(issues))
