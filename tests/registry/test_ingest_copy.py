"""Ingest writes new versions with one COPY whose rows it builds itself: what is stored is what
bulk_create would have stored, column for column."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection

from registry.models import ServerVersion
from registry.services import PreparedEntry, ingest_prepare, versions_ingest_bulk
from tests.support.manifests import server_doc

pytestmark = pytest.mark.django_db
OFFICIAL = "io.modelcontextprotocol.registry/official"
AWKWARD = "tab\there, newline\nthere, back\\slash, quote\", NUL-free, 😀 past U+FFFF, \\N"


def _prepared(name: str, meta: dict[str, Any] | None, **extra: Any) -> PreparedEntry:
    entry: dict[str, Any] = {"server": server_doc(name, **extra)}
    if meta is not None:
        entry["_meta"] = meta
    prepared = ingest_prepare(entry=entry, origin="upstream")
    assert isinstance(prepared, PreparedEntry)
    return prepared


def _columns(name: str) -> dict[str, Any]:
    with connection.cursor() as cursor:  # as PostgreSQL holds them, not through the model
        cursor.execute("SELECT manifest::text, manifest_text, title, description, status,"
                       " published_at, upstream_meta IS NULL, upstream_meta::text,"
                       " jsonb_typeof(validation_issues), is_latest"
                       " FROM registry_serverversion WHERE name = %s", [name])
        row = cursor.fetchone()
    keys = ["manifest", "manifest_text", "title", "description", "status", "published_at",
            "meta_is_null", "meta", "issues_type", "is_latest"]
    return dict(zip(keys, row, strict=True))


def test_copied_rows_hold_what_the_orm_would_store():
    assert connection.vendor == "postgresql"
    published = datetime(2025, 3, 4, 5, 6, 7, 891000, tzinfo=UTC)
    meta = {OFFICIAL: {"status": "deprecated", "publishedAt": "2025-03-04T05:06:07.891Z"},
            "com.example/x": {"big": 12345678901234567890, "text": AWKWARD}}
    copied = [_prepared("io.github.acme/copied", meta, title=AWKWARD, description=AWKWARD),
              _prepared("io.github.acme/no-meta", None, description="plain")]
    outcomes = versions_ingest_bulk(prepared=copied, origin="upstream")
    assert [o.action for o in outcomes] == ["created", "created"]
    stored = _columns("io.github.acme/copied")
    model = ServerVersion.objects.get(name="io.github.acme/copied")
    assert model.manifest == copied[0].values["manifest"]
    assert (stored["title"], stored["description"]) == (AWKWARD, AWKWARD)
    assert stored["manifest_text"] == copied[0].values["manifest_text"]
    assert (stored["status"], stored["published_at"], stored["is_latest"]) == (
        "deprecated", published, True)
    assert model.upstream_meta == meta and '"big": 12345678901234567890' in stored["meta"]
    assert stored["issues_type"] == "array"
    bare = _columns("io.github.acme/no-meta")
    assert bare["meta_is_null"] is True  # SQL NULL, as JSONField saves None; not JSON null
    assert ServerVersion.objects.filter(upstream_meta__isnull=True).count() == 1


def test_a_copied_manifest_keeps_exact_numbers_and_key_order():
    doc_extra = {"_meta": {"io.github.acme/x": {"n": 0.1, "z": 2**53 - 1, "a": 2}}}
    prepared = _prepared("io.github.acme/numbers", None, **doc_extra)
    versions_ingest_bulk(prepared=[prepared], origin="upstream")
    stored = _columns("io.github.acme/numbers")
    assert stored["manifest_text"] == prepared.values["manifest_text"]  # key order as sent
    assert '{"a": 2, "n": 0.1, "z": 9007199254740991}' in stored["manifest"]  # exact
