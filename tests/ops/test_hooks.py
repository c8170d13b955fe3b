"""ops knows no app: apps plug their metrics and cache visibility in from AppConfig.ready."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.core import GaugeMetricFamily, Metric

from curation.models import Catalog
from ops import generations, metrics
from tests.ops.test_metrics import scrape, value

OPS = Path(__file__).resolve().parents[2] / "ops"
APPS = {"registry", "signing", "curation", "web", "serving", "discovery", "mcp_index_cli"}


def imported_roots(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(), filename=str(source))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_ops_imports_no_app() -> None:
    modules = sorted(OPS.glob("*.py"))
    assert len(modules) >= 10, modules
    offending = {m.name: sorted(imported_roots(m) & APPS) for m in modules if imported_roots(m) & APPS}
    assert offending == {}


def test_the_cache_hook_is_registered_not_patched() -> None:
    assert not hasattr(generations, "visibility_lookup")


@pytest.mark.django_db
def test_catalog_visibility_comes_from_the_registered_lookup() -> None:
    Catalog.objects.create(slug="corp", title="Corp", public=False)
    Catalog.objects.create(slug="open", title="Open", public=True)
    assert generations.visibility(generations.BUILTIN) is True
    assert generations.visibility("corp") is False
    assert generations.visibility("open") is True
    assert generations.visibility("nope") is None


def test_visibility_asks_each_lookup_until_one_knows(monkeypatch) -> None:
    monkeypatch.setattr(generations, "_lookups", [])
    assert generations.visibility("extra") is None
    generations.register_visibility(lambda slug: None)
    generations.register_visibility(lambda slug: slug == "extra" or None)
    assert generations.visibility("extra") is True
    assert generations.visibility("other") is None
    assert generations.visibility(generations.BUILTIN) is True


def _fails() -> Iterator[Metric]:
    raise RuntimeError("table gone")
    yield  # pragma: no cover - makes this a generator, like the apps' collectors


def _fine() -> Iterator[Metric]:
    gauge = GaugeMetricFamily("mcp_index_test_plugged", "A series plugged in by a test.")
    gauge.add_metric([], 7)
    yield gauge


@pytest.mark.django_db
def test_a_failing_collector_marks_only_its_source_down(client, monkeypatch) -> None:
    monkeypatch.setattr(metrics, "_collectors", {**metrics._collectors, "extra": []})
    metrics.register_collector(_fine, source="extra")
    metrics.register_collector(_fine, source="extra")  # again: no duplicate series
    samples = scrape(client)
    assert value(samples, "mcp_index_test_plugged") == 7
    assert value(samples, "mcp_index_scrape_up", source="extra") == 1

    metrics.register_collector(_fails, source="extra")
    samples = scrape(client)
    assert value(samples, "mcp_index_scrape_up", source="extra") == 0
    assert ("mcp_index_test_plugged", frozenset()) not in samples  # all of the source, or none
    assert value(samples, "mcp_index_scrape_up", source="database") == 1
    assert ("mcp_index_attestations", frozenset({"state": "verified", "kind": "dsse"}.items())) \
        in samples


def test_every_app_registers_its_own_series() -> None:
    owners = {collect.__module__ for collect in metrics._collectors[metrics.DATABASE]}
    assert {"registry.metrics", "curation.metrics", "signing.metrics"} <= owners
