"""Sign in, API tokens (create within grants, secret once, revoke) and publishing grants."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from registry import services
from registry.models import ApiToken, AuditEvent
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(client: Client) -> Any:
    user = UserFactory(username="alice", password="correct horse battery")
    services.token_create(name="granted by admin", patterns=["io.github.alice/*"],
                          actor="admin", owner=user)
    client.force_login(user)
    return user


def test_account_requires_sign_in(client: Client) -> None:
    response = client.get("/account/")
    assert response.status_code == 302 and response["Location"].startswith("/account/login/")


def test_sign_in_with_a_django_account(client: Client) -> None:
    UserFactory(username="bob", password="correct horse battery")
    bad = client.post("/account/login/", {"username": "bob", "password": "nope"})
    assert bad.status_code == 200 and b"errors" in bad.content
    good = client.post("/account/login/", {"username": "bob", "password": "correct horse battery",
                                           "next": "/account/"})
    assert good.status_code == 302 and good["Location"] == "/account/"
    assert b"no publishing grants yet" in client.get("/account/").content


def test_account_shows_grants_and_tokens(client: Client, alice: Any) -> None:
    body = client.get("/account/").content.decode()
    assert "<code>io.github.alice/*</code>" in body
    assert "granted by admin" in body


def test_create_token_shows_the_secret_once(client: Client, alice: Any) -> None:
    response = client.post("/account/tokens/", {"name": "CI", "patterns": "io.github.alice/db\n",
                                                "expires_in_days": "30"})
    assert response.status_code == 302
    page = client.get("/account/").content.decode()
    secret = re.search(r'<pre id="new-secret"[^>]*><code>(mcpi_[^<]+)</code>', page)
    assert secret is not None
    token = services.token_authenticate(secret.group(1))
    assert token is not None and token.owner == alice and token.patterns == ["io.github.alice/db"]
    assert token.expires_at is not None and not token.can_edit
    assert AuditEvent.objects.filter(action="registry.token.created", actor="user:alice").exists()
    assert secret.group(1) not in client.get("/account/").content.decode()


def test_token_outside_grants_is_refused(client: Client, alice: Any) -> None:
    response = client.post("/account/tokens/", {"name": "grab", "patterns": "io.github.bob/*\n*"})
    assert response.status_code == 400
    assert b"Outside what you may publish to: io.github.bob/*, *" in response.content
    assert ApiToken.objects.count() == 1


def test_only_admins_create_editing_tokens(client: Client, alice: Any) -> None:
    response = client.post("/account/tokens/", {"name": "e", "patterns": "io.github.alice/*",
                                                "can_edit": "on"})
    assert response.status_code == 400 and ApiToken.objects.count() == 1
    admin = UserFactory(superuser=True, username="root", password="x" * 12)
    client.force_login(admin)
    assert b"<code>*</code>" in client.get("/account/").content
    ok = client.post("/account/tokens/", {"name": "e", "patterns": "*", "can_edit": "on"})
    assert ok.status_code == 302 and ApiToken.objects.get(name="e").can_edit


def test_revoke_own_token_only(client: Client, alice: Any) -> None:
    other = UserFactory(username="mallory", password="x" * 12)
    theirs = services.token_create(name="theirs", patterns=["a.b/*"], actor="admin", owner=other)
    mine = ApiToken.objects.get(owner=alice)
    assert client.post(f"/account/tokens/{theirs.token.pk}/revoke/").status_code == 404
    assert client.post(f"/account/tokens/{mine.pk}/revoke/").status_code == 302
    mine.refresh_from_db()
    theirs.token.refresh_from_db()
    assert mine.revoked_at is not None and theirs.token.revoked_at is None
    assert b"You have no publishing grants yet" in client.get("/account/").content


def test_token_forms_need_csrf() -> None:
    csrf_client = Client(enforce_csrf_checks=True)
    user = UserFactory(username="carol", password="x" * 12)
    csrf_client.force_login(user)
    assert csrf_client.post("/account/tokens/", {"name": "x", "patterns": "a/*"}).status_code == 403


def test_sign_out_is_a_post(client: Client, alice: Any) -> None:
    assert client.get("/account/logout/").status_code == 405
    assert client.post("/account/logout/").status_code == 302
    assert client.get("/account/").status_code == 302
