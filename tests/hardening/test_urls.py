"""Every URL passes one boundary: NUL, lone surrogates and control characters in the path
or query are refused with 400 (problem+json on API paths, the 400 page elsewhere), and an
unknown API path answers problem+json for every method."""

from __future__ import annotations

import base64
import time

import pytest

from tests.hardening.conftest import EXT, NAME, QUOTED, VERSION, assert_problem

pytestmark = pytest.mark.django_db

LIST_PATHS = ["/v0/servers", "/v0.1/servers", "/c/corp/v0.1/servers", "/c/all/v0/servers"]
QUERIES = ["search=a%00b", "version=1%00", "cursor=%00", "updated_since=2025%00",
           "search=a%0Ab", "search=%7F", "search=%ED%A0%80", "limit=1&search=%FF",
           "se%00arch=x", "search=a%09b"]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("path", LIST_PATHS)
def test_bad_characters_in_api_queries_are_refused(client, world, path, query):
    problem = assert_problem(client.get(f"{path}?{query}"), 400)
    assert problem["errors"][0]["location"].startswith("query"), problem


@pytest.mark.parametrize("path", [
    f"/v0/servers/{QUOTED}%00/versions", f"/v0/servers/{QUOTED}/versions/1%00",
    "/v0/servers%0A", "/v0.1/x/io.mcpindex/whoami%0D", "/c/corp%00/v0.1/servers",
])
def test_bad_characters_in_api_paths_are_refused(client, world, settings, path):
    settings.DEBUG = True  # the catch-all must not be bypassed into Django's debug 404
    problem = assert_problem(client.get(path), 400)
    assert problem["errors"][0]["location"] == "path"


def test_a_path_that_is_not_utf8_stays_percent_encoded_text(client, world):
    # Django re-percent-encodes bytes that are not UTF-8 (here an encoded surrogate): the
    # view sees the ASCII text `%ED%A0%80`, which no database or encoder refuses.
    response = client.get(f"/v0/servers/{QUOTED}/versions/%ED%A0%80")
    assert_problem(response, 404)
    assert client.get("/servers/a%ED%A0%80/").status_code == 404


@pytest.mark.parametrize("url", [
    "/servers/a%00b/", f"/servers/{NAME}/versions/1%00/", "/namespaces/a%00/", "/?q=a%00b",
    "/?q=%ED%A0%80", "/catalogs/?x=%1B", "/servers/a%0Ab/",
])
def test_bad_characters_in_page_urls_get_the_400_page(client, world, url):
    response = client.get(url)
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    assert b"Bad request" in response.content


def test_ordinary_text_still_passes(client, world):
    assert client.get("/v0/servers", {"search": "données ☃ 数据"}).status_code == 200
    assert client.get("/", {"q": "café"}).status_code == 200
    assert client.get(f"/v0/servers/{QUOTED}/versions/{VERSION}").status_code == 200


METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
UNKNOWN = ["/v0/nope", "/v0.1/servers/x", f"{EXT}/nope", "/c/corp/v0.1/nope", "/v0", "/v0.1",
           "/c/corp", f"{EXT}/tokens/abc", "/v0/servers/a%0Ab/versions"]


@pytest.mark.parametrize("path", UNKNOWN)
@pytest.mark.parametrize("method", METHODS)
def test_unknown_api_paths_answer_problem_json_for_every_method(client, world, settings, method,
                                                                path):
    settings.DEBUG = True
    client.handler.enforce_csrf_checks = True  # as a browser-less client meets it
    response = client.generic(method, path, data=b'{"a":1}', content_type="application/json")
    expected = 400 if "%0A" in path else 404
    assert response.status_code == expected, (response.status_code, response.content[:200])
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(("method", "path"), [
    ("DELETE", "/v0/publish"), ("GET", "/v0/publish"), ("PUT", "/v0/servers"),
    ("POST", f"/v0/servers/{QUOTED}/versions/{VERSION}"), ("DELETE", f"{EXT}/whoami"),
    ("PATCH", "/c/corp/v0.1/servers"),
])
def test_known_api_paths_answer_405_problem_json_for_other_methods(client, world, method, path):
    client.handler.enforce_csrf_checks = True
    response = client.generic(method, path, data=b"{}", content_type="application/json")
    assert_problem(response, 405)


def _cursor(name: str) -> str:
    raw = ('["' + name + '","1"]').encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_surrogate_in_a_cursor_does_not_hang_a_debug_worker(client, world, settings):
    """Under DEBUG the 500 page could not be encoded and every middleware layer re-rendered
    it for a longer exception chain: ~30 s of one worker per request."""
    settings.DEBUG = True
    client.raise_request_exception = False
    started = time.monotonic()
    response = client.get("/v0/servers", {"cursor": _cursor("\\ud800")})
    assert time.monotonic() - started < 5
    assert response.status_code == 400
    response.content.decode("utf-8")


@pytest.mark.parametrize("path", ["/v0/servers", "/c/corp/v0.1/servers"])
@pytest.mark.parametrize("name", ["\\ud800", "\\u0000", "a\\udfffb"])
def test_a_cursor_holding_nul_or_a_surrogate_is_a_400(client, world, path, name):
    client.raise_request_exception = False
    problem = assert_problem(client.get(path, {"cursor": _cursor(name)}), 400)
    assert "cursor" in problem["detail"].lower()
