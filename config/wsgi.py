"""WSGI entry point for gunicorn: the MCP endpoint (/mcp, /c/<slug>/mcp; serving.mcp.wsgi,
docs/mcp.md "Deployment") beside Django, which sits behind the cache-hit fast path
(ops.fastpath)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from ops.fastpath import CacheHitApp  # noqa: E402  (needs the settings configured above)
from serving.mcp.wsgi import WithMcp  # noqa: E402  (needs the apps loaded above)

# MCP paths first: they are POSTs, which the fast path would only pass on.
application = WithMcp(CacheHitApp(django_application))
