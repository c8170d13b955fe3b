"""The server page, the raw server.json download, and untrusted manifest text staying inert."""

from __future__ import annotations

import html
import json
from collections.abc import Callable

import pytest
from django.test import Client

from tests.support.manifests import NPM, REMOTE

pytestmark = pytest.mark.django_db


def test_server_page_shows_what_to_run(client: Client, add_server: Callable) -> None:
    add_server("io.github.acme/db", "0.9.0", packages=NPM)
    add_server("io.github.acme/db", "1.0.0", title="Acme Database", packages=NPM, remotes=REMOTE,
               websiteUrl="https://acme.example/db",
               repository={"url": "https://github.com/acme/db", "source": "github"},
               icons=[{"src": "https://acme.example/icon.png", "mimeType": "image/png"}])
    response = client.get("/servers/io.github.acme/db/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1 id=\"server-title\">Acme Database</h1>" in body
    assert 'href="https://github.com/acme/db"' in body and 'href="https://acme.example/db"' in body
    assert 'src="https://acme.example/icon.png"' in body
    assert "DB_URL" in body and "Connection string" in body and ">secret<" in body
    text = html.unescape(body)
    assert '"command": "npx"' in text and "@acme/db@1.0.0" in text
    assert "claude mcp add --env 'DB_URL=<YOUR_DB_URL>' db -- npx -y @acme/db@1.0.0" in text
    assert '"DB_URL": "${input:db-url}"' in text
    assert "claude mcp add --transport http db https://mcp.acme.example/mcp" in text
    assert "/servers/io.github.acme/db/versions/0.9.0/" in body
    assert "/servers/io.github.acme/db/versions/1.0.0/server.json" in body


def test_older_version_page(client: Client, add_server: Callable) -> None:
    add_server("io.github.acme/db", "0.9.0", packages=NPM)
    add_server("io.github.acme/db", "1.0.0", packages=NPM)
    body = client.get("/servers/io.github.acme/db/versions/0.9.0/").content.decode()
    assert "v0.9.0" in body and "You are looking at an older version" in body


def test_deprecated_version_says_so(client: Client, add_server: Callable) -> None:
    add_server("io.github.acme/old", status="deprecated")
    body = client.get("/servers/io.github.acme/old/").content.decode()
    assert "This version is <strong>deprecated</strong>" in body


def test_unknown_server_and_version_are_404(client: Client, add_server: Callable) -> None:
    add_server("io.github.acme/db")
    assert client.get("/servers/io.github.acme/nope/").status_code == 404
    assert client.get("/servers/io.github.acme/db/versions/9.9.9/").status_code == 404
    assert client.get("/servers/io.github.acme/db/versions/9.9.9/server.json").status_code == 404


def test_raw_server_json_is_served_verbatim(client: Client, add_server: Callable) -> None:
    sv = add_server("io.github.acme/db", packages=NPM)
    response = client.get("/servers/io.github.acme/db/versions/1.0.0/server.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == 'attachment; filename="db-1.0.0.server.json"'
    assert response.content.decode() == sv.manifest_text
    assert json.loads(response.content)["packages"] == NPM


def test_server_page_query_count_is_constant(client: Client, add_server: Callable,
                                             django_assert_num_queries: Callable) -> None:
    for i in range(12):
        add_server("io.github.acme/db", f"1.0.{i}", packages=NPM, remotes=REMOTE if i == 0 else [])
    # the version, its history, catalog entries, trust policies and attestations
    with django_assert_num_queries(5):
        assert client.get("/servers/io.github.acme/db/").status_code == 200


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_manifest_text_is_inert(client: Client, add_server: Callable) -> None:
    add_server("io.github.evil/xss", title=XSS, description=XSS,
               websiteUrl="javascript:alert(document.cookie)",
               repository={"url": "javascript:alert(1)", "source": "github"},
               icons=[{"src": "javascript:alert(1)"}, {"src": "http://plain.example/i.png"}],
               packages=[{"registryType": "npm", "identifier": XSS, "version": "1",
                          "environmentVariables": [{"name": XSS, "description": XSS,
                                                    "isRequired": True}]}],
               remotes=[{"type": "sse", "url": "javascript:alert(2)"}])
    for url in ("/", "/?q=script", "/servers/io.github.evil/xss/", "/namespaces/io.github.evil/"):
        body = client.get(url).content.decode()
        assert "<script>alert" not in body, url
        assert "<img src=x" not in body, url
        assert 'href="javascript:' not in body.lower(), url
        assert 'src="javascript:' not in body.lower(), url
        assert 'src="http://plain.example' not in body, url  # icons must be https
    page = client.get("/servers/io.github.evil/xss/").content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert ">Repository<" not in page and ">Website<" not in page


def test_search_text_is_escaped(client: Client, add_server: Callable) -> None:
    add_server("io.github.acme/db")
    body = client.get("/", {"q": '"><script>alert(1)</script>'}).content.decode()
    assert "<script>alert(1)" not in body
    assert "&quot;&gt;&lt;script&gt;" in body
