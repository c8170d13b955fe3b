"""Settings for the test suite: real PostgreSQL by default, tasks inline."""

import os

from tests.support.redis import TEST_REDIS_URL

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mcp_index")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key")
os.environ.setdefault("MCP_INDEX_JWT_PRIVATE_KEY", "11" * 32)
os.environ.setdefault("DJANGO_SECURE_COOKIES", "0")
# Tasks run inline. A developer's broker, if exported, is remembered so that the suite never
# flushes its Redis database (tests/support/redis.py refuses to).
_DEVELOPER_BROKER_URL = os.environ.pop("CELERY_BROKER_URL", "")
# Redis is part of the stack under test (cache, generations, rate limits); each test starts
# from an empty database (tests/conftest.py flushes it), so it is the suite's own:
# TEST_REDIS_URL (default db 15; one db per xdist worker), never a REDIS_URL from the shell.
os.environ["REDIS_URL"] = TEST_REDIS_URL
# Publishing tests use real-world manifests whose packages live on public registries we
# cannot reach; tests/ownership switches the checks on against loopback registries.
os.environ.setdefault("MCP_INDEX_OWNERSHIP_CHECKS", "0")
# The test client speaks plain HTTP; tests/ops checks the production redirect and HSTS.
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
# Limits high enough for any one test; tests/ops/test_ratelimit.py sets small ones.
os.environ.setdefault("MCP_INDEX_RATE_LIMIT_ANON", "100000/m")
os.environ.setdefault("MCP_INDEX_RATE_LIMIT_TOKEN", "100000/m")
os.environ.setdefault("MCP_INDEX_RATE_LIMIT_WRITES", "100000/m")

# A search sees every write at once (tests/discovery checks the background rebuild on its own).
os.environ.setdefault("MCP_INDEX_SEARCH_REBUILD_BACKGROUND", "0")

from config.settings import *  # noqa: E402, F403  (read after the environment above is set)

TEST_DEVELOPER_BROKER_URL = _DEVELOPER_BROKER_URL
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
