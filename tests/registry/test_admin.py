"""The Django admin lists and opens every registry model for staff."""

from __future__ import annotations

import pytest
from django.urls import reverse

from registry.models import ApiToken

pytestmark = pytest.mark.django_db

MODELS = ["serverversion", "remoteurl", "apitoken", "auditevent", "idempotencyrecord"]


@pytest.mark.parametrize("model", MODELS)
def test_changelists_load(admin_client, publish, model):
    publish("io.github.acme/db", "1.0.0", remotes=[{"type": "sse", "url": "https://a.example/s"}])
    response = admin_client.get(reverse(f"admin:registry_{model}_changelist"))
    assert response.status_code == 200


def test_admin_creates_a_token_and_shows_the_secret_once(admin_client):
    response = admin_client.post(reverse("admin:registry_apitoken_add"), {
        "name": "ci", "patterns": '["com.acme/*"]', "scopes": "[]"}, follow=True)
    assert response.status_code == 200
    token = ApiToken.objects.get()
    messages = [str(m) for m in response.context["messages"]]
    secret = next(m.split(": ")[-1] for m in messages if "mcpi_" in m)
    assert token.patterns == ["com.acme/*"]
    assert token.token_hash != secret and len(token.token_hash) == 64
