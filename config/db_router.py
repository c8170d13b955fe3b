"""Serve the public read API from a PostgreSQL replica (DATABASE_REPLICA_URL).

Only GET and HEAD requests to the server list and detail endpoints (`/v0/servers…`,
`/v0.1/servers…`, `/c/<catalog>/…/servers…`) read from the `replica` alias, and only the
models those endpoints serve (versions, catalogs, trust); credentials, sessions and
everything else, and all other requests (publishing, sign-in, the web pages, the admin,
background tasks) use the primary. Inside such a request the primary takes over again for
reads in a transaction and for the rest of the request after any write, so nothing reads
around its own writes. The price is replication lag: a version just published may be
missing from the list for as long as the replica is behind (docs/deploy.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
READ_API_PATH = re.compile(r"^/(?:c/[^/]+/)?v0(?:\.1)?/servers(?:/|$)")

# What the read API serves; an API token just created must not be looked up on a lagging copy.
READ_API_MODELS = frozenset({
    "registry.serverversion", "registry.remoteurl",
    "curation.catalog", "curation.catalogentry", "curation.catalogoverlay",
    "signing.attestation", "signing.principal", "signing.trustpolicy", "signing.trustroot",
})

_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Inside it, the router may send read-API models' reads to the replica."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


class ReplicaReadsMiddleware:
    """Lets the router send this request's reads to the replica when it is a read-API GET."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or not READ_API_PATH.match(request.path):
            return self.get_response(request)
        with replica_reads():
            return self.get_response(request)


class ReplicaRouter:
    """Reads of a read-API request go to the replica; all else to the primary (`default`)."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        if not _replica_reads.get() or connections["default"].in_atomic_block:
            return None
        owner = model._meta.auto_created or model  # a many-to-many table goes with its model
        return REPLICA if owner._meta.label_lower in READ_API_MODELS else None

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        _replica_reads.set(False)  # read our own writes for the rest of the request
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica is a copy of the primary: rows relate across the aliases

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA
