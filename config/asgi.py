"""ASGI entry point: Django, with the MCP endpoint (/mcp, /c/<slug>/mcp) routed beside it.

Production serves config.wsgi (sync gunicorn workers, the MCP endpoint through a2wsgi); this
router is the measured alternative (bench/mcp_bench.py, docs/mcp.md "Deployment") and what an
ASGI server (`gunicorn -k uvicorn_worker.UvicornWorker config.asgi:application`) would run.
The lifespan starts the MCP SDK's session manager.
"""

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()

from serving.mcp.http import McpEndpoint, is_mcp_path  # noqa: E402 - needs the apps loaded

mcp_endpoint = McpEndpoint()


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan" or (scope["type"] == "http" and is_mcp_path(scope["path"])):
        await mcp_endpoint(scope, receive, send)
    else:
        await django_application(scope, receive, send)
