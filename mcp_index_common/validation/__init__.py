"""server.json validation: JSON Schema by `$schema` plus the official semantic checks.

Django-free on purpose: the `mcp-index` CLI validates locally with the same code.
"""

from mcp_index_common.validation.result import Issue, ValidationResult
from mcp_index_common.validation.schema import CURRENT_SCHEMA_URL, SUPPORTED_SCHEMAS
from mcp_index_common.validation.validate import validate_manifest

__all__ = ["CURRENT_SCHEMA_URL", "SUPPORTED_SCHEMAS", "Issue", "ValidationResult", "validate_manifest"]
