"""serving.api.direct: anonymous reads answered without the Django stack, as Django answers them.

The application under test is production's composition (config.wsgi): the cache-hit fast path
around the direct reads around Django's handler, called as a WSGI server calls it. Django's
handler alone is the oracle; a counter around it tells which layer answered.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

from ops import generations
from ops.cache import ResponseCacheMiddleware
from ops.fastpath import CacheHitApp
from serving.api.direct import DirectReadApp
from tests.serving.test_backends import CATALOG_QUERIES, QUERIES
from tests.support.api import Api
from tests.support.tokens import bearer
from tests.support.wsgi import Counting, access_log, call, stable

pytestmark = pytest.mark.django_db
NAME = "io.github.acme/db"
LATEST = f"/v0.1/servers/{NAME}/versions/latest"
ROUTES = ["/v0.1/servers", "/v0/servers", f"/v0/servers/{NAME}/versions",
          f"/v0/servers/{NAME}/versions/latest", f"/v0.1/servers/{NAME}/versions/1.1.0",
          "/c/corp/v0.1/servers", f"/c/corp/v0.1/servers/{NAME}/versions",
          f"/c/corp/v0.1/servers/{NAME}/versions/latest", "/c/all/v0.1/servers",
          f"/c/all/v0.1/servers/{NAME}/versions/1.1.0"]


def decoded(url: str) -> str:
    """The URL as a WSGI server passes it: PATH_INFO decoded, the query string as sent."""
    path, _, query = url.partition("?")
    return unquote(path) + (f"?{query}" if query else "")


class Stack:
    """config.wsgi's composition around a counting Django."""

    def __init__(self, **options: Any) -> None:
        self.django = Counting()
        self.app = CacheHitApp(DirectReadApp(self.django, **options))

    def learn(self, urls: list[str]) -> None:
        for url in urls:  # Django answers each route once: its headers are learned
            call(self.app, url)
        generations.bump_everything()  # and what it stored is gone


def _plain(url: str) -> bool:
    """A read this layer answers itself: no ranked search."""
    return "search=" not in url


@pytest.mark.slow  # corp ingests 300 snapshot entries
@pytest.mark.parametrize("url", [decoded(u) for u in QUERIES + CATALOG_QUERIES])
def test_a_read_is_answered_here_with_django_s_status_bytes_and_headers(settings, corp, url):
    settings.MCP_INDEX_RESPONSE_CACHE = False
    stack = Stack()
    stack.learn(ROUTES)
    before = stack.django.calls
    direct = call(stack.app, url)
    oracle = call(WSGIHandler(), url)
    assert (direct.status, direct.body) == (oracle.status, oracle.body)
    # The direct answer declares its length (Django's leaves it to the server): all else equal.
    length = direct.headers.pop("content-length", None)
    assert length in (None, str(len(direct.body)))
    oracle.headers.pop("content-length", None)
    assert stable(direct.headers) == stable(oracle.headers)
    answered_here = direct.status == 200 and _plain(url)
    assert stack.django.calls == before + (0 if answered_here else 1)


@pytest.mark.slow  # corp ingests 300 snapshot entries
@pytest.mark.parametrize("url", [decoded(u) for u in QUERIES + CATALOG_QUERIES if _plain(u)])
def test_a_miss_is_read_here_stored_and_then_hit(settings, corp, url):
    stack = Stack()
    stack.learn(ROUTES)
    before = stack.django.calls
    miss, hit = call(stack.app, url), call(stack.app, url)
    oracle = call(WSGIHandler(), url)  # the page the direct read stored, through Django
    if oracle.status != 200:  # not found: Django answered both
        assert stack.django.calls == before + 2 and miss.status == hit.status == oracle.status
        return
    assert stack.django.calls == before
    assert (miss.headers["x-cache"], hit.headers["x-cache"], oracle.headers["x-cache"]) == (
        "MISS", "HIT", "HIT")
    assert miss.body == hit.body == oracle.body
    drop = lambda h: {k: v for k, v in stable(h).items()  # noqa: E731
                      if k not in ("x-cache", "content-length")}
    assert drop(miss.headers) == drop(hit.headers) == drop(oracle.headers)


@pytest.fixture
def published(publish) -> None:
    publish(NAME, "1.0.0")


