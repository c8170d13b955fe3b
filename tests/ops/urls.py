"""The site's routes plus two views that log from inside a request (tests/ops/test_logs.py)."""

import logging

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as site_urlpatterns

log = logging.getLogger("tests.ops")


def logs_an_error(request: HttpRequest) -> HttpResponse:
    log.error("payment_gateway_down attempt=%s", 3, extra={"gateway": "acme"})
    return HttpResponse("degraded")


def raises(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [
    path("logs-an-error", logs_an_error),
    path("raises", raises),
    *site_urlpatterns,
]
