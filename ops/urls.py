"""Operational endpoints at the site root: /healthz, /readyz and /metrics.

`ops.middleware` answers these paths before the rest of the middleware stack (no
host check, sessions, CSRF, SSL redirect, auth or rate limits); config/urls.py includes them
too so that they resolve and reverse like any other route.
"""

from django.urls import path

from ops import health, metrics

app_name = "ops"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
]
