"""WSGI entry point for gunicorn: Django behind the cache-hit fast path (ops.fastpath)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from ops.fastpath import CacheHitApp  # noqa: E402  (needs the settings configured above)

application = CacheHitApp(django_application)
