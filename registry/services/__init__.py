"""Every write to the registry: publishing, status changes, edits, ingest, tokens, audit.

One module per kind of write; the public names are re-exported here, so callers import
`registry.services` (or `from registry.services import version_publish`) as before.
"""

from __future__ import annotations

from registry.services.audit import audit_record
from registry.services.ingest import (
    IngestOutcome,
    PreparedEntry,
    ingest_prepare,
    split_entry,
    version_ingest,
    versions_ingest_bulk,
)
from registry.services.publishing import (
    Idempotency,
    PublishResult,
    validate_for_publish,
    version_edit,
    version_publish,
)
from registry.services.status import server_set_status, version_set_status
from registry.services.tokens import (
    TOKEN_FIELDS,
    TOKEN_PREFIX,
    CreatedToken,
    token_authenticate,
    token_create,
    token_delete,
    token_live_id,
    token_revoke,
    token_update,
)
from registry.services.versions import (
    servers_recompute_latest,
    servers_recompute_latest_from,
    versions_invalidate,
)

__all__ = [
    "TOKEN_FIELDS",
    "TOKEN_PREFIX",
    "CreatedToken",
    "Idempotency",
    "IngestOutcome",
    "PreparedEntry",
    "PublishResult",
    "audit_record",
    "ingest_prepare",
    "server_set_status",
    "servers_recompute_latest",
    "servers_recompute_latest_from",
    "split_entry",
    "token_authenticate",
    "token_create",
    "token_delete",
    "token_live_id",
    "token_revoke",
    "token_update",
    "validate_for_publish",
    "version_edit",
    "version_ingest",
    "version_publish",
    "version_set_status",
    "versions_ingest_bulk",
    "versions_invalidate",
]
