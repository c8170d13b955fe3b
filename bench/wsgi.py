"""The read benchmark's WSGI application: the project's (config.wsgi), and the bare floor.

`/_bench/bare/…` goes to a Django handler built with no middleware at all (bench/floor.py
bare_view); everything else to the production application, fast path included. One
gunicorn, one config, one run serves both, so their ratio is the app's own cost.
"""

from __future__ import annotations

from typing import Any

from django.core.handlers.wsgi import WSGIHandler
from django.test.utils import override_settings

from config.wsgi import application as project_application

with override_settings(MIDDLEWARE=[]):
    bare_application = WSGIHandler()

BARE_PREFIX = "/_bench/bare/"


def application(environ: dict[str, Any], start_response: Any) -> Any:
    if environ.get("PATH_INFO", "").startswith(BARE_PREFIX):
        return bare_application(environ, start_response)
    return project_application(environ, start_response)
