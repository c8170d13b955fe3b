"""WSGI entry point for gunicorn: Django, with the MCP endpoint (/mcp, /c/<slug>/mcp) beside it
(serving.mcp.wsgi; docs/mcp.md "Deployment")."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from serving.mcp.wsgi import WithMcp  # noqa: E402 - needs the apps loaded by the line above

application = WithMcp(django_application)
