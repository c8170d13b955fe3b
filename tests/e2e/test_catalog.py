"""The catalog in a real browser: search, filters, server page, copying a configuration."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import screenshot
from tests.support.manifests import NPM, PYPI, REMOTE

pytestmark = pytest.mark.e2e


@pytest.fixture
def servers(add_server: Callable[..., Any]) -> None:
    add_server("io.github.acme/db", "0.9.0", packages=NPM)
    add_server("io.github.acme/db", "1.0.0", title="Acme Database", packages=NPM, remotes=REMOTE,
               repository={"url": "https://github.com/acme/db", "source": "github"},
               description="Query the Acme database from your agent")
    add_server("io.github.acme/files", packages=PYPI, description="Read and write files on disk")
    # Search reads package identifiers and remote hosts too: only the acme servers say "acme".
    add_server("com.example/cloud", title="Example Cloud",
               remotes=[{"type": "streamable-http", "url": "https://cloud.example.com/mcp"}])
    for i in range(32):
        add_server(f"io.github.bulk/tool-{i:02d}",
                   packages=[{**PYPI[0], "identifier": f"bulk-tool-{i:02d}"}])


def test_search_and_filter(page: Page, servers: None) -> None:
    page.goto("/")
    count = page.locator("#result-count")
    expect(count).to_contain_text("of 35 servers")
    screenshot(page, "home")
    page.get_by_label("Search servers").fill("acme")
    expect(count).to_contain_text("of 2 servers")
    expect(page).to_have_url(re.compile(r"/\?q=acme&"))  # htmx pushed the search into the URL
    page.get_by_label("Package type").select_option("pypi")
    expect(count).to_contain_text("of 1 server")
    expect(page.locator(".results .name a")).to_have_text(["io.github.acme/files"])
    page.get_by_label("Package type").select_option("")
    page.get_by_label("Runs as").select_option("remote")
    expect(page.locator(".results .name a")).to_have_text(["Acme Database"])
    # the URL keeps the state: reloading shows the same results
    page.reload()
    expect(page.locator(".results .name a")).to_have_text(["Acme Database"])
    expect(page.get_by_label("Search servers")).to_have_value("acme")


def test_pagination_and_keyboard_search(page: Page, servers: None) -> None:
    page.goto("/")
    page.locator("body").click()
    page.keyboard.press("/")
    expect(page.get_by_label("Search servers")).to_be_focused()
    page.get_by_role("link", name="Next →").click()
    expect(page.locator("#result-count")).to_contain_text("31\u201335 of 35")
    expect(page).to_have_url(re.compile(r"[?&]page=2"))


def test_open_a_server_and_copy_its_configuration(page: Page, servers: None) -> None:
    page.goto("/")
    page.get_by_role("link", name="Acme Database").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Database")
    expect(page.get_by_role("link", name="Repository")).to_have_attribute(
        "href", "https://github.com/acme/db")
    screenshot(page, "server")
    npm = page.locator("section.launch").first
    npm.get_by_role("tab", name="VS Code").click()
    expect(npm.get_by_role("tabpanel")).to_contain_text(".vscode/mcp.json")
    npm.get_by_role("button", name="Copy VS Code configuration").click()
    expect(npm.get_by_role("button", name="Copy VS Code configuration")).to_have_text("Copied")
    copied = json.loads(page.evaluate("navigator.clipboard.readText()"))
    assert copied["servers"]["db"]["command"] == "npx"
    assert copied["servers"]["db"]["env"] == {"DB_URL": "${input:db-url}"}
    assert copied["inputs"][0]["password"] is True
    # keyboard: arrow keys move between client tabs
    npm.get_by_role("tab", name="VS Code").focus()
    page.keyboard.press("ArrowRight")
    expect(npm.get_by_role("tab", name="Cursor")).to_be_focused()
    expect(npm.get_by_role("tab", name="Cursor")).to_have_attribute("aria-selected", "true")
    npm.get_by_role("tab", name="Claude Code").click()
    npm.get_by_role("button", name="Copy Claude Code configuration").click()
    command = page.evaluate("navigator.clipboard.readText()")
    assert command == "claude mcp add --env 'DB_URL=<YOUR_DB_URL>' db -- npx -y @acme/db@1.0.0"
    # the raw manifest downloads as server.json
    with page.expect_download() as download:
        page.get_by_role("link", name="Download server.json").click()
    assert download.value.suggested_filename == "db-1.0.0.server.json"
    page.get_by_role("link", name="0.9.0").click()
    expect(page.get_by_text("You are looking at an older version")).to_be_visible()


def test_untrusted_text_never_runs(page: Page, add_server: Callable[..., Any]) -> None:
    evil = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
    add_server("io.github.evil/xss", title=evil, description=evil,
               websiteUrl="javascript:window.pwned=3",
               packages=[{"registryType": "npm", "identifier": evil, "version": "1"}])
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for url in ("/", "/servers/io.github.evil/xss/"):
        page.goto(url)
        assert page.evaluate("window.pwned === undefined")
    expect(page.get_by_role("heading", level=1)).to_have_text(evil)
    assert page.get_by_role("link", name="Website").count() == 0
    assert dialogs == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_light_dark_and_mobile(browser: Browser, live_server: Any, servers: None,
                                           scheme: str) -> None:
    for label, viewport in (("desktop", {"width": 1280, "height": 900}),
                            ("mobile", {"width": 390, "height": 844})):
        ctx = browser.new_context(base_url=str(live_server), viewport=viewport, color_scheme=scheme)
        page = ctx.new_page()
        for name, url in (("home", "/"), ("server", "/servers/io.github.acme/db/"),
                          ("guide", "/guide/")):
            page.goto(url)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"{name} scrolls sideways on {label}"
            screenshot(page, f"{name}-{label}-{scheme}")
        ctx.close()
