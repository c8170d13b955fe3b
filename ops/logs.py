"""Structured logs: one JSON object (or key=value line) per event, carrying the request id.

The request id lives in a contextvar set by `ops.middleware` for the duration of a
request, and the Celery task id in another one set around every task. Both formatters read
them, so any log call made while serving a request or running a task is correlated without
passing anything around.

Imported by the LOGGING configuration before the app registry is ready: no models here.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

from celery import signals

request_id_var: ContextVar[str | None] = ContextVar("mcp_index_request_id", default=None)
task_id_var: ContextVar[str | None] = ContextVar("mcp_index_task_id", default=None)

# A client-supplied id is kept only if it is a short, plain token: it ends up in logs and in
# a response header, so nothing that could forge log lines or headers gets through.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

# A feed URL (`/c/<slug>/k/<secret>/…`) carries its credential in the path: wherever a path
# can reach a log line (the access log, Django's "Not Found: <path>"), the secret is cut out.
_FEED_SECRET = re.compile(r"(/c/[^/\s]+/k/)(?!<)[^/?#\s\"'>]+")
REDACTED = "<redacted>"


def redact(text: str) -> str:
    """`text` with every feed secret replaced by <redacted>."""
    return _FEED_SECRET.sub(r"\1" + REDACTED, text) if "/k/" in text else text


# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName",
}


def request_id_from(header: str | None) -> str:
    """The incoming X-Request-ID when it is a sane token, else a fresh uuid4 hex."""
    if header and _SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def bind_request_id(request_id: str) -> None:
    """Make `request_id` current until the response is closed (`clear_request_id`)."""
    request_id_var.set(request_id)


def clear_request_id(**_: Any) -> None:
    """request_finished receiver: Django logs a 4xx/5xx response after the middleware has
    returned and a streamed body is sent later still, so the id stays bound until then."""
    request_id_var.set(None)


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _context(record: logging.LogRecord) -> dict[str, Any]:
    """request_id, task_id and `extra=` fields of a record, in that order."""
    fields: dict[str, Any] = {}
    request_id = request_id_var.get()
    if request_id:
        fields["request_id"] = request_id
    task_id = task_id_var.get()
    if task_id:
        fields["task_id"] = task_id
    celery = record.name.startswith("celery.")
    for key, value in vars(record).items():
        if key in _RECORD_ATTRS or key.startswith("_"):
            continue
        if celery and key == "data":
            continue  # Celery's copy of the message's fields, plus the traceback a second time
        fields[key] = redact(value) if isinstance(value, str) else value
    return fields


def _shown(value: Any) -> str:
    """A value that is not JSON (Django's WSGIRequest, whose repr holds the path), as text."""
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, context, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key, value in _context(record).items():
            doc.setdefault(key, value)
        if record.exc_info:
            doc["exc"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            doc["exc"] = redact(record.exc_text)
        if record.stack_info:
            doc["stack"] = self.formatStack(record.stack_info)
        return json.dumps(doc, default=_shown, ensure_ascii=False)


def _kv_value(value: Any) -> str:
    text = _shown(value)
    if text == "" or any(c.isspace() or c in '"=' for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text


class KeyValueFormatter(logging.Formatter):
    """`<ts> level=… logger=… request_id=… <message> key=value…` for reading in a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [_timestamp(record), f"level={record.levelname}", f"logger={record.name}"]
        context = _context(record)
        for key in ("request_id", "task_id"):
            if key in context:
                parts.append(f"{key}={context.pop(key)}")
        parts.append(redact(record.getMessage()))
        parts += [f"{key}={_kv_value(value)}" for key, value in context.items()]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


# --- Celery: the task id joins the log context while a task runs, and so does the id of the
# request that enqueued it (carried in a message header), so web and worker logs correlate.
REQUEST_ID_HEADER = "mcp_index_request_id"
_task_tokens: dict[str, list[tuple[ContextVar[str | None], Token[str | None]]]] = {}


def _task_published(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = request_id_var.get()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


def _task_started(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if not task_id:
        return
    tokens = [(task_id_var, task_id_var.set(task_id))]
    request = getattr(task, "request", None)
    origin = getattr(request, REQUEST_ID_HEADER, None) if request is not None else None
    if isinstance(origin, str) and request_id_var.get() is None:
        tokens.append((request_id_var, request_id_var.set(origin)))
    _task_tokens[task_id] = tokens


def _task_finished(task_id: str | None = None, **_: Any) -> None:
    for var, token in reversed(_task_tokens.pop(task_id or "", [])):
        try:
            var.reset(token)
        except ValueError:  # finished in another context than it started (custom pools)
            var.set(None)


def connect_celery_signals() -> None:
    """Carry ids into tasks (workers, and inline tasks in the web process)."""
    signals.before_task_publish.connect(_task_published, weak=False,
                                        dispatch_uid="mcp_index_log_publish")
    signals.task_prerun.connect(_task_started, weak=False, dispatch_uid="mcp_index_log_prerun")
    signals.task_postrun.connect(_task_finished, weak=False, dispatch_uid="mcp_index_log_postrun")
