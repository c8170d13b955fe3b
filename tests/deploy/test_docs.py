"""The deployment guide covers what the deployment files set, and the README points at it."""

from __future__ import annotations

import re
from typing import Any

from tests.deploy.test_chart import SECRETS
from tests.support.data import ROOT
from tests.support.deploy import CHART, load_compose
from tests.support.helm_render import render_documents

GUIDE = (ROOT / "docs" / "deploy.md").read_text()


def variables_set_by_the_deployment() -> set[str]:
    names: set[str] = set()
    for service in load_compose()["services"].values():
        environment: dict[str, Any] = service.get("environment", {})
        names |= set(environment)
    for doc in render_documents(CHART, {"secret": SECRETS}):
        if doc["kind"] == "ConfigMap":
            names |= set(doc["data"])
        if doc["kind"] == "Secret":
            names |= set(doc["stringData"])
    names |= set(re.findall(r'"([A-Z][A-Z0-9_]+)"', (ROOT / "deploy" / "gunicorn.conf.py").read_text()))
    # Names that belong to the postgres image, not to the app.
    return names - {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}


def test_the_guide_documents_every_variable_the_deployment_sets() -> None:
    names = variables_set_by_the_deployment()
    assert {"DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY", "MCP_INDEX_RESPONSE_CACHE"} <= names
    missing = sorted(name for name in names if f"`{name}`" not in GUIDE)
    assert missing == []


def test_the_guide_covers_scale_out_backups_and_upgrades() -> None:
    headings = re.findall(r"^## (.+)$", GUIDE, flags=re.MULTILINE)
    assert {"Quick deploy with Docker Compose", "Kubernetes with the Helm chart", "Scaling out",
            "Observability", "Backups", "Upgrades"} <= set(headings)
    for topic in ("DATABASE_REPLICA_URL", "stale-while-revalidate", "allkeys-lru", "noeviction",
                  "pg_dump", "MCP_INDEX_JWT_PRIVATE_KEY", "helm rollback", "exactly one"):
        assert topic in GUIDE, topic


def test_readme_links_the_guide() -> None:
    assert "(docs/deploy.md)" in (ROOT / "README.md").read_text()
