"""Writes of derived search data: documents kept current by content hash, embeddings by text.

Both are caches of what the versions say (no audit event: nothing here is a decision), and
both are idempotent: a document whose hash is unchanged is not written, a text already
embedded is not embedded again, so any caller may run them again after a crash.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from curation.models import CatalogEntry
from discovery import embedding
from discovery.documents import Document, document_of, tool_texts
from discovery.models import Embedding, SearchDocument
from registry.models import ServerVersion

log = logging.getLogger(__name__)
CHUNK = 500


@dataclass(frozen=True)
class RefreshReport:
    """What a documents_refresh pass did."""

    written: int
    unchanged: int
    removed: int


@dataclass(frozen=True)
class EmbedReport:
    """What an embeddings_compute pass did."""

    embedded: int
    seconds: float
    remaining: int  # documents whose text still has no vector (another pass takes them)


def served_version_ids(*, names: Iterable[str] | None = None) -> set[int]:
    """Versions that are the latest somewhere: the registry's, and every catalog's."""
    registry = ServerVersion.objects.filter(is_latest=True)
    entries = CatalogEntry.objects.filter(listed=True, is_latest=True)
    if names is not None:
        names = sorted(set(names))
        registry, entries = registry.filter(name__in=names), entries.filter(name__in=names)
    return (set(registry.values_list("id", flat=True))
            | set(entries.values_list("server_version_id", flat=True)))


def document_from_row(row: SearchDocument) -> Document:
    """The Document a stored row says (to embed it, or to rank it)."""
    return Document(name=row.name, title=row.title, description=row.description,
                    packages=row.packages, hosts=row.hosts, repository=row.repository,
                    tools=row.tools, keys=list(row.keys), registry_types=list(row.registry_types),
                    transports=list(row.transports), has_remote=row.has_remote,
                    has_package=row.has_package, namespace=row.namespace)


def _row(version_id: int, doc: Document) -> SearchDocument:
    return SearchDocument(
        server_version_id=version_id, name=doc.name, title=doc.title,
        description=doc.description, packages=doc.packages, hosts=doc.hosts,
        repository=doc.repository, tools=doc.tools, keys=doc.keys,
        registry_types=doc.registry_types, transports=doc.transports,
        has_remote=doc.has_remote, has_package=doc.has_package, namespace=doc.namespace,
        content_hash=doc.content_hash(), embed_hash=doc.embed_hash())


_FIELDS = [f.name for f in SearchDocument._meta.concrete_fields
           if f.name not in ("server_version", "updated_at")] + ["updated_at"]


def documents_refresh(*, names: Iterable[str] | None = None,
                      version_ids: Iterable[int] | None = None) -> RefreshReport:
    """Write the documents of served versions (of `names`, or these ids, or all) whose content
    changed, and drop those of versions no longer served. Unchanged hashes are not written."""
    wanted = set(version_ids or ()) if version_ids is not None else set()
    if names is not None:
        names = set(names)
        wanted |= served_version_ids(names=names)
    elif version_ids is None:
        wanted = served_version_ids()
    written = unchanged = 0
    ordered = sorted(wanted)
    for start in range(0, len(ordered), CHUNK):
        ids = ordered[start: start + CHUNK]
        stored = dict(SearchDocument.objects.filter(server_version_id__in=ids)
                      .values_list("server_version_id", "content_hash"))
        tools = tool_texts(ids)
        fresh: list[SearchDocument] = []
        for vid, manifest in ServerVersion.objects.filter(id__in=ids).values_list("id",
                                                                                 "manifest"):
            row = _row(vid, document_of(manifest if isinstance(manifest, dict) else {},
                                        tools=tools.get(vid, "")))
            if stored.get(vid) == row.content_hash:
                unchanged += 1
            else:
                fresh.append(row)
        with transaction.atomic():
            SearchDocument.objects.bulk_create(
                fresh, update_conflicts=True, unique_fields=["server_version"],
                update_fields=[f for f in _FIELDS if f != "server_version_id"])
        written += len(fresh)
    removed = 0
    if names is not None:  # these servers' documents of versions no longer served
        removed = (SearchDocument.objects.filter(name__in=sorted(names))
                   .exclude(server_version_id__in=ordered).delete()[0])
    elif version_ids is None:  # the full pass: every document of a version no longer served
        gone = sorted(set(SearchDocument.objects.values_list("server_version_id", flat=True))
                      - wanted)
        for start in range(0, len(gone), CHUNK):
            removed += SearchDocument.objects.filter(
                server_version_id__in=gone[start: start + CHUNK]).delete()[0]
    return RefreshReport(written, unchanged, removed)


def missing_embeddings(model: str = embedding.MODEL_ID) -> Q:
    """Documents whose embedded text has no vector of this model yet."""
    return ~Q(embed_hash__in=Embedding.objects.filter(model=model).values("content_hash"))


def embeddings_compute(*, limit: int = 2000) -> EmbedReport:
    """Embed up to `limit` document texts that have no vector yet, in batches."""
    pending = SearchDocument.objects.filter(missing_embeddings())
    if not pending.exists():
        return EmbedReport(0, 0.0, 0)
    encoder = embedding.encoder()
    if encoder is None:
        return EmbedReport(0, 0.0, pending.count())
    rows = list(pending.order_by("embed_hash")[: limit * 2])
    texts: dict[str, str] = {}
    for row in rows:
        if len(texts) >= limit:
            break
        texts.setdefault(row.embed_hash, document_from_row(row).embed_text())
    started = time.perf_counter()
    keys = list(texts)
    vectors = encoder.encode([texts[k] for k in keys])
    Embedding.objects.bulk_create(
        [Embedding(content_hash=k, model=embedding.MODEL_ID, vector=embedding.to_bytes(v))
         for k, v in zip(keys, vectors, strict=True)], ignore_conflicts=True)
    seconds = time.perf_counter() - started
    remaining = SearchDocument.objects.filter(missing_embeddings()).count()
    log.info("event=embeddings.computed count=%d seconds=%.2f remaining=%d", len(keys),
             seconds, remaining)
    return EmbedReport(len(keys), seconds, remaining)
