"""Curating in a real browser: approve a pending server and see it in the catalog's API."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import screenshot
from tests.support.factories import CatalogFactory, UserFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def signed_in_admin(page: Page) -> Page:
    UserFactory(superuser=True, username="root", password="correct horse battery")
    page.goto("/account/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Where you may publish")).to_be_visible()
    return page


def catalog_names(page: Page, slug: str) -> list[str]:
    body = json.loads(page.request.get(f"/c/{slug}/v0.1/servers").text())
    return [entry["server"]["name"] for entry in body["servers"]]


def test_approve_a_pending_server(signed_in_admin: Page, add_server: Callable[..., Any]) -> None:
    page = signed_in_admin
    add_server("io.github.acme/db", title="Acme Database")
    add_server("io.github.acme/files")
    CatalogFactory(slug="team", actor="test:admin", title="Team catalog", review_mode="every_version")
    assert catalog_names(page, "team") == []

    page.get_by_role("link", name="Catalogs").click()
    page.get_by_role("link", name="Review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue: Team catalog")
    screenshot(page, "review-queue")
    page.get_by_label("Reason").first.fill("code reviewed")
    page.get_by_role("button", name="Approve io.github.acme/db 1.0.0").click()
    expect(page.get_by_role("status").filter(has_text="approved")).to_be_visible()
    assert catalog_names(page, "team") == ["io.github.acme/db"]

    page.get_by_role("button", name="Reject io.github.acme/files 1.0.0").click()
    expect(page.get_by_role("status").filter(has_text="rejected")).to_be_visible()
    assert catalog_names(page, "team") == ["io.github.acme/db"]

    page.goto("/servers/io.github.acme/db/")
    expect(page.get_by_role("region", name="Catalogs")).to_contain_text("code reviewed")
    page.goto("/?catalog=team")
    expect(page.locator(".results .name a")).to_have_text(["Acme Database"])


def test_rules_editor_previews_live(signed_in_admin: Page, add_server: Callable[..., Any]) -> None:
    page = signed_in_admin
    add_server("io.github.acme/db")
    add_server("com.example/other")
    CatalogFactory(slug="team", actor="test:admin")
    page.goto("/catalogs/team/rules/")
    expect(page.locator('[data-rule-count="default"]')).to_have_text("2")
    page.get_by_label("Rule 1 Action").select_option("deny")
    page.get_by_label("Rule 1 Namespace glob").fill("com.*")
    expect(page.locator('[data-rule-count="1"]')).to_have_text("1")
    expect(page.locator('[data-rule-count="default"]')).to_have_text("1")
    screenshot(page, "rules-editor")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("status")).to_contain_text("Rules saved")
    expect(page.get_by_label("Rule 1 Namespace glob")).to_have_value("com.*")
