"""PostgreSQL for tests beyond pytest-django's own database: its URL for child processes,
throwaway databases for commands that migrate or copy one."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection


def db_url(host: str | None = None, port: int | str | None = None) -> str:
    """The test database (created by pytest-django), optionally through another address."""
    db = connection.settings_dict
    user = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{user}@{host or db['HOST']}:{port or db['PORT']}/{db['NAME']}"


def _server() -> dict[str, Any]:
    db = settings.DATABASES["default"]
    return {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432,
            "user": db["USER"] or "postgres", "password": db["PASSWORD"] or None}


def database_url(name: str) -> str:
    server = _server()
    auth = server["user"] + (f":{server['password']}" if server["password"] else "")
    return f"postgres://{auth}@{server['host']}:{server['port']}/{name}"


def admin_sql(sql: str) -> None:
    with psycopg.connect(dbname="postgres", autocommit=True, **_server()) as conn:
        conn.execute(sql)


def query(name: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(dbname=name, **_server()) as conn:
        return conn.execute(sql, params).fetchall()


@contextlib.contextmanager
def throwaway_database(template: str | None = None) -> Iterator[str]:
    """A fresh database (optionally a copy of `template`), dropped afterwards."""
    name = f"mcp_index_deploy_{uuid.uuid4().hex[:10]}"
    copy = f" TEMPLATE {template}" if template else ""
    deadline = time.monotonic() + 15
    while True:  # a template must have no sessions; a just-stopped server may linger briefly
        try:
            admin_sql(f"CREATE DATABASE {name}{copy}")
            break
        except psycopg.errors.ObjectInUse:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    try:
        yield name
    finally:
        admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
