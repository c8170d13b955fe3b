"""Server errors the fuzz suite found that issue 12 did not list, one test each.

They run without the live server (and without the `fuzz` marker), so `make test-fast`
keeps them: each failed before its fix.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("base", ["/c/all/v0.1", "/c/all/v0"])
def test_catalog_health_and_ping_answer(client: Any, base: str) -> None:
    """The catalog routes pass `slug` to the registry's health and ping views (was a 500)."""
    api = Api(client, base)
    assert api.get("/health").json() == {"status": "ok"}
    assert api.get("/ping").json() == {"pong": True}


@pytest.mark.parametrize("since", [
    "0575-07-04T11:13:15.41-22:21",  # offsets PostgreSQL cannot store (were 500s)
    "2025-01-01T00:00:00+16:00",
    "2025-01-01T00:00:00-23:59",
])
@pytest.mark.parametrize("base", ["/v0.1", "/c/all/v0.1"])
def test_updated_since_out_of_range_is_a_400(client: Any, base: str, since: str) -> None:
    response = Api(client, base).get("/servers", updated_since=since)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert "updated_since" in response.json()["detail"]


@pytest.mark.parametrize("since", ["2025-08-07T13:15:04.280Z", "2025-08-07T13:15:04+15:59",
                                   "0575-07-04T11:13:15.41-02:21", "0001-01-01T00:00:00+01:00",
                                   "9999-12-31T23:59:59-01:00"])
def test_updated_since_in_range_still_works(client: Any, since: str) -> None:
    assert Api(client, "/v0.1").get("/servers", updated_since=since).status_code == 200
