"""config.settings with STATIC_ROOT taken from the environment, so the deploy tests can run
the image's collectstatic step, and serve its output, in a temporary directory."""

import os

from config.settings import *  # noqa: F403

STATIC_ROOT = os.environ["MCP_INDEX_TEST_STATIC_ROOT"]
