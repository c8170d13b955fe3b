"""A live server for the fuzz suite: the whole stack on loopback, over the test database.

One server thread (Django's LiveServerThread, as pytest-django's live_server uses) serves
every fuzz test of a pytest process; the database it reads is the test database, filled by
tests/fuzz/seed.py with one of everything the examples in the API document name and
emptied again when the package is done. Nothing leaves the machine: names resolve to
loopback only, and the proof and upstream endpoints point at a closed loopback port.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS
from django.test import override_settings
from django.test.utils import setup_databases, teardown_databases
from pytest_django.live_server_helper import LiveServer

from tests.fuzz.seed import SERVER_SETTINGS, Seeded, admin_token, empty_database, is_test_database
from tests.fuzz.server import FuzzServer, loopback_getaddrinfo


@pytest.fixture(scope="package")
def fuzz_server(django_db_setup: None, django_db_blocker: Any,
                django_db_keepdb: bool) -> Iterator[FuzzServer]:
    """The live server, its settings and loopback-only name resolution, for the package."""
    overrides = override_settings(**SERVER_SETTINGS)
    overrides.enable()
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch:
        # pytest-django makes the test database only when a collected test asks for one
        # (a django_db mark, `db`); these tests do not (they need no test transaction).
        created = None if is_test_database() else setup_databases(
            verbosity=0, interactive=False, aliases={DEFAULT_DB_ALIAS}, keepdb=django_db_keepdb)
        patch.setattr(socket, "getaddrinfo", loopback_getaddrinfo)
        server = LiveServer("127.0.0.1")
        try:
            yield FuzzServer(url=server.url, admin_token=admin_token())
        finally:
            server.stop()
            empty_database()
            if created is not None:
                teardown_databases(created, verbosity=0, keepdb=django_db_keepdb)
            overrides.disable()


@pytest.fixture
def seeded(fuzz_server: FuzzServer, django_db_blocker: Any,
           request: pytest.FixtureRequest) -> Iterator[Seeded]:
    """The seeded database, as every fuzz test starts from it; the test may read it
    directly (there is no test transaction). Only GET tests leave it as they found it."""
    with django_db_blocker.unblock():
        yield fuzz_server.reset()
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    if params.get("method") != "GET":
        fuzz_server.current = None
