"""The pages for clients: the guide's setup per catalog, feed URLs on the account page, and
the publisher's metadata on the server page."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from curation.models import CatalogFeed
from registry import services
from registry.models import AuditEvent
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db
PUBLISHER = "io.modelcontextprotocol.registry/publisher-provided"


@pytest.fixture
def carol(client: Client) -> Any:
    """A signed-in user whose token gives her a viewer role in `corp`."""
    user = UserFactory(username="carol")
    services.token_create(name="corp", patterns=[], scopes=["catalog:corp:viewer"], actor="admin",
                          owner=user)
    client.force_login(user)
    return user


def snippet(body: str, snippet_id: str) -> str:
    match = re.search(rf'<pre id="g-{snippet_id}" tabindex="0"><code>(.*?)</code></pre>', body, re.S)
    assert match, snippet_id
    return html.unescape(match.group(1))


def test_the_guide_gives_setup_for_the_registry(client):
    body = client.get("/guide/").content.decode()
    assert json.loads(snippet(body, "vscode-gallery")) == {
        "chat.mcp.gallery.serviceUrl": "http://testserver"}
    assert json.loads(snippet(body, "vscode-mcp"))["servers"]["mcp-index"] == {
        "type": "http", "url": "http://testserver/mcp"}
    assert json.loads(snippet(body, "copilot-cli"))["mcpServers"]["mcp-index"]["url"] == \
        "http://testserver/mcp"
    assert snippet(body, "claude-code") == "claude mcp add --transport http mcp-index http://testserver/mcp"
    assert json.loads(snippet(body, "cursor")) == {"mcpServers": {"mcp-index": {
        "url": "http://testserver/mcp"}}}


def test_the_guide_gives_setup_per_catalog(client, carol, private_catalog):
    body = client.get("/guide/", {"catalog": "corp"}).content.decode()
    assert json.loads(snippet(body, "vscode-gallery")) == {
        "chat.mcp.gallery.serviceUrl": "http://testserver/c/corp"}
    assert snippet(body, "claude-code").endswith("http://testserver/c/corp/mcp")
    assert 'id="g-private"' in body and "feed URL" in body
    client.logout()  # a private catalog the visitor cannot read is not offered
    body = client.get("/guide/", {"catalog": "corp"}).content.decode()
    assert "/c/corp" not in snippet(body, "vscode-gallery") and 'id="g-private"' not in body


def test_feed_urls_on_the_account_page(client, carol, private_catalog):
    page = client.get("/account/").content.decode()
    assert 'name="feed-catalog"' in page and '<option value="corp">' in page
    created = client.post("/account/feeds/", {"feed-catalog": "corp", "feed-name": "laptop"}, follow=True)
    body = created.content.decode()
    url = re.search(r'<pre id="new-feed" tabindex="0"><code>(.*?)</code>', body).group(1)
    assert url.startswith("http://testserver/c/corp/k/mcpf_")
    assert client.get(url.removeprefix("http://testserver") + "/v0.1/servers").status_code == 200
    assert url not in client.get("/account/").content.decode()  # shown once
    feed = CatalogFeed.objects.get()
    assert feed.owner == carol and feed.created_by == "user:carol"
    client.post(f"/account/feeds/{feed.pk}/revoke/")
    assert client.get(url.removeprefix("http://testserver") + "/v0.1/servers").status_code == 404
    assert [e.action for e in AuditEvent.objects.filter(target=f"feed:{feed.pk}")
            .order_by("id")] == ["curation.feed.created", "curation.feed.revoked"]


def test_feed_form_refuses_a_catalog_without_a_role(client, private_catalog):
    client.force_login(UserFactory(username="dave"))
    assert "no role in a catalog yet" in client.get("/account/").content.decode()
    refused = client.post("/account/feeds/", {"feed-catalog": "corp", "feed-name": "x"})
    assert refused.status_code == 400 and CatalogFeed.objects.count() == 0
    other = UserFactory(username="erin")
    services.token_create(name="c", patterns=[], scopes=["catalog:corp:viewer"], actor="a",
                          owner=other)
    client.force_login(other)
    client.post("/account/feeds/", {"feed-catalog": "corp", "feed-name": "mine"})
    client.force_login(UserFactory(username="frank"))
    assert client.post(f"/account/feeds/{CatalogFeed.objects.get().pk}/revoke/").status_code == 404


def test_server_page_shows_publisher_metadata(client, add_server: Callable):
    add_server("io.github.acme/db", title="Acme DB", icons=[
        {"src": "https://acme.example/light.png", "theme": "light"},
        {"src": "https://acme.example/dark.png", "theme": "dark"},
        {"src": "http://acme.example/plain.png"}],
        _meta={PUBLISHER: {"github": {
            "name_with_owner": "acme/db", "stargazer_count": 1234, "license": "Apache-2.0",
            "owner_avatar_url": "https://avatars.example/acme.png", "primary_language": "Go",
            "topics": ["database", "<script>"]}}})
    body = client.get("/servers/io.github.acme/db/").content.decode()
    assert '<source srcset="https://acme.example/dark.png" media="(prefers-color-scheme: dark)">' in body
    assert 'src="https://acme.example/light.png"' in body and 'src="http://acme' not in body
    assert '<dd class="stars">1234</dd>' in body and '<dd class="license">Apache-2.0</dd>' in body
    assert 'src="https://avatars.example/acme.png"' in body
    assert "&lt;script&gt;" in body and "<script>" not in body.split("From the publisher")[1][:2000]


def test_server_page_without_publisher_metadata(client, add_server: Callable):
    add_server("io.github.acme/plain", _meta={PUBLISHER: {"github": {"stargazer_count": "lots",
                                                                     "owner_avatar_url": "javascript:x"}}})
    body = client.get("/servers/io.github.acme/plain/").content.decode()
    assert 'id="publisher-h"' not in body and 'src="javascript:x"' not in body
