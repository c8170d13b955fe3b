"""A feed URL of a private catalog in a real browser: created, used, revoked."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from registry import services
from tests.support.browser import screenshot
from tests.support.factories import CatalogFactory, ImportedVersionFactory, UserFactory

pytestmark = pytest.mark.e2e


def test_create_use_and_revoke_a_feed_url(page: Page, live_server, transactional_db: None) -> None:
    ImportedVersionFactory(name="io.github.acme/db")
    CatalogFactory(slug="corp", title="Corp", public=False, actor="admin")
    user = UserFactory(username="carol", password="correct horse battery")
    services.token_create(name="corp", patterns=[], scopes=["catalog:corp:viewer"], actor="admin",
                          owner=user)
    page.goto("/account/login/?next=/account/")
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Feed URLs of private catalogs")).to_be_visible()

    page.get_by_label("Catalog", exact=True).select_option("corp")
    page.get_by_label("Feed name").fill("laptop VS Code")
    page.get_by_role("button", name="Create feed URL").click()
    url = page.locator("#new-feed").inner_text().strip()
    assert url.startswith(f"{live_server.url}/c/corp/k/mcpf_")
    expect(page.locator("#new-feed-vscode")).to_contain_text("chat.mcp.gallery.serviceUrl")
    screenshot(page, "account-feed")

    # Used as VS Code would: no cookie, no header, just the URL.
    anonymous = page.context.browser.new_context()
    try:
        listed = anonymous.request.get(f"{url}/v0.1/servers?limit=50&version=latest")
        assert listed.status == 200
        assert [s["server"]["name"] for s in listed.json()["servers"]] == ["io.github.acme/db"]
        assert anonymous.request.get(f"{live_server.url}/c/corp/v0.1/servers").status == 401

        page.reload()
        expect(page.locator("#new-feed")).to_have_count(0)  # shown once
        row = page.get_by_role("row").filter(has_text="laptop VS Code")
        expect(row).not_to_contain_text("never")  # last used: just now
        page.get_by_role("button", name="Revoke feed laptop VS Code").click()
        expect(page.get_by_role("status")).to_contain_text("Feed “laptop VS Code” revoked.")
        assert anonymous.request.get(f"{url}/v0.1/servers").status == 404
    finally:
        anonymous.close()
