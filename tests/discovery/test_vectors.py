"""discovery.vectors: the HNSW graph answers what the exact scan answers; the store and the
scope index follow the database without reading everything again."""

from __future__ import annotations

import time

import numpy as np
import pytest

from curation.selectors import catalog_resolve
from discovery import embedding, ranking, vectors
from discovery import index as indexes
from discovery.models import Embedding
from serving.search import search_page
from tests.discovery.test_ranking import SERVERS, names
from tests.support.factories import ServerVersionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_indexes() -> None:
    ranking.forget()


def _clustered(count: int, seed: int) -> np.ndarray:
    """Unit vectors around a few centres, as sentence embeddings of similar servers are."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(12, embedding.DIMENSIONS))
    points = centres[rng.integers(0, 12, count)] + 0.6 * rng.normal(
        size=(count, embedding.DIMENSIONS))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def _stored(points: np.ndarray, start: int = 0) -> list[str]:
    keys = [f"{i + start:064x}" for i in range(len(points))]
    Embedding.objects.bulk_create(
        Embedding(content_hash=key, model=embedding.MODEL_ID, vector=embedding.to_bytes(p))
        for key, p in zip(keys, points, strict=True))
    return keys


def _scope(keys: list[str], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A scope's documents: some share a text (one row), some have no vector; a filter."""
    doc_keys = [*keys, *rng.choice(keys, 200).tolist(), *["f" * 64] * 30]
    store = vectors.store()
    return store.rows_of(doc_keys), rng.random(len(doc_keys)) < 0.7


@pytest.mark.parametrize("depth", [10, 40])
def test_the_graph_returns_what_the_exact_scan_returns(settings, depth) -> None:
    points = _clustered(1525, seed=7)  # the last 25, not stored, are the queries
    keys = _stored(points[:1500])
    rows, allowed = _scope(keys, np.random.default_rng(3))
    queries = points[1500:]
    settings.MCP_INDEX_ANN_MIN_VECTORS = 10**9
    exact = [vectors.store().nearest(q, rows, allowed, depth=depth, floor=0.1) for q in queries]
    assert not any(found.approximate for found in exact)
    vectors.forget()
    settings.MCP_INDEX_ANN_MIN_VECTORS, settings.MCP_INDEX_ANN_BACKGROUND = 100, False
    store = vectors.store()
    approximate = [store.nearest(q, rows, allowed, depth=depth, floor=0.1) for q in queries]
    assert all(found.approximate for found in approximate)
    for a, e in zip(approximate, exact, strict=True):
        assert a.positions.tolist() == e.positions.tolist()
        assert np.allclose(a.similarities, e.similarities, atol=1e-5)
        assert allowed[a.positions].all() and (rows[a.positions] >= 0).all()
        assert len(a.positions) == depth  # the filter applies inside the graph search


def test_new_vectors_join_the_store_and_the_graph_without_a_full_read(settings) -> None:
    settings.MCP_INDEX_ANN_MIN_VECTORS, settings.MCP_INDEX_ANN_BACKGROUND = 100, False
    points = _clustered(400, seed=5)
    keys = _stored(points[:300])
    store = vectors.store()
    assert store.count == 300 and store._graph is not None and store._graph.size == 300
    more = _stored(points[300:], start=300)
    store = vectors.store()
    assert store.count == 400 and store._graph is not None and store._graph.size == 400
    rows = store.rows_of([*keys, *more])
    found = store.nearest(points[350], rows, np.ones(400, dtype=bool), depth=5, floor=0.0)
    assert found.positions[0] == 350 and found.similarities[0] == pytest.approx(1.0, abs=1e-5)


def test_search_through_the_graph_ranks_as_the_exact_scan(embedded, settings, monkeypatch):
    monkeypatch.setattr(ranking, "SEMANTIC_DEPTH", 1)  # 8 servers: past 4 x depth, a graph
    queries = ["send an email", "query my postgres database", "weather in Paris", "k8s pods"]
    exact = [names(q) for q in queries]
    ranking.forget()
    settings.MCP_INDEX_ANN_MIN_VECTORS, settings.MCP_INDEX_ANN_BACKGROUND = 1, False
    assert [names(q) for q in queries] == exact
    assert vectors.store(refresh=False)._graph is not None


@pytest.fixture
def embedded(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for name, (description, _) in SERVERS.items():
            ServerVersionFactory(name=name, description=description)


def _wait_for_rebuild(slug: str) -> None:
    deadline = time.monotonic() + 30
    while slug in indexes._building and time.monotonic() < deadline:
        time.sleep(0.05)
    assert slug not in indexes._building


@pytest.mark.django_db(transaction=True)
def test_an_out_of_date_index_answers_until_the_background_rebuild_lands(settings, client):
    """A write does not stall searches: the old index answers (marked stale, never cached)
    while a thread builds the new one, which the next search uses."""
    settings.MCP_INDEX_SEARCH_REBUILD_BACKGROUND = True
    settings.MCP_INDEX_SEARCH_SEMANTIC = False
    ServerVersionFactory(name="io.github.wx/weather", description="Weather forecasts.")
    scope = catalog_resolve("all")
    assert not search_page(scope, "weather").stale
    ServerVersionFactory(name="io.github.wx/weather-alerts", description="Weather alerts.")
    with indexes._build_lock:  # the rebuild waits here, so the old index must answer
        stale = search_page(scope, "weather")
        assert stale.stale and [h.row.name for h in stale.hits] == ["io.github.wx/weather"]
        assert "all" in indexes._building
        response = client.get("/v0.1/servers", {"search": "weather"})
        assert response.status_code == 200 and response["Cache-Control"] == "no-store"
        assert [s["server"]["name"] for s in response.json()["servers"]] == [
            "io.github.wx/weather"]
    _wait_for_rebuild("all")
    fresh = search_page(scope, "weather")
    assert not fresh.stale
    assert {h.row.name for h in fresh.hits} == {"io.github.wx/weather",
                                                 "io.github.wx/weather-alerts"}