@pytest.mark.parametrize("cached", [False, True])
def test_a_publish_is_seen_at_once(settings, published, publish, cached):
    settings.MCP_INDEX_RESPONSE_CACHE = cached
    stack = Stack()
    stack.learn([LATEST])
    for _ in range(3):
        assert call(stack.app, LATEST).json()["server"]["version"] == "1.0.0"
    publish(NAME, "1.1.0")
    assert call(stack.app, LATEST).json()["server"]["version"] == "1.1.0"


@pytest.mark.parametrize(("url", "headers", "status"), [
    ("/v0.1/servers?limit=abc", {}, 422),  # Django words the problem
    ("/v0.1/servers?cursor=%ff%fe", {}, 400),
    ("/v0.1/servers?include_deleted=maybe", {}, 422),
    (f"/v0.1/servers/{NAME}/versions/9.9.9", {}, 404),
    ("/v0.1/servers/io.github.acme/nope/versions", {}, 404),
    ("/c/nope/v0.1/servers", {}, 404),
    ("/v0.1/servers?search=db", {}, 200),  # ranked: ServerListView's own rules
    ("/v0.1/servers", {"authorization": "Bearer whatever"}, 401),
])
def test_what_this_layer_must_not_answer_goes_to_django(settings, published, url, headers,
                                                        status):
    settings.MCP_INDEX_RESPONSE_CACHE = False
    stack = Stack()
    stack.learn(["/v0.1/servers", LATEST, f"/v0.1/servers/{NAME}/versions"])
    before = stack.django.calls
    answer = call(stack.app, url, **headers)
    assert stack.django.calls == before + 1
    assert answer.status == status
    oracle = call(WSGIHandler(), url, **headers)
    assert (answer.status, answer.body) == (oracle.status, oracle.body)


def test_private_catalogs_are_django_s(settings, published, client,
                                       django_capture_on_commit_callbacks):
    admin = Api(client, prefix="")
    admin.token = bearer(["*"])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.send("POST", "/v0.1/x/io.mcpindex/catalogs",
                                        {"slug": "secret", "public": False})
    assert response.status_code == 201, response.content
    settings.MCP_INDEX_RESPONSE_CACHE = False
    stack = Stack()
    stack.learn(["/c/secret/v0.1/servers"] * 2)
    assert call(stack.app, "/c/secret/v0.1/servers").status == 401
    assert stack.django.calls == 3


@pytest.mark.parametrize("prefix", ["", "/c/open"])
def test_a_miss_reads_the_generation_once(settings, published, client, monkeypatch,
                                          django_capture_on_commit_callbacks, prefix):
    """The fast path's script read the catalog's generation: the direct read of a miss stores
    the page under it and resolves the catalog with it, without asking Redis again (only the
    first read after a bump mints a new one)."""
    admin = Api(client, prefix="")
    admin.token = bearer(["*"])
    with django_capture_on_commit_callbacks(execute=True):
        admin.send("POST", "/v0.1/x/io.mcpindex/catalogs", {"slug": "open", "public": True})
    stack = Stack()
    urls = [f"{prefix}{LATEST}", f"{prefix}/v0.1/servers/{NAME}/versions"]
    stack.learn(urls)
    read: list[str] = []
    current = generations.current
    monkeypatch.setattr(generations, "current", lambda slug: read.append(slug) or current(slug))
    first = call(stack.app, urls[0])
    assert (first.headers["x-cache"], read) == ("MISS", [prefix[3:] or "all"])  # mints
    miss, hit = call(stack.app, urls[1]), call(stack.app, urls[1])
    assert (miss.status, miss.headers["x-cache"], hit.headers["x-cache"]) == (200, "MISS", "HIT")
    assert hit.body == miss.body and len(read) == 1
    assert stack.django.calls == len(urls)  # the learning reads only


def test_a_miss_django_answers_is_not_looked_up_again(published, monkeypatch):
    """A ranked search goes on to Django: the fast path's script already found no page for it,
    so the cache middleware asks the view without another GET, and stores what it answers."""
    stack = Stack()
    url = "/v0.1/servers?search=database"
    stack.learn([url])
    call(stack.app, "/v0.1/servers")  # mints the generation the fast path then reads
    lookups: list[str] = []
    stored = ResponseCacheMiddleware._stored
    monkeypatch.setattr(ResponseCacheMiddleware, "_stored",
                        staticmethod(lambda key: lookups.append(key) or stored(key)))
    miss, hit = call(stack.app, url), call(stack.app, url)
    assert (miss.status, miss.headers["x-cache"], hit.headers["x-cache"]) == (200, "MISS", "HIT")
    assert hit.body == miss.body and lookups == []
    assert stack.django.calls == 2  # the learning read and the miss; the hit came from Redis


