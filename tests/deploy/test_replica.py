"""DATABASE_REPLICA_URL end to end: gunicorn with a primary and a "replica" that is a frozen
copy of it (a replica lagging forever), so where each read went shows in the answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.database import database_url, query, throwaway_database
from tests.support.deploy import app_env, http, running, wait_for
from tests.support.manifests import manifest
from tests.support.network import free_port

pytestmark = pytest.mark.slow  # migrates and copies a throwaway database

NAME = "io.modelcontextprotocol.anonymous/replica-demo"


@pytest.fixture
def replica(migrated_db: str) -> Iterator[str]:
    with throwaway_database(template=migrated_db) as name:
        yield name


def test_read_api_reads_the_replica_and_everything_else_the_primary(
        compose: dict[str, Any], migrated_db: str, replica: str, tmp_path: Any) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    service = compose["services"]["web"]
    env = app_env(service, DATABASE_URL=database_url(migrated_db),
                  DATABASE_REPLICA_URL=database_url(replica), GUNICORN_BIND=f"127.0.0.1:{port}",
                  PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"), WEB_CONCURRENCY="1",
                  MCP_INDEX_ANONYMOUS_AUTH="1", MCP_INDEX_OWNERSHIP_CHECKS="0",
                  DJANGO_DEBUG="1")  # DEBUG: pages without collected static files
    log = tmp_path / "gunicorn.log"
    with running(service["command"], env, log) as proc:
        wait_for(lambda: http(base + "/v0/health")[0] == 200, 60, proc, log)
        status, body = http(base + "/v0/auth/none", data=b"{}",
                            headers={"Content-Type": "application/json"})
        assert status == 200, body
        token = json.loads(body)["registry_token"]
        status, body = http(base + "/v0/publish", data=json.dumps(manifest(NAME)).encode(),
                            headers={"Content-Type": "application/json",
                                     "Authorization": f"Bearer {token}"})
        assert status == 200, body

        # The write reached the primary only.
        count = "SELECT count(*) FROM registry_serverversion WHERE name = %s"
        assert query(migrated_db, count, (NAME,)) == [(1,)]
        assert query(replica, count, (NAME,)) == [(0,)]
        # The read API answers from the replica ...
        status, body = http(base + "/v0.1/servers?search=replica-demo")
        assert (status, json.loads(body)["servers"]) == (200, [])
        assert http(base + "/v0/servers/" + NAME.replace("/", "%2F") + "/versions/latest")[0] == 404
        # ... while the web pages read the primary.
        status, page = http(f"{base}/servers/{NAME}/", headers={"Host": "localhost"})
        assert status == 200 and b"replica-demo" in page
    log_text = log.read_text()
    assert "Traceback" not in log_text, log_text[-3000:]
