"""Inventory end to end with real servers on loopback: probes recorded, served in `_meta` and
at the tools endpoint, drift audited, observations signed, catalogs gated, "probe now"."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.core.management import call_command
from django.utils import timezone
from mcp import Client

from curation.models import CatalogEntry, EntryState
from curation.selectors import catalog_resolve
from curation.services.catalogs import review_decide
from discovery import runner
from discovery.inventory import meta_key, search_tools, tool_texts
from discovery.models import Drift, Inventory, Probe, ToolsetPin
from discovery.services import catalog_inventory_policy_set, inventories_discover
from mcp_index_common.statements import OBSERVATION_V1
from registry.models import AuditEvent, ServerVersion
from serving.mcp.server import build_server
from signing.models import Attestation, Principal
from tests.support.api import Api
from tests.support.factories import CatalogFactory, ServerVersionFactory, TrustPolicyFactory
from tests.support.mcp import run_async
from tests.support.tokens import bearer

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
NAME = "io.github.acme/remote"


def remote(url: str, transport: str = "streamable-http") -> list[dict]:
    return [{"type": transport, "url": url}]


def probe_all() -> None:
    inventories_discover()
    runner.probe_many(list(Inventory.objects.order_by("pk")))


@pytest.fixture
def drifting(probing, drift_server, django_capture_on_commit_callbacks) -> ServerVersion:
    with django_capture_on_commit_callbacks(execute=True):
        return ServerVersionFactory(name=NAME, version="1.0.0", remotes=remote(drift_server.url()))


def inventory_of(version: ServerVersion) -> Inventory:
    return Inventory.objects.get(server_version=version)


def test_a_probe_is_recorded_served_and_listed(client, drifting, django_assert_max_num_queries):
    probe_all()
    inv = inventory_of(drifting)
    assert inv.status == "ok" and inv.tool_count == 2 and inv.tools_digest.startswith("sha256:")
    assert inv.next_probe_at > timezone.now() + timedelta(hours=23)
    body = client.get(f"/v0.1/servers/{NAME.replace('/', '%2F')}/versions/1.0.0").json()
    block = body["_meta"][meta_key()]
    assert block == {"status": "ok", "checkedAt": block["checkedAt"], "protocolVersion":
                     inv.protocol_version, "toolCount": 2, "toolsDigest": inv.tools_digest,
                     "drift": None}
    listed = client.get("/v0.1/servers").json()["servers"]
    assert listed[0]["_meta"][meta_key()]["toolsDigest"] == inv.tools_digest
    tools = client.get(f"/v0.1/x/io.mcpindex/servers/{NAME.replace('/', '%2F')}/versions/latest/tools")
    assert tools.status_code == 200
    data = tools.json()
    assert [t["name"] for t in data["tools"]] == ["add", "echo"]
    assert data["inventory"]["status"] == "ok" and data["inventory"]["url"] == inv.url
    assert data["tools"][0]["inputSchema"]["type"] == "object"


def test_the_inventory_block_costs_one_query_per_page(client, settings, probing, drift_server,
                                                      django_assert_num_queries):
    settings.MCP_INDEX_RESPONSE_CACHE = False
    for n in range(5):
        ServerVersionFactory(name=f"io.github.acme/r{n}", remotes=remote(f"{drift_server.url()}?n={n}"))
    ServerVersionFactory(name="io.github.acme/plain")
    inventories_discover()
    for backend in ("sql", "orm"):
        settings.MCP_INDEX_READ_BACKEND = backend
        with django_assert_num_queries(2):  # the page, then the inventory blocks
            body = client.get("/v0.1/servers").json()
        with_block = [s for s in body["servers"] if meta_key() in s["_meta"]]
        assert len(with_block) == 5 and with_block[0]["_meta"][meta_key()]["status"] == "pending"
    Inventory.objects.all().delete()
    with django_assert_num_queries(1):  # no inventory on the page: no query for it
        client.get("/v0.1/servers")


def test_drift_is_audited_served_and_signed(client, settings, drifting, drift_server,
                                            django_capture_on_commit_callbacks):
    key = ed25519.Ed25519PrivateKey.generate()
    settings.MCP_INDEX_OBSERVER_KEY = key.private_bytes(Encoding.Raw, PrivateFormat.Raw,
                                                        NoEncryption()).hex()
    with django_capture_on_commit_callbacks(execute=True):
        probe_all()
    first = inventory_of(drifting).tools_digest
    observer = Principal.objects.get(slug="registry-observer")
    att = Attestation.objects.get(version=drifting)
    assert att.state == "verified" and att.predicate_type == OBSERVATION_V1
    assert list(att.principals.all()) == [observer]
    drift_server.set_tools({"add": "Add two numbers", "exfiltrate": "Send files elsewhere"})
    with django_capture_on_commit_callbacks(execute=True):
        probe_all()
    inv = inventory_of(drifting)
    assert inv.drift == Drift.CHANGED and inv.tools_digest != first
    event = AuditEvent.objects.get(action="discovery.inventory.drifted")
    assert event.data["from"] == first and event.data["to"] == inv.tools_digest
    assert event.data["added"] == ["exfiltrate"] and event.data["removed"] == ["echo"]
    body = client.get(f"/v0.1/servers/{NAME.replace('/', '%2F')}/versions/1.0.0").json()
    assert body["_meta"][meta_key()]["drift"] == "changed"
    assert Attestation.objects.filter(version=drifting, state="verified").count() == 2
    # A trust policy can require "observed by the registry".
    with django_capture_on_commit_callbacks(execute=True):
        TrustPolicyFactory(slug="observed", principals=[observer], predicate_types=[OBSERVATION_V1],
                           verdicts=["observed"])
    evaluated = client.get("/v0.1/x/io.mcpindex/policies/observed/evaluate",
                           {"name": NAME, "version": "1.0.0"}).json()
    assert evaluated["satisfied"] is True
    assert Probe.objects.filter(inventory=inv).count() == 2


def test_declared_tools_are_compared_with_the_observed(probing, drift_server,
                                                       django_capture_on_commit_callbacks):
    declared = {"io.modelcontextprotocol.registry/publisher-provided": {
        "io.mcpindex/tools": [{"name": "add"}, {"name": "multiply"}]}}
    with django_capture_on_commit_callbacks(execute=True):
        sv = ServerVersionFactory(name=NAME, remotes=remote(drift_server.url()), _meta=declared)
    probe_all()
    inv = inventory_of(sv)
    assert inv.declared_names == ["add", "multiply"] and inv.drift == Drift.DECLARED
    event = AuditEvent.objects.get(action="discovery.inventory.declared_mismatch")
    assert event.data["observed"] == ["add", "echo"]


def test_failures_back_off_and_outcomes_are_kept(probing, html_server, auth_server, settings):
    html = ServerVersionFactory(name="io.github.acme/html", remotes=remote(html_server.url("html")))
    auth = ServerVersionFactory(name="io.github.acme/auth", remotes=remote(auth_server.url("auth")))
    skip = ServerVersionFactory(name="io.github.acme/tpl", remotes=[{
        "type": "sse", "url": "https://{tenant}.example.com/sse",
        "variables": {"tenant": {"description": "your tenant"}}}])
    probe_all()
    assert inventory_of(html).status == "not-mcp"
    assert inventory_of(auth).status == "auth-required"
    assert inventory_of(auth).authorization_servers == ["https://login.example.test"]
    assert inventory_of(skip).status == "skipped" and "{tenant}" in inventory_of(skip).reason
    first = inventory_of(html).next_probe_at - inventory_of(html).checked_at
    Inventory.objects.filter(pk=inventory_of(html).pk).update(next_probe_at=timezone.now())
    runner.probe_due()
    inv = inventory_of(html)
    assert inv.failures == 2 and inv.next_probe_at - inv.checked_at == 2 * first
    assert AuditEvent.objects.filter(action="discovery.inventory.status_changed").count() == 3


def test_a_catalog_pins_the_tool_set_and_drift_goes_back_to_review(
        drifting, drift_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        catalog = CatalogFactory(slug="corp")
    probe_all()
    catalog_inventory_policy_set(catalog=catalog, live_within_days=None, pin_tools=True, actor="t")
    entry = CatalogEntry.objects.get(catalog=catalog, server_version=drifting)
    assert entry.state == EntryState.INCLUDED
    pin = ToolsetPin.objects.get(catalog=catalog, server_version=drifting)
    assert pin.digest == inventory_of(drifting).tools_digest
    drift_server.set_tools({"add": "Add", "wipe": "Wipe the disk"})
    probe_all()
    entry.refresh_from_db()
    assert entry.state == EntryState.PENDING and "tool set changed" in entry.reason
    review_decide(catalog=catalog, name=NAME, version="1.0.0", approve=True, reason="ok",
                  include_future=False, actor="reviewer")
    entry.refresh_from_db()
    assert entry.state == EntryState.INCLUDED
    pin.refresh_from_db()
    assert pin.digest == inventory_of(drifting).tools_digest
    assert AuditEvent.objects.filter(action="discovery.toolset.pinned").count() == 2


def test_a_catalog_can_require_liveness(drifting, html_server, django_capture_on_commit_callbacks):
    dead = ServerVersionFactory(name="io.github.acme/dead", remotes=remote(html_server.url("html")))
    packaged = ServerVersionFactory(name="io.github.acme/pkg")
    with django_capture_on_commit_callbacks(execute=True):
        catalog = CatalogFactory(slug="live")
    inventories_discover()
    catalog_inventory_policy_set(catalog=catalog, live_within_days=7, pin_tools=False, actor="t")
    states = dict(CatalogEntry.objects.filter(catalog=catalog).values_list("server_version_id", "state"))
    assert states[drifting.pk] == states[dead.pk] == EntryState.EXCLUDED  # never probed ok
    assert states[packaged.pk] == EntryState.INCLUDED  # no remote: not concerned
    probe_all()
    states = dict(CatalogEntry.objects.filter(catalog=catalog).values_list("server_version_id", "state"))
    assert states[drifting.pk] == EntryState.INCLUDED and states[dead.pk] == EntryState.EXCLUDED


def test_catalog_tools_endpoint_serves_only_members(client, drifting,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        CatalogFactory(slug="open", public=True)
        CatalogFactory(slug="none", public=True, default_action="deny")
    probe_all()
    path = f"/x/io.mcpindex/servers/{NAME.replace('/', '%2F')}/versions/1.0.0/tools"
    assert client.get("/c/open/v0.1" + path).json()["tools"][0]["name"] == "add"
    assert client.get("/c/none/v0.1" + path).status_code == 404


def test_search_tools_and_tool_texts(drifting, everything, django_capture_on_commit_callbacks):
    other = ServerVersionFactory(name="io.github.acme/everything", remotes=remote(everything.url()))
    probe_all()
    hits = search_tools(query="echo", limit=5)
    assert {(h.server, h.name) for h in hits} >= {(NAME, "echo"), ("io.github.acme/everything", "echo")}
    assert search_tools(query="echo", server=NAME)[0].as_json() == {
        "name": "echo", "title": None, "description": "Echo a message back", "server": NAME,
        "version": "1.0.0"}
    assert search_tools(query="no such words anywhere") == []
    texts = tool_texts([drifting.pk, other.pk, 0])
    assert texts[drifting.pk] == "add: Add two numbers\necho: Echo a message back"
    assert "echo" in texts[other.pk] and 0 not in texts
    with django_capture_on_commit_callbacks(execute=True):
        CatalogFactory(slug="none", default_action="deny")
    assert search_tools(scope=catalog_resolve("none"), query="echo") == []


def test_probe_now_for_admins(client, drifting, django_capture_on_commit_callbacks):
    api = Api(client, "/v0.1/x/io.mcpindex")
    path = f"/servers/{NAME.replace('/', '%2F')}/versions/1.0.0/probe"
    assert api.send("POST", path, {}).status_code == 401
    api.token = bearer(["io.github.acme/*"])
    assert api.send("POST", path, {}).status_code == 403
    api.token = bearer(["*"])
    with django_capture_on_commit_callbacks(execute=True):
        response = api.send("POST", path, {})
    assert response.status_code == 202, response.content
    probe = Probe.objects.get()
    assert probe.status == "ok" and probe.requested_by == "test:tester"
    assert AuditEvent.objects.filter(action="discovery.probe.requested").count() == 1
    missing = api.send("POST", "/servers/io.github.acme%2Fnope/versions/1.0.0/probe", {})
    assert missing.status_code == 404


def test_the_management_command(drifting):
    out = StringIO()
    call_command("probe_servers", NAME, "latest", stdout=out)
    assert f"{NAME} 1.0.0: ok tools=2" in out.getvalue()
    assert json.loads(json.dumps(inventory_of(drifting).server_info))["name"] == "drift-test"


@pytest.mark.django_db(transaction=True)  # the MCP tools read in their own database thread
def test_agents_find_observed_tools_over_mcp(drifting):
    """The MCP tool `search_tools` (official SDK client, in memory) lists what was probed."""
    probe_all()

    async def run() -> list[Any]:
        async with Client(build_server()) as mcp_client:
            return [await mcp_client.call_tool("search_tools", args) for args in (
                {"query": "add numbers"}, {"query": "echo", "server": NAME},
                {"query": "x" * 100_000})]

    found, scoped, oversize = run_async(run)
    assert not found.is_error and found.structured_content == {
        "catalog": "all", "query": "add numbers",
        "tools": [{"name": "add", "title": None, "description": "Add two numbers",
                   "server": NAME, "version": "1.0.0"}]}
    assert [t["name"] for t in scoped.structured_content["tools"]] == ["echo"]
    assert oversize.is_error  # refused by the argument schema, not a crash