def test_each_request_is_charged_once_and_a_refusal_is_django_s(settings, published):
    settings.MCP_INDEX_RESPONSE_CACHE = False
    settings.MCP_INDEX_RATE_LIMIT_ANON = "4/m"
    stack = Stack()
    answers = [call(stack.app, "/v0.1/servers") for _ in range(5)]
    assert [a.status for a in answers] == [200, 200, 200, 200, 429]
    assert [a.headers.get("ratelimit-remaining") for a in answers[:4]] == ["3", "2", "1", "0"]
    assert stack.django.calls == 2  # the first (learning) and the refusal
    assert answers[4].headers["content-type"] == "application/problem+json"


def test_a_direct_read_is_counted_and_logged_like_any_request(settings, published):
    settings.MCP_INDEX_RESPONSE_CACHE = False
    stack = Stack()
    stack.learn([LATEST])
    counted = _requests_counted(stack)
    before = stack.django.calls
    with access_log() as lines:
        answer = call(stack.app, LATEST, x_request_id="trace-9")
    assert stack.django.calls == before and answer.headers["x-request-id"] == "trace-9"
    assert answer.headers["x-cache"] == "BYPASS"
    [line] = lines
    assert {k: line[k] for k in ("request_id", "route", "status", "bytes")} == {
        "request_id": "trace-9", "route": "/v0.1/servers/<name>/versions/<version>",
        "status": 200, "bytes": len(answer.body)}
    assert _requests_counted(stack) == counted + 1


def _requests_counted(stack: Stack) -> float:
    series = ('mcp_index_http_requests_total{method="GET",route="/v0.1/servers/<name>/versions/'
              '<version>",status="200"} ')
    scrape = call(stack.app, "/metrics").body.decode()
    return sum(float(line.removeprefix(series)) for line in scrape.splitlines()
               if line.startswith(series))


def test_if_none_match_gets_a_304(settings, published):
    settings.MCP_INDEX_RESPONSE_CACHE = False
    stack = Stack()
    stack.learn([LATEST])
    etag = call(stack.app, LATEST).headers["etag"]
    answer = call(stack.app, LATEST, if_none_match=etag)
    assert (answer.status, answer.body, stack.django.calls) == (304, b"", 1)
    assert answer.headers["etag"] == etag and "content-type" not in answer.headers


def test_reads_run_inside_the_given_context(settings, published):
    settings.MCP_INDEX_RESPONSE_CACHE = False
    entered: list[str] = []

    @contextmanager
    def reads() -> Any:
        entered.append("in")
        yield

    stack = Stack(reads=reads)
    stack.learn([LATEST])
    call(stack.app, LATEST)
    assert entered == ["in"]


def test_the_switch_turns_it_off(settings, published):
    settings.MCP_INDEX_RESPONSE_CACHE = False
    settings.MCP_INDEX_DIRECT_READS = False
    stack = Stack()
    for _ in range(3):
        assert call(stack.app, LATEST).status == 200
    assert stack.django.calls == 3


@pytest.mark.django_db(transaction=True)
def test_a_broken_connection_is_replaced_and_the_read_still_answered(settings, publish):
    """The database ended this worker's connection (a restart, an idle timeout): the direct
    read fails on it, Django answers after replacing it, the next read is direct again."""
    settings.MCP_INDEX_RESPONSE_CACHE = False
    publish(NAME, "1.0.0")
    stack = Stack()
    stack.learn([LATEST])
    assert call(stack.app, LATEST, signals=True).status == 200
    before = stack.django.calls
    with psycopg.connect(**_libpq()) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
    answer = call(stack.app, LATEST, signals=True)
    assert answer.status == 200 and answer.json()["server"]["version"] == "1.0.0"
    assert stack.django.calls == before + 1
    assert call(stack.app, LATEST, signals=True).status == 200
    assert stack.django.calls == before + 1


def _libpq() -> dict[str, Any]:
    params = connection.get_connection_params()
    return {k: v for k, v in params.items() if k in ("host", "port", "user", "dbname", "password")}
