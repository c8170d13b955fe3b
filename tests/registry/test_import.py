"""`manage.py import_servers`: the real registry snapshot in, the same data out."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from registry.models import ServerVersion
from tests.support.api import Api
from tests.support.data import SNAPSHOT, load_json

pytestmark = pytest.mark.django_db

OFFICIAL = "io.modelcontextprotocol.registry/official"


def run_import(path: str) -> str:
    out = StringIO()
    call_command("import_servers", path, stdout=out)
    return out.getvalue()


@pytest.mark.slow
def test_snapshot_round_trips_through_the_api(client):
    entries = load_json(SNAPSHOT)
    first = run_import(str(SNAPSHOT))
    assert f"created={len(entries)}" in first
    invalid = int(first.split("invalid=")[1].split()[0])
    assert 0.10 < invalid / len(entries) < 0.20  # ~15% of real entries fail their own schema
    api = Api(client)
    got: dict[tuple[str, str], dict] = {}
    cursor = None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        body = api.get("/v0.1/servers".removeprefix("/v0"), **params).json()
        for item in body["servers"]:
            got[(item["server"]["name"], item["server"]["version"])] = item
        cursor = body["metadata"].get("nextCursor")
        if not cursor:
            break
    assert len(got) == len(entries)
    for entry in entries:
        mine = got[(entry["server"]["name"], entry["server"]["version"])]
        assert mine["server"] == entry["server"]
        theirs, ours = entry["_meta"][OFFICIAL], mine["_meta"][OFFICIAL]
        assert ours["status"] == theirs["status"]
        assert ours["isLatest"] == theirs["isLatest"]
        assert ours["publishedAt"] == theirs["publishedAt"]


def test_import_is_idempotent(tmp_path):
    entries = load_json(SNAPSHOT)[:50]
    path = tmp_path / "some.json"
    path.write_text(json.dumps(entries))
    run_import(str(path))
    again = run_import(str(path))
    assert "created=0 updated=0 unchanged=50" in again
    assert ServerVersion.objects.count() == 50


def test_import_accepts_bare_server_json_and_rejects_garbage(tmp_path):
    docs = [entry["server"] for entry in load_json(SNAPSHOT)[:3]] + [42, {"name": "nope"}]
    path = tmp_path / "docs.json"
    path.write_text(json.dumps(docs))
    out = run_import(str(path))
    assert "created=3" in out and "rejected=2" in out


def test_import_refuses_unreadable_input(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run_import(str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CommandError, match="not valid JSON"):
        run_import(str(bad))
    obj = tmp_path / "obj.json"
    obj.write_text('{"a": 1}')
    with pytest.raises(CommandError, match="expected a JSON array"):
        run_import(str(obj))
    assert not ServerVersion.objects.exists()


@pytest.mark.slow
def test_demo_data_loads_twice_without_duplicates():
    call_command("load_demo", stdout=StringIO())
    count = ServerVersion.objects.count()
    assert count > 300
    call_command("load_demo", stdout=StringIO())
    assert ServerVersion.objects.count() == count


@pytest.mark.django_db(transaction=True)
def test_import_from_a_registry_url_follows_cursors(live_server, tmp_path, settings):
    entries = load_json(SNAPSHOT)[:120]
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(entries))
    run_import(str(path))
    before = {(sv.name, sv.version, sv.digest) for sv in ServerVersion.objects.all()}
    # The live server reads the same database, so every entry comes back as already known:
    # what matters is that both pages (limit 100) were walked and nothing was rejected.
    out = run_import(f"{live_server.url}/v0.1/servers")
    counts = dict(part.split("=") for part in out.split())
    assert int(counts["updated"]) + int(counts["unchanged"]) == 120
    assert counts["created"] == counts["rejected"] == "0"
    assert {(sv.name, sv.version, sv.digest) for sv in ServerVersion.objects.all()} == before
