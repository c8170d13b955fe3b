"""A response's `_meta`: the upstream's own members served as stored, ours added after them.

serving.sql reads the upstream's members as PostgreSQL prints them and
registry.api.render.meta_json splices that text into the response; these tests hold it to
what decoding, filtering and encoding the members (entry_meta) gives, key order included.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from registry.api.render import entry_meta, meta_json
from registry.manifest import OFFICIAL_META_KEY
from registry.services.ingest import version_ingest
from serving.rows import EntryRow
from tests.support.manifests import manifest

pytestmark = pytest.mark.django_db
NAME = "io.github.acme/meta"
RICH = {OFFICIAL_META_KEY: {"status": "active", "publishedAt": "2025-01-02T03:04:05Z",
                            "updatedAt": "2025-01-02T03:04:05Z", "isLatest": True},
        "com.example/ext": {"price": 1.50, "big": 123456789012345678901234567890,
                            "tags": ["ü", "\"q\"", "a\\b"], "nested": {"z": None, "a": [1, {}]}},
        "io.mcpindex/registry": {"origin": "forged"}, "io.mcpindex/trust": {"forged": True},
        "org.other/flag": False}


def ordered(text: str | bytes) -> Any:
    """JSON with its key order kept and its numbers exact."""
    return json.loads(text, object_pairs_hook=list, parse_float=Decimal)


@pytest.mark.parametrize("backend", ["sql", "orm"])
def test_the_upstream_s_members_are_served_and_ours_cannot_be_forged(client, settings, backend):
    settings.MCP_INDEX_READ_BACKEND = backend
    settings.MCP_INDEX_RESPONSE_CACHE = False
    outcome = version_ingest(entry={"server": manifest(NAME), "_meta": RICH},
                             origin="upstream:https://registry.example")
    assert outcome.action == "created", outcome
    meta = client.get(f"/v0.1/servers/{NAME}/versions/latest").json()["_meta"]
    keys = list(meta)
    assert (keys[0], keys[-1]) == (OFFICIAL_META_KEY, "io.mcpindex/registry")
    assert meta["com.example/ext"] == RICH["com.example/ext"]  # the big integer exactly
    assert meta["org.other/flag"] is False and "io.mcpindex/trust" not in meta
    assert meta["io.mcpindex/registry"]["origin"] == "upstream:https://registry.example"


def test_both_backends_serve_the_same_meta(client, settings):
    version_ingest(entry={"server": manifest(NAME), "_meta": RICH}, origin="upstream:x")
    settings.MCP_INDEX_RESPONSE_CACHE = False
    bodies = []
    for backend in ("sql", "orm"):
        settings.MCP_INDEX_READ_BACKEND = backend
        bodies.append(client.get("/v0.1/servers?limit=5").content)
    sql_body, orm_body = (ordered(b) for b in bodies)
    assert sql_body == orm_body  # key order included


_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=12)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**30, 10**30) | _TEXT
    | st.floats(allow_nan=False, allow_infinity=False, width=32),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8)
_KEYS = st.sampled_from(["com.example/a", "io.mcpindex/trust", OFFICIAL_META_KEY, "b", "é"]) | _TEXT


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(members=st.dictionaries(_KEYS, _JSON, max_size=4),
       message=_TEXT, origin=st.sampled_from(["local", "upstream:https://r.example/?a=\"b\"", "é"]),
       extra=st.sampled_from([None, {"io.mcpindex/catalog": {"catalog": "corp"}},
                              {"b": 1}, {"io.mcpindex/trust": {"verified": ["é"]}}]))
def test_spliced_text_is_what_encoding_the_members_gives(members, message, origin, extra):
    with connection.cursor() as cursor:  # the members as serving.sql reads them
        cursor.execute("SELECT NULLIF(%s::jsonb - %s, '{}'::jsonb)",
                       [json.dumps(members), OFFICIAL_META_KEY])
        [text] = cursor.fetchone()
    row = EntryRow(id=1, name=NAME, version="1.0.0", manifest_text="{}", status="active",
                   status_message=message, status_changed_at="2025-01-02T03:04:05.5Z",
                   published_at="2025-01-02T03:04:05Z", updated_at="2025-01-02T03:04:05Z",
                   is_latest=bool(message), origin=origin, digest="ab" * 32,
                   upstream_meta=text, attested=False)
    spliced = meta_json(row, extra)
    assert ordered(spliced) == ordered(json.dumps(entry_meta(row, extra)))
