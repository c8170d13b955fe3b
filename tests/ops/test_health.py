"""/healthz and /readyz: in-process, then gunicorn with a dead, hung or restarted database."""

from __future__ import annotations

import json
import time

import pytest
from django.db import connection

from ops.health import one_line
from tests.support.database import db_url
from tests.support.network import TcpProxy, free_port
from tests.support.redis import TEST_REDIS_URL


def test_healthz_answers_without_touching_the_database(client):
    # Not marked django_db: any database access here would fail the test.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_readyz_checks_database_broker_and_cache(client, settings):
    settings.CELERY_BROKER_URL = TEST_REDIS_URL
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok",
                               "checks": {"database": "ok", "broker": "ok", "cache": "ok"}}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readyz_skips_what_is_not_configured(client, settings):
    settings.CELERY_BROKER_URL = ""  # tasks run inline
    settings.REDIS_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "skipped", "cache": "skipped"}


@pytest.mark.django_db
@pytest.mark.parametrize("broker", ["redis://:hunter2@127.0.0.1:{port}/0",
                                    "amqp://guest:hunter2@127.0.0.1:{port}//"])
def test_readyz_fails_with_the_broker_down(client, settings, broker):
    settings.CELERY_BROKER_URL = broker.format(port=free_port())
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 10
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == "ok" and body["checks"]["cache"] == "ok"
    assert body["checks"]["broker"].startswith("error: ")
    assert "\n" not in body["checks"]["broker"]
    assert "hunter2" not in response.content.decode()


@pytest.mark.django_db
def test_readyz_fails_with_the_cache_down(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["cache"].startswith("error: ConnectionError") and checks["database"] == "ok"


@pytest.mark.django_db
def test_probes_skip_host_check_ssl_redirect_and_auth(client, settings):
    """Kubelets and scrapers call the pod address over plain HTTP with no credentials."""
    settings.ALLOWED_HOSTS = ["registry.example"]
    settings.SECURE_SSL_REDIRECT = True
    settings.MCP_INDEX_METRICS_TOKEN = ""
    pod = {"HTTP_HOST": "10.1.2.3:8000"}
    assert client.get("/v0.1/servers", **pod).status_code == 400  # the host check is on
    for path in ("/healthz", "/readyz", "/metrics"):
        assert client.get(path, **pod).status_code == 200, path
    assert client.get("/healthz", HTTP_HOST="registry.example").status_code == 200  # no 301


def test_probes_are_read_only(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200


def test_one_line_masks_passwords_and_newlines():
    error = OSError("cannot reach amqp://user:s3cr3t@rabbit:5672//\n  second line")
    assert one_line(error) == "OSError: cannot reach amqp://user:***@rabbit:5672// second line"


# --- the real thing: gunicorn, production settings, dependencies that die ---

def _readyz(server):
    response = server.get("/readyz")
    return response.status_code, response.json()["checks"], response


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_readiness_fails_when_nothing_listens_on_the_database_port(serve):
    server = serve({"DATABASE_URL": db_url(port=free_port())})
    status, checks, response = _readyz(server)
    assert status == 503
    assert checks["database"].startswith("error: OperationalError")
    assert checks["cache"] == "ok" and checks["broker"] == "skipped"
    assert server.get("/healthz").status_code == 200  # alive, just not ready
    # The readiness failure is logged as JSON with the request id the response carries.
    request_id = response.headers["X-Request-ID"]
    lines = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    failed = [line for line in lines if line["message"].startswith("readiness_failed")]
    assert failed and failed[-1]["request_id"] == request_id
    assert failed[-1]["level"] == "WARNING" and "database=" in failed[-1]["message"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_readiness_answers_in_bounded_time_when_the_database_hangs(serve, silent_port):
    server = serve({"DATABASE_URL": db_url(port=silent_port), "DATABASE_CONNECT_TIMEOUT": "2",
                    "MCP_INDEX_HEALTH_TIMEOUT_SECONDS": "2"})
    started = time.monotonic()
    status, checks, _ = _readyz(server)
    assert time.monotonic() - started < 8
    assert status == 503 and checks["database"].startswith("error: "), checks
    started = time.monotonic()
    scrape = server.get("/metrics")  # the scrape gives up on the database too, without a 500
    assert time.monotonic() - started < 8
    assert scrape.status_code == 200
    assert 'mcp_index_scrape_up{source="database"} 0.0' in scrape.text


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_readiness_fails_when_the_broker_is_down(serve):
    server = serve({"DATABASE_URL": db_url(),
                    "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"})
    status, checks, _ = _readyz(server)
    assert status == 503
    assert checks["broker"].startswith("error: ConnectionError"), checks
    assert checks["database"] == "ok" and checks["cache"] == "ok"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_database_restart_is_survived_without_a_failed_request(serve):
    db = connection.settings_dict
    proxy = TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))).start()
    try:
        # The response cache would answer the list without the database: off for this test.
        server = serve({"DATABASE_URL": db_url(host="127.0.0.1", port=proxy.port),
                        "DATABASE_CONN_MAX_AGE": "600", "MCP_INDEX_RESPONSE_CACHE": "0"})
        assert server.get("/v0.1/servers").status_code == 200  # opens the persistent connection
        assert _readyz(server)[0] == 200

        proxy.stop()  # the database goes away: every connection to it dies
        status, checks, _ = _readyz(server)
        assert status == 503 and checks["database"].startswith("error: "), checks
        assert server.get("/healthz").status_code == 200

        proxy.start()  # back again; the web worker's persistent connection is still the dead one
        assert _readyz(server)[0] == 200
        assert server.get("/v0.1/servers").status_code == 200, server.output()

        proxy.stop()
        down = server.get("/v0.1/servers")
        assert down.status_code == 500 and down.headers["Content-Type"] == "application/problem+json"
        proxy.start()
        assert server.get("/v0.1/servers").status_code == 200
    finally:
        proxy.stop()
