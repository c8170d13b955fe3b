"""Reading a server.json from disk and validating it locally with the registry's own rules."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp_index_cli.errors import EXIT_FAILURE, EXIT_INVALID, CliError
from mcp_index_common.validation import validate_manifest


@dataclass(frozen=True)
class LocalValidation:
    """Issues found locally, as dicts shaped like the `/v0/validate` response."""

    valid: bool
    issues: tuple[dict[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "issues": list(self.issues)}


def read_manifest(path: Path) -> dict[str, Any]:
    """Parse `path` as a JSON object; a missing file is exit 1, bad JSON is exit 3."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise CliError(f"{path} not found (create one with `mcp-index init`)",
                       code=EXIT_FAILURE) from exc
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CliError(f"{path} is not valid JSON: {exc}", code=EXIT_INVALID) from exc
    if not isinstance(document, dict):
        raise CliError(f"{path} must contain a JSON object", code=EXIT_INVALID)
    return document


def validate_local(document: dict[str, Any]) -> LocalValidation:
    """Run the shared schema and semantic checks on `document`."""
    result = validate_manifest(document)
    issues = tuple(
        {"type": i.type, "path": i.path, "message": i.message, "severity": i.severity,
         "reference": i.reference}
        for i in result.issues
    )
    return LocalValidation(valid=bool(result.valid), issues=issues)


def encode_body(document: dict[str, Any]) -> bytes:
    """The exact bytes sent to the registry (compact UTF-8 JSON, key order kept)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
