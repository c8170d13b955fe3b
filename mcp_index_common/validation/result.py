"""Validation issues and results, shaped like the official `/validate` response."""

from __future__ import annotations

from dataclasses import dataclass, field

JSON = "json"
SCHEMA = "schema"
SEMANTIC = "semantic"

ERROR = "error"
WARNING = "warning"
INFO = "info"


@dataclass(frozen=True)
class Issue:
    """One finding: `type` json|schema|semantic|linter, `severity` error|warning|info."""

    type: str
    path: str
    message: str
    severity: str
    reference: str

    def as_dict(self) -> dict[str, str]:
        return {
            "type": self.type,
            "path": self.path,
            "message": self.message,
            "severity": self.severity,
            "reference": self.reference,
        }


@dataclass(frozen=True)
class ValidationResult:
    """All issues found; valid when none is an error."""

    issues: tuple[Issue, ...] = field(default_factory=tuple)

    @property
    def valid(self) -> bool:
        return not any(i.severity == ERROR for i in self.issues)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == ERROR]

    def as_dict(self) -> dict[str, object]:
        return {"valid": self.valid, "issues": [i.as_dict() for i in self.issues]}


def path_of(parts: list[str | int]) -> str:
    """JSON path in the official bracket notation: `packages[0].transport.url`."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
