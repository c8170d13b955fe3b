"""Production settings: `check --deploy` is clean, TLS is enforced, secrets come from the env."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.support.redis import TEST_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def production_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "MCP_INDEX_", "DATABASE_URL", "REDIS_URL"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings",
               DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
               MCP_INDEX_JWT_PRIVATE_KEY=secrets.token_hex(32),
               DJANGO_ALLOWED_HOSTS="registry.example.com",
               DJANGO_CSRF_TRUSTED_ORIGINS="https://registry.example.com",
               DATABASE_URL=os.environ.get("DATABASE_URL", ""),
               REDIS_URL=TEST_REDIS_URL)
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_under_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "MCP_INDEX_JWT_PRIVATE_KEY"])
def test_secrets_only_from_the_environment(missing):
    env = production_env()
    del env[missing]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr  # one clear reason, not a default secret


def test_http_is_redirected_but_probes_are_not(settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    response = client.get("/v0.1/servers")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    secure = client.get("/v0.1/servers", headers={"X-Forwarded-Proto": "https"})
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    for probe in ("/healthz", "/readyz", "/metrics"):
        assert client.get(probe).status_code != 301, probe


def test_security_headers_on_api_and_pages():
    client = Client()
    api = client.get("/v0.1/servers")
    assert api["X-Content-Type-Options"] == "nosniff"
    assert api["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert api["Referrer-Policy"] == "same-origin"
    page = client.get("/")
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "DENY"


def test_ui_forms_need_csrf(django_user_model):
    client = Client(enforce_csrf_checks=True)
    user = django_user_model.objects.create_user("ann", password="pw-long-enough-1")
    client.force_login(user)
    assert client.post("/account/tokens/", {"name": "x", "patterns": "a/*"}).status_code == 403
    login = Client(enforce_csrf_checks=True).post("/account/login/",
                                                   {"username": "ann", "password": "x"})
    assert login.status_code == 403


def test_oversized_bodies_are_refused_before_reading(client, settings):
    settings.MCP_INDEX_MAX_BODY_BYTES = 1000
    response = client.post("/v0.1/publish", data="x" * 2000, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
