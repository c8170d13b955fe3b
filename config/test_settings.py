"""Settings for the test suite: real PostgreSQL by default, tasks inline."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mcp_index")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key")
os.environ.setdefault("MCP_INDEX_JWT_PRIVATE_KEY", "11" * 32)
os.environ.setdefault("DJANGO_SECURE_COOKIES", "0")
os.environ.pop("CELERY_BROKER_URL", None)
# Redis is part of the stack under test (cache, generations, rate limits); each test starts
# from an empty database (tests/conftest.py flushes it).
os.environ.setdefault("REDIS_URL", os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
# Publishing tests use real-world manifests whose packages live on public registries we
# cannot reach; tests/ownership switches the checks on against loopback registries.
os.environ.setdefault("MCP_INDEX_OWNERSHIP_CHECKS", "0")

from config.settings import *  # noqa: F403

ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
