"""server.json validation: JSON Schema by `$schema` plus the official semantic checks.

Django-free on purpose: the `mcp-index` CLI validates locally with the same code.
"""

from registry.validation.result import Issue, ValidationResult
from registry.validation.schema import CURRENT_SCHEMA_URL, SUPPORTED_SCHEMAS
from registry.validation.validate import validate_manifest

__all__ = ["CURRENT_SCHEMA_URL", "SUPPORTED_SCHEMAS", "Issue", "ValidationResult", "validate_manifest"]
