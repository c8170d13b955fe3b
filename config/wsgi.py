"""WSGI entry point for gunicorn: the MCP endpoint (/mcp, /c/<slug>/mcp; serving.mcp.wsgi,
docs/mcp.md "Deployment") beside Django, which sits behind the cache-hit fast path
(ops.fastpath) and the direct reads of anonymous requests (serving.api.direct)."""

import os
from contextlib import nullcontext

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from config.db_router import replica_reads  # noqa: E402  (needs the settings configured above)
from ops.fastpath import CacheHitApp  # noqa: E402
from serving.api.direct import DirectReadApp  # noqa: E402  (needs the apps loaded above)
from serving.mcp.wsgi import WithMcp  # noqa: E402

# MCP paths first: they are POSTs, which the fast path would only pass on. A cache hit is
# answered before any database work; a miss is read directly, or by Django when it must be.
application = WithMcp(CacheHitApp(DirectReadApp(
    django_application, reads=replica_reads if settings.DATABASE_REPLICA_URL else nullcontext)))
