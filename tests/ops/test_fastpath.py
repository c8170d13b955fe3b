"""ops.fastpath: anonymous cache hits answered before Django, with the same answer Django gives.

The application under test is the production one (config.wsgi: CacheHitApp around Django's
WSGI handler), called as a WSGI server calls it. A counter around Django's handler tells which
layer answered.
"""

from __future__ import annotations

import pytest

from ops import redis as shared_redis
from ops.fastpath import CacheHitApp
from tests.support.api import Api
from tests.support.redis import kill_kept
from tests.support.tokens import bearer
from tests.support.wsgi import Counting, access_log, call, stable

pytestmark = pytest.mark.django_db
NAME = "io.github.acme/db"
GET = f"/v0.1/servers/{NAME}/versions/latest"  # PATH_INFO arrives decoded


@pytest.fixture
def app() -> tuple[CacheHitApp, Counting]:
    inner = Counting()
    return CacheHitApp(inner), inner


@pytest.fixture
def admin_api(client) -> Api:
    api = Api(client, prefix="")
    api.token = bearer(["*"])
    return api


@pytest.fixture
def published(publish) -> None:
    publish(NAME, "1.0.0")


def test_a_hit_is_answered_before_django_with_the_same_bytes_and_headers(app, published):
    fast, inner = app
    for url in ("/v0.1/servers", GET, "/v0/servers?limit=1"):
        first = call(fast, url)  # a miss: Django answers, stores the page
        through_django = call(fast, url)  # a hit through Django (this layer learns the route)
        before = inner.calls
        hit = call(fast, url)
        assert inner.calls == before, f"{url} reached Django"
        assert first.status == through_django.status == hit.status == 200
        assert hit.body == through_django.body == first.body
        assert hit.headers["x-cache"] == through_django.headers["x-cache"] == "HIT"
        assert stable(hit.headers) == stable(through_django.headers)
        assert hit.headers["x-request-id"] != through_django.headers["x-request-id"]


def test_if_none_match_gets_a_304_from_the_fast_path(app, published):
    fast, inner = app
    call(fast, GET)
    etag = call(fast, GET).headers["etag"]
    before = inner.calls
    answer = call(fast, GET, if_none_match=etag)
    assert (answer.status, answer.body, inner.calls) == (304, b"", before)
    assert answer.headers["etag"] == etag and "content-type" not in answer.headers


def test_a_write_is_seen_at_once(app, published, publish):
    fast, _ = app
    for _ in range(3):
        assert call(fast, GET).json()["server"]["version"] == "1.0.0"
    publish(NAME, "1.1.0")
    assert call(fast, GET).json()["server"]["version"] == "1.1.0"


def test_each_request_is_charged_once_whichever_layer_answers(app, published, settings):
    settings.MCP_INDEX_RATE_LIMIT_ANON = "4/m"
    fast, _ = app
    answers = [call(fast, "/v0.1/servers") for _ in range(5)]
    # miss, hit through Django, then fast hits: four allowed, the fifth refused by Django.
    assert [a.status for a in answers] == [200, 200, 200, 200, 429]
    assert [a.headers.get("ratelimit-remaining") for a in answers[:4]] == ["3", "2", "1", "0"]
    assert answers[4].headers["content-type"] == "application/problem+json"
    assert "retry-after" in answers[4].headers


@pytest.mark.parametrize(("headers", "url"), [
    ({"authorization": "Bearer whatever"}, "/v0.1/servers"),  # a token: Django decides
    ({}, "/v0.1/servers?search=%00"),  # the input boundary refuses it
    ({"host": "evil.example"}, "/v0.1/servers"),  # a host Django refuses
])
def test_what_the_fast_path_must_not_answer_goes_to_django(app, published, settings, headers, url):
    settings.ALLOWED_HOSTS = ["testserver"]
    fast, inner = app
    call(fast, url.split("?")[0])
    call(fast, url.split("?")[0])  # stored and learned
    before = inner.calls
    answer = call(fast, url, **headers)
    assert inner.calls == before + 1
    if "%00" in url:
        assert answer.status == 400


def test_an_https_redirect_is_django_s(published, settings):
    settings.SECURE_SSL_REDIRECT = True  # read when the middleware is built
    fast = CacheHitApp(Counting())
    for _ in range(2):
        call(fast, "/v0.1/servers", x_forwarded_proto="https")  # stored, learned
    assert call(fast, "/v0.1/servers", x_forwarded_proto="https").headers["x-cache"] == "HIT"
    answer = call(fast, "/v0.1/servers")
    assert answer.status == 301 and answer.headers["location"].startswith("https://")


def test_private_catalogs_are_never_answered_here(app, admin_api, published,
                                                  django_capture_on_commit_callbacks):
    fast, inner = app
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.send("POST", "/v0.1/x/io.mcpindex/catalogs",
                                  {"slug": "secret", "public": False})
    assert response.status_code == 201, response.content
    for _ in range(3):
        assert call(fast, "/c/secret/v0.1/servers").status == 401
    assert inner.calls == 3


def test_hits_are_counted_and_logged_like_any_request(app, published):
    fast, inner = app
    call(fast, "/v0.1/servers")
    call(fast, "/v0.1/servers")
    before = inner.calls
    with access_log() as lines:
        hit = call(fast, "/v0.1/servers", x_request_id="trace-123")
    assert inner.calls == before and hit.headers["x-request-id"] == "trace-123"
    [line] = lines
    assert {k: line[k] for k in ("request_id", "method", "path", "route", "status", "bytes")} == {
        "request_id": "trace-123", "method": "GET", "path": "/v0.1/servers",
        "route": "/v0.1/servers", "status": 200, "bytes": len(hit.body)}
    scrape = call(fast, "/metrics").body.decode()
    assert ('mcp_index_http_requests_total{method="GET",route="/v0.1/servers",status="200"}'
            in scrape)
    assert 'mcp_index_response_cache_total{result="hit"}' in scrape


def test_the_switch_turns_it_off(app, published, settings):
    settings.MCP_INDEX_FAST_CACHE_HITS = False
    fast, inner = app
    for _ in range(3):
        assert call(fast, "/v0.1/servers").headers["x-cache"] in ("MISS", "HIT")
    assert inner.calls == 3


def test_a_dropped_redis_connection_costs_one_request_its_fast_answer(app, published):
    """Redis closing the connection the fast path keeps (a restart, a timeout, CLIENT KILL):
    that request goes on to Django, which answers it; the next is a fast hit again."""
    fast, inner = app
    for _ in range(3):
        call(fast, GET)
    client = shared_redis.client()
    assert client is not None
    assert kill_kept(client, "mcp-index:fastpath") >= 1
    before = inner.calls
    answer = call(fast, GET)
    assert (answer.status, inner.calls) == (200, before + 1)
    hit = call(fast, GET)
    assert (hit.status, hit.headers["x-cache"], inner.calls) == (200, "HIT", before + 1)
