"""Structured logs: one JSON line per event, correlated by the request id the client sees."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery import Celery, shared_task
from django.test import Client

from ops.logs import JsonFormatter, KeyValueFormatter, request_id_var
from tests.support.data import ROOT
from tests.support.database import db_url
from tests.support.factories import UpstreamFactory
from tests.support.network import free_port
from tests.support.redis import TEST_REDIS_URL

HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Everything logged, rendered by the formatter the settings gave the console handler."""
    root = logging.getLogger()
    formatter = next(h.formatter for h in root.handlers if isinstance(h.formatter, JsonFormatter))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def access(lines: list[dict[str, Any]], path: str) -> list[dict[str, Any]]:
    return [line for line in lines if line["logger"] == "mcp_index.access" and line["path"] == path]


@pytest.mark.django_db
def test_each_request_logs_one_json_line_with_its_request_id(client, json_lines):
    response = client.get("/v0.1/servers", {"search": "secret-query"},
                          headers={"User-Agent": "probe/1.0 " + "x" * 500})
    request_id = response["X-Request-ID"]
    assert HEX_ID.fullmatch(request_id)
    [line] = access(json_lines(), "/v0.1/servers")
    assert line["request_id"] == request_id
    assert line["level"] == "INFO" and line["message"] == "request"
    assert line["method"] == "GET" and line["status"] == 200 and line["route"] == "/v0.1/servers"
    assert line["bytes"] == len(response.content)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["client_ip"] == "127.0.0.1"
    assert line["user_agent"].startswith("probe/1.0") and len(line["user_agent"]) == 200
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["ts"])
    assert "secret-query" not in json.dumps(line)  # query strings stay out of the logs


@pytest.mark.django_db
def test_a_sane_incoming_request_id_is_kept(client, json_lines):
    response = client.get("/v0.1/servers", headers={"X-Request-ID": "lb-7f3a.42_Z"})
    assert response["X-Request-ID"] == "lb-7f3a.42_Z"
    assert access(json_lines(), "/v0.1/servers")[0]["request_id"] == "lb-7f3a.42_Z"


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", ["has space", "x" * 129, 'quote"d', "a\u00e9b", ""])
def test_an_unsafe_incoming_request_id_is_replaced(client, json_lines, incoming):
    response = client.get("/v0.1/servers", headers={"X-Request-ID": incoming})
    assert HEX_ID.fullmatch(response["X-Request-ID"])
    assert access(json_lines(), "/v0.1/servers")[0]["request_id"] == response["X-Request-ID"]


@pytest.mark.urls("tests.ops.urls")
def test_an_error_logged_inside_a_request_carries_its_id(client, json_lines):
    response = client.get("/logs-an-error")
    lines = json_lines()
    [error] = [line for line in lines if line["logger"] == "tests.ops"]
    assert error["level"] == "ERROR"
    assert error["message"] == "payment_gateway_down attempt=3"
    assert error["gateway"] == "acme"  # extra= fields become keys
    assert error["request_id"] == response["X-Request-ID"]
    assert request_id_var.get() is None  # nothing leaks past the request


