"""Signing in and managing API tokens in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from registry import services
from tests.support.browser import screenshot
from tests.support.factories import UserFactory

pytestmark = pytest.mark.e2e


def test_sign_in_create_and_revoke_a_token(page: Page, transactional_db: None) -> None:
    user = UserFactory(username="alice", password="correct horse battery")
    services.token_create(name="from admin", patterns=["io.github.alice/*"], actor="admin",
                          owner=user)
    page.goto("/account/")
    expect(page).to_have_url(re.compile(r"/account/login/\?next=/account/$"))
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Where you may publish")).to_be_visible()
    expect(page.get_by_text("io.github.alice/*").first).to_be_visible()

    page.get_by_label("Token name").fill("CI")
    page.get_by_label("Name patterns").fill("io.github.alice/db")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-secret").inner_text().strip()
    assert secret.startswith("mcpi_")
    assert services.token_authenticate(secret) is not None
    screenshot(page, "account")
    page.reload()
    expect(page.locator("#new-secret")).to_have_count(0)

    page.get_by_role("button", name="Revoke token CI").click()
    expect(page.get_by_role("status")).to_contain_text("Token “CI” revoked.")
    assert services.token_authenticate(secret) is None

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def test_wrong_password_is_refused(page: Page, transactional_db: None) -> None:
    UserFactory(username="bob", password="correct horse battery")
    page.goto("/account/login/")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username")
