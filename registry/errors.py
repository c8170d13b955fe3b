"""Domain errors raised by registry services and mapped to HTTP statuses by the API."""

from __future__ import annotations

from mcp_index_common.validation import ValidationResult


class RegistryError(Exception):
    """Base class: a refusal with a human-readable message."""

    status = 400
    title = "Bad Request"

    def __init__(self, message: str, *, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class PublishRefused(RegistryError):
    """Publishing was refused (duplicate, remote URL taken, ownership, limits)."""


class InvalidManifest(RegistryError):
    """The manifest failed schema or semantic validation (422)."""

    status = 422
    title = "Unprocessable Entity"

    def __init__(self, message: str, result: ValidationResult) -> None:
        super().__init__(message, errors=[f"{i.path}: {i.message}" if i.path else i.message
                                          for i in result.errors])
        self.result = result


class NotFound(RegistryError):
    """No such server or version."""

    status = 404
    title = "Not Found"


class Forbidden(RegistryError):
    """Authenticated, but not allowed."""

    status = 403
    title = "Forbidden"


class Conflict(RegistryError):
    """The request conflicts with stored state."""

    status = 409
    title = "Conflict"


class IdempotencyKeyReused(RegistryError):
    """An Idempotency-Key sent again with a different request body (422)."""

    status = 422
    title = "Unprocessable Entity"


class InvalidInput(RegistryError):
    """A value the database cannot hold: too long for its column, NUL, a lone surrogate (422)."""

    status = 422
    title = "Unprocessable Entity"

    def __init__(self, message: str, *, location: str) -> None:
        super().__init__(message)
        self.location = location
        self.errors = [{"message": message, "location": location}]  # type: ignore[list-item]