@pytest.mark.urls("tests.ops.urls")
def test_an_unhandled_exception_is_logged_with_traceback_and_request_id(json_lines):
    client = Client(raise_request_exception=False)
    response = client.get("/raises", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    lines = json_lines()
    [crash] = [line for line in lines if line["logger"] == "django.request"]
    assert crash["level"] == "ERROR" and crash["request_id"] == "req-500"
    assert "RuntimeError: boom" in crash["exc"] and "Traceback" in crash["exc"]
    assert access(lines, "/raises")[0]["status"] == 500


@pytest.mark.django_db
def test_django_logs_of_error_responses_carry_the_request_id(client, json_lines):
    client.get("/v0/no-such-endpoint", headers={"X-Request-ID": "req-404"})
    [warning] = [line for line in json_lines() if line["logger"] == "django.request"]
    assert warning["message"].startswith("Not Found") and warning["request_id"] == "req-404"


@pytest.mark.django_db
def test_probes_and_scrapes_log_at_debug_only(client, json_lines, caplog):
    with caplog.at_level(logging.DEBUG, logger="mcp_index.access"):
        client.get("/healthz")
        client.get("/metrics")
        client.get("/v0.1/servers")
    levels = {r.path: r.levelname for r in caplog.records if r.name == "mcp_index.access"}
    assert levels == {"/healthz": "DEBUG", "/metrics": "DEBUG", "/v0.1/servers": "INFO"}


@shared_task(name="tests.ops.log_inside_a_task")
def log_inside_a_task() -> None:
    logging.getLogger("tests.ops").warning("task_step")


def test_a_task_logs_with_its_task_id(json_lines):
    result = log_inside_a_task.delay()  # tasks run inline in the test settings
    [line] = [line for line in json_lines() if line["logger"] == "tests.ops"]
    assert line["task_id"] == result.id and line["message"] == "task_step"
    logging.getLogger("tests.ops").warning("after")
    assert "task_id" not in json_lines()[-1]


def test_the_text_format_is_key_value():
    record = logging.LogRecord("mcp_index.access", logging.INFO, __file__, 1, "request", (), None)
    record.route = "/v0.1/servers"
    record.user_agent = "curl/8 (x)"
    token = request_id_var.set("abc123")
    try:
        line = KeyValueFormatter().format(record)
    finally:
        request_id_var.reset(token)
    assert re.fullmatch(r'\S+Z level=INFO logger=mcp_index.access request_id=abc123 request '
                        r'route=/v0.1/servers user_agent="curl/8 \(x\)"', line), line


def test_the_json_format_keeps_exceptions_on_one_line():
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "failed %s",
                                                   ("it",), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    doc = json.loads(line)
    assert doc["message"] == "failed it" and "ValueError: bad\nthing" in doc["exc"]
    assert "request_id" not in doc


def test_celery_records_keep_one_traceback():
    try:
        raise KeyError("gone")
    except KeyError:
        record = logging.getLogger("celery.app.trace").makeRecord(
            "celery.app.trace", logging.ERROR, __file__, 1, "Task t[1] raised unexpected", (),
            sys.exc_info(), extra={"data": {"traceback": "Traceback ...", "id": "1"}})
    doc = json.loads(JsonFormatter().format(record))
    assert "data" not in doc and doc["exc"].count("Traceback") == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_logs_with_the_task_id_and_the_enqueuing_request_id(tmp_path):
    """A real worker: the request id travels in the message, the task id comes from Celery."""
    dead = UpstreamFactory(name="dead", base_url=f"http://127.0.0.1:{free_port()}/v0.1")
    queue = f"test-logs-{os.getpid()}-{time.time_ns()}"
    env = {**os.environ, "CELERY_BROKER_URL": TEST_REDIS_URL, "DATABASE_URL": db_url(),
           "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "0",
           "DJANGO_SECRET_KEY": "worker-test", "MCP_INDEX_JWT_PRIVATE_KEY": "55" * 32,
           "MCP_INDEX_SYNC_RETRIES": "0", "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    output = tmp_path / "worker.log"
    with output.open("wb") as sink:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queue,
             "--without-heartbeat", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
        try:
            client = Celery(broker=TEST_REDIS_URL, set_as_current=False)
            request_id_var.set("req-from-web")
            try:
                sent = client.send_task("curation.tasks.upstream_sync_task", args=[dead.pk],
                                        queue=queue)
            finally:
                request_id_var.set(None)
                client.close()
            deadline = time.monotonic() + 60
            failed: list[dict[str, Any]] = []
            while not failed and time.monotonic() < deadline:
                assert worker.poll() is None, output.read_text()[-3000:]
                time.sleep(0.3)
                failed = [json.loads(line) for line in output.read_text().splitlines()
                          if line.startswith("{") and "sync.failed" in line]
            assert failed, output.read_text()[-3000:]
            assert failed[0]["task_id"] == sent.id
            assert failed[0]["request_id"] == "req-from-web"
            assert failed[0]["logger"] == "curation.sync" and failed[0]["level"] == "ERROR"
        finally:
            worker.terminate()
            worker.wait(timeout=20)
