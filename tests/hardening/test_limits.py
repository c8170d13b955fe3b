"""Every column has a limit enforced before the database sees the value: a 4xx naming the
field, never a 500 from the database, and nothing written."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model

from registry import services
from registry.errors import InvalidInput
from registry.models import ApiToken
from tests.hardening.conftest import EXT, NAME, VERSION, assert_problem
from tests.support.manifests import manifest

pytestmark = pytest.mark.django_db


def test_a_remote_url_over_2000_characters_is_refused(admin, world, unchanged):
    check = unchanged()
    url = "https://mcp.example/" + "a" * 2000
    doc = manifest(NAME, "2.0.0", remotes=[{"type": "streamable-http", "url": "https://ok.example/mcp"},
                                           {"type": "sse", "url": url}])
    problem = assert_problem(admin.send("POST", "/v0/publish", doc), 422)
    assert problem["errors"][0]["location"] == "remotes[1].url", problem
    edit = assert_problem(admin.send("PUT", f"/v0/servers/{NAME.replace('/', '%2F')}/versions/"
                                     f"{VERSION}", manifest(NAME, VERSION, remotes=[
                                         {"type": "sse", "url": url}])), 422)
    assert "2000" in edit["errors"][0]["message"]
    check()


def test_a_remote_url_is_limited_in_bytes_for_its_index(admin, world, unchanged):
    check = unchanged()
    url = "https://mcp.example/" + "é" * 1500  # 1,520 characters, 3,020 bytes
    doc = manifest(NAME, "2.0.0", remotes=[{"type": "sse", "url": url}])
    assert_problem(admin.send("POST", "/v0/publish", doc), 422)
    check()


def test_an_overlay_name_over_200_characters_is_refused(admin, world, unchanged):
    check = unchanged()
    name = "io.github.acme/" + "x" * 200
    problem = assert_problem(admin.send("PUT", f"{EXT}/catalogs/corp/overlays", {"name": name}),
                             422)
    assert problem["errors"][0]["location"] == "name"
    check()


@pytest.mark.parametrize(("field", "value"), [
    ("status", "deprecated" * 10), ("registry_type", "n" * 21), ("transport", "t" * 21),
    ("source", "s" * 101), ("trust_policy", "p" * 101), ("note", "n" * 501),
])
def test_rule_fields_are_limited_by_their_columns(admin, world, unchanged, field, value):
    check = unchanged()
    problem = assert_problem(admin.send("PUT", f"{EXT}/catalogs/corp/rules", {"rules": [
        {"action": "allow", field: value}]}), (400, 422))
    assert field in problem["detail"] + str(problem.get("errors"))
    check()


def test_upstream_and_catalog_text_is_limited(admin, world, unchanged):
    check = unchanged()
    for method, path, body in [
        ("PATCH", f"{EXT}/upstreams/up", {"auth_header": "Bearer " + "x" * 5000}),
        ("PATCH", f"{EXT}/upstreams/up", {"include_patterns": ["io.github.*"] * 1001}),
        ("PATCH", f"{EXT}/upstreams/up", {"exclude_patterns": ["x" * 201]}),
        ("PATCH", f"{EXT}/catalogs/corp", {"sources": ["local"] * 101}),
        ("PATCH", f"{EXT}/catalogs/corp", {"sources": ["s" * 201]}),
        ("PUT", f"{EXT}/catalogs/corp/overlays", {"name": NAME, "notes": "n" * 5001}),
    ]:
        assert_problem(admin.send(method, path, body), (400, 422))
    check()


def test_a_non_ascii_github_token_is_refused_before_any_request(admin, world, unchanged):
    check = unchanged()
    for token in ("gho_tökén", "gho_\u2028x", "gho_a\tb"):
        problem = assert_problem(admin.send("POST", "/v0/auth/github-at", {"github_token": token}),
                                 (400, 422))
        assert "github_token" in str(problem)
    check()


@pytest.mark.parametrize("days", [True, False, 1.0, "1", 0, 367, 2**40])
def test_expires_in_days_must_be_a_real_integer_in_range(admin, world, unchanged, days):
    check = unchanged()
    problem = assert_problem(admin.send("POST", f"{EXT}/tokens", {
        "name": "t", "patterns": ["io.github.acme/*"], "expires_in_days": days}), 422)
    assert "expires_in_days" in problem["detail"]
    check()


def test_token_patterns_are_capped(admin, world, unchanged):
    check = unchanged()
    many = [f"io.github.acme/s{i}" for i in range(20_000)]
    problem = assert_problem(admin.send("POST", f"{EXT}/tokens", {"name": "t", "patterns": many}),
                             422)
    assert "100" in problem["detail"]
    long = assert_problem(admin.send("POST", f"{EXT}/tokens", {
        "name": "t", "patterns": ["io.github.acme/" + "x" * 200]}), 422)
    assert "200" in long["detail"]
    with pytest.raises(InvalidInput):
        services.token_create(name="t", patterns=many[:101], actor="test")
    check()
    ok = admin.send("POST", f"{EXT}/tokens", {"name": "t", "patterns": many[:100]})
    assert ok.status_code == 201, ok.content
    assert len(ApiToken.objects.get().patterns) == 100


def test_token_form_caps_its_patterns(client, world, unchanged):
    user = get_user_model().objects.create_superuser("root", password="x" * 12)
    client.force_login(user)
    check = unchanged()
    patterns = "\n".join(f"io.github.acme/s{i}" for i in range(20_000))
    response = client.post("/account/tokens/", {"name": "t", "patterns": patterns})
    assert response.status_code == 400
    assert "at most 100" in response.content.decode()
    check()


@pytest.mark.parametrize("total", ["100000", "501", "99999999999999999999"])
def test_a_huge_formset_is_refused_quickly_with_a_message(client, world, unchanged, total):
    user = get_user_model().objects.create_superuser("root", password="x" * 12)
    client.force_login(user)
    check = unchanged()
    started = time.monotonic()
    response = client.post("/catalogs/corp/rules/", {
        "rules-TOTAL_FORMS": total, "rules-INITIAL_FORMS": "0", "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000", "default_action": "allow"})
    elapsed = time.monotonic() - started
    assert response.status_code == 400
    assert "at most 500 rules" in response.content.decode()
    assert elapsed < 3, elapsed
    check()


def test_too_many_form_fields_get_the_400_page(client, world, unchanged):
    user = get_user_model().objects.create_superuser("root", password="x" * 12)
    client.force_login(user)
    check = unchanged()
    data = {"rules-TOTAL_FORMS": "1", "rules-INITIAL_FORMS": "0", "default_action": "allow",
            **{f"rules-0-junk{i}": "x" for i in range(20_000)}}
    response = client.post("/catalogs/corp/rules/", urlencode(data),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    check()


def test_services_refuse_what_the_database_cannot_hold(world, unchanged):
    """Writers other than the API (admin, commands) meet the same limits in the services."""
    check = unchanged()
    with pytest.raises(InvalidInput, match="status_message"):
        services.version_set_status(name=NAME, version=VERSION, status="deprecated",
                                    message="a\x00b", actor="test")
    with pytest.raises(InvalidInput, match="status_message"):
        services.server_set_status(name=NAME, status="deprecated", message="m" * 501,
                                   actor="test")
    with pytest.raises(InvalidInput, match="name"):
        services.token_create(name="n" * 201, patterns=["io.github.acme/*"], actor="test")
    with pytest.raises(InvalidInput, match="count"):
        services.version_publish(document=manifest(NAME, "3.0.0", _meta={
            "io.github.acme/x": {"count": 2**60}}), actor="test")
    check()
