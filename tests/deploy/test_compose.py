"""deploy/compose.yaml: the services, their health checks and their start-up order."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.data import ROOT
from tests.support.deploy import COMPOSE_SHELL, DEPLOY, interpolate, load_compose

APP_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING = ("postgres", "redis", "web", "worker", "beat")


def test_names_every_service(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "redis", *APP_SERVICES}
    assert "pgdata" in compose["volumes"]


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_has_a_healthcheck_and_restarts(
        compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    test = service["healthcheck"]["test"]
    assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1
    assert service["restart"] == "unless-stopped"


def test_database_and_redis_health_checks(compose: dict[str, Any]) -> None:
    assert compose["services"]["postgres"]["healthcheck"]["test"][1] == "pg_isready"
    assert compose["services"]["redis"]["healthcheck"]["test"][1:] == ["redis-cli", "ping"]


def test_app_health_checks_probe_readiness_the_broker_and_the_schedule(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["web"]["healthcheck"]["test"] == [
        "CMD", "python", "deploy/healthcheck.py", "http://127.0.0.1:8000/readyz"]
    worker_check = services["worker"]["healthcheck"]["test"]
    assert worker_check[0] == "CMD-SHELL"
    assert "inspect ping --destination celery@$HOSTNAME" in worker_check[1]
    beat_check = services["beat"]["healthcheck"]["test"]
    assert beat_check[2:5] == ["deploy/healthcheck.py", "--fresh", "/tmp/celerybeat-schedule"]
    assert "--schedule=/tmp/celerybeat-schedule" in services["beat"]["command"]


def test_migrate_is_one_shot_and_everything_else_waits_for_it(compose: dict[str, Any]) -> None:
    services = compose["services"]
    migrate = services["migrate"]
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"
    assert migrate["healthcheck"] == {"disable": True}
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"}, name
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}, name
    assert services["web"]["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_the_processes_are_the_ones_the_image_and_chart_run(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["web"]["command"] == [
        "gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi:application"]
    assert services["web"]["ports"] == ["8000:8000"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]


def test_app_services_share_one_image_built_from_the_repository(compose: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert service["image"] == "mcp-index:local"
        build = service["build"]
        assert (DEPLOY / build["context"]).resolve() == ROOT
        assert (ROOT / build["dockerfile"]).is_file()
        assert service["read_only"] is True and service["tmpfs"] == ["/tmp"]


def test_local_environment_points_at_the_compose_services(compose: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        env = compose["services"][name]["environment"]
        assert env["DATABASE_URL"] == "postgres://mcp:mcp@postgres:5432/mcp_index"
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert env["REDIS_URL"] == "redis://redis:6379/1"
        assert env["DJANGO_DEBUG"] == "0"
        # Plain HTTP: an HTTPS redirect or secure-only cookies would lock the browser out.
        assert env["DJANGO_SECURE_SSL_REDIRECT"] == "0"
        assert env["DJANGO_SECURE_COOKIES"] == "0"
        assert env["DJANGO_SECRET_KEY"] == COMPOSE_SHELL["DJANGO_SECRET_KEY"]
    assert compose["services"]["web"]["environment"]["WEB_CONCURRENCY"] == "2"


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "MCP_INDEX_JWT_PRIVATE_KEY"])
def test_secrets_have_no_default(missing: str) -> None:
    shell = {key: value for key, value in COMPOSE_SHELL.items() if key != missing}
    with pytest.raises(KeyError, match=missing):
        interpolate(load_compose(), shell)
