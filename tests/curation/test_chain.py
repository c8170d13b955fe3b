"""Subregistries chain: a second instance mirroring a catalog of the first converges to it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from django.db import connection

from curation.models import Upstream
from curation.services.catalogs import (
    catalog_overlay_set,
    catalog_pin,
    catalog_rules_replace,
)
from curation.services.membership import catalogs_reconcile
from curation.sync import upstream_sync
from registry.services import version_set_status
from tests.support.data import snapshot
from tests.support.factories import CatalogFactory, ServerVersionFactory, UpstreamFactory
from tests.support.fake_upstream import OFFICIAL, FakeRegistry

ROOT = Path(__file__).resolve().parents[2]


def _b_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}_b"


def run_b(*args: str) -> str:
    """Run a manage.py command as the second instance (its own database)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings",
           "DATABASE_URL": _b_url()}
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def second_instance() -> Any:
    db = connection.settings_dict
    admin_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/postgres"
    name = f"{db['NAME']}_b"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    run_b("migrate", "--noinput", "-v", "0")
    yield _b_url()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def catalog_of_a(base: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    """Everything the first instance's catalog serves, deleted entries included."""
    out, cursor = {}, None
    while True:
        params = {"limit": 50, "include_deleted": "true", **({"cursor": cursor} if cursor else {})}
        body = httpx.get(f"{base}/servers", params=params).json()
        for item in body["servers"]:
            meta = item["_meta"][OFFICIAL]
            out[(item["server"]["name"], item["server"]["version"])] = (
                item["server"], meta["status"], meta["isLatest"])
        cursor = body["metadata"].get("nextCursor")
        if not cursor:
            return out


def mirror_of_b(url: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT name, version, manifest_text, status, is_latest "
                            "FROM registry_serverversion").fetchall()
    return {(n, v): (json.loads(text), status, latest) for n, v, text, status, latest in rows}


def assert_converged(base: str, url: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    theirs, mine = catalog_of_a(base), mirror_of_b(url)
    assert mine.keys() == theirs.keys()
    assert [k for k in theirs if mine[k] != theirs[k]] == []
    return theirs


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_second_instance_mirroring_a_catalog_converges(live_server, second_instance):
    official = FakeRegistry(snapshot(120)).start()
    try:
        UpstreamFactory(base_url=official.url)
        upstream_sync(upstream=Upstream.objects.get())
    finally:
        official.stop()
    for name, version in [("io.github.acme/db", "1.0.0"), ("io.github.acme/db", "1.1.0"),
                          ("io.github.acme/cache", "2.0.0"), ("io.github.evil/tool", "1.0.0"),
                          ("com.example/one", "0.1.0"), ("com.example/one", "0.2.0")]:
        ServerVersionFactory(name=name, version=version)
    corp = CatalogFactory(slug="corp", title="Corp")
    catalog_rules_replace(catalog=corp, rules=[{"action": "deny", "namespace": "io.github.evil"}],
                          actor="test")
    catalog_pin(catalog=corp, name="com.example/one", version="0.1.0", note="", actor="test")
    catalog_overlay_set(catalog=corp, name="io.github.acme/db", tags=["db"], notes="",
                        featured=True, install_notes="", actor="test")
    base = f"{live_server.url}/c/corp/v0.1"

    run_b("add_upstream", "a-corp", base)
    first = run_b("sync_upstream", "a-corp")
    assert "state=succeeded" in first and "conflicts=0" in first
    served = assert_converged(base, second_instance)
    # Built before the rule and the pin arrived, these left the catalog: served as deleted.
    assert served[("io.github.evil/tool", "1.0.0")][1] == "deleted"
    assert served[("com.example/one", "0.2.0")][1] == "deleted"
    assert served[("com.example/one", "0.1.0")][1:] == ("active", True)

    # The first instance changes: a server leaves, a status changes, a version arrives.
    catalog_rules_replace(catalog=corp, rules=[
        {"action": "deny", "namespace": "io.github.evil"},
        {"action": "deny", "name_pattern": "io.github.acme/cache"}], actor="test")
    version_set_status(name="io.github.acme/db", version="1.1.0", status="deprecated",
                       message="use 1.2.0", actor="test")
    ServerVersionFactory(name="io.github.acme/db", version="1.2.0")
    catalogs_reconcile()
    second = run_b("sync_upstream", "a-corp")
    assert "state=succeeded" in second and "created=1" in second
    served = assert_converged(base, second_instance)
    assert served[("io.github.acme/cache", "2.0.0")][1] == "deleted"
    assert served[("io.github.acme/db", "1.1.0")][1] == "deprecated"
    assert served[("io.github.acme/db", "1.2.0")][2] is True
