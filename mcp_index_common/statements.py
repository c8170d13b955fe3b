"""in-toto Statement v1 about an MCP server version, our predicate types, and DSSE PAE.

A statement says something (the predicate) about one server version, identified by
`<server name>@<version>` and the sha256 of the RFC 8785 canonical JSON of its server.json.
Django-free: the CLI and third-party verifiers import this module.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import rfc8785

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"

# Our predicate types (documented in docs/signing.md).
REVIEW_V1 = "https://mcpindex.io/attestations/review/v1"
# The registry's own observation of a remote server's tool set (discovery; docs/inventory.md).
OBSERVATION_V1 = "https://mcpindex.io/attestations/observation/v1"
VERDICT_OBSERVED = "observed"
VERDICT_APPROVED = "approved"
VERDICT_REJECTED = "rejected"
VERDICTS = (VERDICT_APPROVED, VERDICT_REJECTED)
MAX_NOTES_CHARS = 4096
MAX_SCOPE_ITEMS = 32

# A statement bigger than this is refused before it is parsed.
MAX_STATEMENT_BYTES = 32 * 1024


class StatementError(ValueError):
    """A payload that is not a well-formed statement about a server version."""


@dataclass(frozen=True)
class Subject:
    """What a statement is about: `<name>@<version>` and the manifest's canonical sha256."""

    server_name: str
    version: str
    sha256: str

    @property
    def name(self) -> str:
        return f"{self.server_name}@{self.version}"

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "digest": {"sha256": self.sha256}}


@dataclass(frozen=True)
class Statement:
    """A parsed in-toto Statement v1 with exactly one subject."""

    subject: Subject
    predicate_type: str
    predicate: Mapping[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str | None:
        """The review verdict, when the predicate carries one."""
        value = self.predicate.get("verdict")
        return value if isinstance(value, str) else None

    def as_json(self) -> dict[str, Any]:
        return {
            "_type": STATEMENT_TYPE,
            "subject": [self.subject.as_json()],
            "predicateType": self.predicate_type,
            "predicate": dict(self.predicate),
        }

    def to_bytes(self) -> bytes:
        """The canonical (RFC 8785) serialization that gets signed."""
        return rfc8785.dumps(self.as_json())

    def is_about(self, *, server_name: str, version: str, sha256: str) -> bool:
        """True when this statement's subject is exactly this version and digest."""
        return (
            self.subject.server_name == server_name
            and self.subject.version == version
            and self.subject.sha256 == sha256.lower()
        )


def manifest_digest(manifest: Mapping[str, Any]) -> str:
    """sha256 hex of the RFC 8785 canonical JSON of a server.json."""
    return hashlib.sha256(rfc8785.dumps(dict(manifest))).hexdigest()


def review_predicate(
    *, verdict: str, notes: str = "", scope: tuple[str, ...] | list[str] = ()
) -> dict[str, Any]:
    """A `review/v1` predicate; raises StatementError on a bad verdict or oversized fields."""
    predicate = {"verdict": verdict, "notes": notes, "scope": list(scope)}
    _check_review(predicate)
    return predicate


def statement_build(
    *,
    server_name: str,
    version: str,
    sha256: str,
    predicate_type: str = REVIEW_V1,
    predicate: Mapping[str, Any],
) -> Statement:
    """A statement about one version; validates our own predicate types."""
    statement = Statement(
        subject=Subject(server_name=server_name, version=version, sha256=sha256.lower()),
        predicate_type=predicate_type,
        predicate=dict(predicate),
    )
    _check_statement(statement)
    return statement


def statement_bytes_for(
    *,
    server_name: str,
    version: str,
    sha256: str,
    verdict: str = VERDICT_APPROVED,
    notes: str = "",
    scope: Sequence[str] = (),
    predicate_type: str = REVIEW_V1,
    predicate: Mapping[str, Any] | None = None,
) -> bytes:
    """The canonical bytes of a statement about one version (a review unless told)."""
    body = (
        predicate
        if predicate is not None
        else review_predicate(verdict=verdict, notes=notes, scope=list(scope))
    )
    return statement_build(
        server_name=server_name,
        version=version,
        sha256=sha256,
        predicate_type=predicate_type,
        predicate=body,
    ).to_bytes()


def statement_parse(payload: bytes) -> Statement:
    """Parse and validate a statement payload; raises StatementError with a reason."""
    if len(payload) > MAX_STATEMENT_BYTES:
        raise StatementError(f"statement larger than {MAX_STATEMENT_BYTES} bytes")
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StatementError("statement is not JSON") from exc
    if not isinstance(data, dict):
        raise StatementError("statement is not a JSON object")
    if data.get("_type") != STATEMENT_TYPE:
        raise StatementError(f"statement _type must be {STATEMENT_TYPE}")
    subjects = data.get("subject")
    if not isinstance(subjects, list) or len(subjects) != 1:
        raise StatementError("statement must have exactly one subject")
    subject = _parse_subject(subjects[0])
    predicate_type = data.get("predicateType")
    if not isinstance(predicate_type, str) or not predicate_type:
        raise StatementError("statement predicateType must be a non-empty string")
    predicate = data.get("predicate", {})
    if not isinstance(predicate, dict):
        raise StatementError("statement predicate must be an object")
    statement = Statement(subject=subject, predicate_type=predicate_type, predicate=predicate)
    _check_statement(statement)
    return statement


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: the exact bytes a DSSE signature covers."""
    type_bytes = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


def _parse_subject(raw: object) -> Subject:
    if not isinstance(raw, dict):
        raise StatementError("statement subject must be an object")
    name = raw.get("name")
    digest = raw.get("digest")
    if not isinstance(name, str) or "@" not in name:
        raise StatementError("subject name must be '<server name>@<version>'")
    server_name, _, version = name.rpartition("@")
    if not server_name or not version:
        raise StatementError("subject name must be '<server name>@<version>'")
    if not isinstance(digest, dict) or not isinstance(digest.get("sha256"), str):
        raise StatementError("subject digest must contain sha256")
    sha256 = digest["sha256"].lower()
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise StatementError("subject sha256 must be 64 hex characters")
    return Subject(server_name=server_name, version=version, sha256=sha256)


def _check_statement(statement: Statement) -> None:
    if statement.predicate_type == REVIEW_V1:
        _check_review(statement.predicate)


def _check_review(predicate: Mapping[str, Any]) -> None:
    if predicate.get("verdict") not in VERDICTS:
        raise StatementError(f"review verdict must be one of {', '.join(VERDICTS)}")
    notes = predicate.get("notes", "")
    if not isinstance(notes, str) or len(notes) > MAX_NOTES_CHARS:
        raise StatementError(f"review notes must be a string of at most {MAX_NOTES_CHARS}")
    scope = predicate.get("scope", [])
    if (
        not isinstance(scope, list)
        or len(scope) > MAX_SCOPE_ITEMS
        or not all(isinstance(item, str) and 0 < len(item) <= 64 for item in scope)
    ):
        raise StatementError(f"review scope must be a list of at most {MAX_SCOPE_ITEMS} labels")
