"""Django settings, read from the environment through config.env (see .env.example)."""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url

from config.env import ImproperlyConfiguredEnv, env_bool, env_int, env_json, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", default=False)

# Secrets come from the environment; without DEBUG they are required. Under DEBUG (`make
# run`) one that is not exported is made on first run and kept in this git-ignored file
# (0600), so no two development instances share a key and none is written in the source.
_LOCAL_SECRETS = (Path(env_str("MCP_INDEX_LOCAL_SECRETS_FILE",
                               default=str(BASE_DIR / ".local" / "secrets.json")))
                  if DEBUG else None)
SECRET_KEY = env_secret("DJANGO_SECRET_KEY", local_file=_LOCAL_SECRETS,
                        generate=lambda: secrets.token_urlsafe(50), hint=" when DEBUG is off")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "registry",
    "curation",
    "signing",
    "discovery",
    "serving",
    "web",
]

MIDDLEWARE = [
    # Outermost: request id, access log and request metrics for everything below, and the
    # answers of /healthz, /readyz and /metrics before any other middleware runs.
    "ops.middleware.RequestContextMiddleware",
    # The URL boundary: NUL, lone surrogates and control characters in the path or query
    # are refused with 400 before anything else reads them.
    "ops.middleware.InputBoundaryMiddleware",
    "registry.api.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "registry.api.middleware.ApiPathMiddleware",
    # Before anything that touches the database: a cached read answers from Redis alone.
    "ops.ratelimit.RateLimitMiddleware",
    "ops.cache.ResponseCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "web.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "config.urls"
# DEBUG pages escape lone surrogates instead of failing to encode (ops/debug.py).
DEFAULT_EXCEPTION_REPORTER = "ops.debug.EncodableExceptionReporter"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", default=60),
        # A persistent connection broken by a database restart is noticed and replaced at
        # the start of the next request instead of failing it.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # libpq waits forever for an unreachable host by default; bound every connect.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", default=10))
# Optional read replica: GETs of the public read API read from it (config/db_router.py).
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", default=60),
        conn_health_checks=True)
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", default=10))
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
    # After the request-context middleware, so replica reads are timed and logged too.
    MIDDLEWARE.insert(1, "config.db_router.ReplicaReadsMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Request bodies: everything above this is refused with 413 before a view reads it.
MCP_INDEX_MAX_BODY_BYTES = env_int("MCP_INDEX_MAX_BODY_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MCP_INDEX_MAX_BODY_BYTES
# Form fields per request: the rules editor posts 14 per rule, up to 500 rules. More is
# refused with the 400 page before any form is built.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Every body through the input boundary (mcp_index_common.input): NUL, lone surrogates,
    # numbers outside ±(2^53-1) and nesting over 64 are refused with 400 problem+json.
    "DEFAULT_PARSER_CLASSES": ["ops.parsers.StrictJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "registry.api.errors.problem_exception_handler",
}

# --- Redis: the shared cache (response cache, catalog generations, rate limits). ---
# Without it (the quick start) Django's per-process memory cache is used, the response cache
# is off (a per-process generation cannot be invalidated across workers) and rate limits
# count per process.
REDIS_URL = env_str("REDIS_URL", default="")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
         "KEY_PREFIX": "mcpidx"}
        if REDIS_URL else
        {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Prepared statements for the hot reads on PostgreSQL (serving/sql.py). Turn off behind
# PgBouncer in transaction pooling mode older than 1.21 (it cannot route prepared statements).
# Django leaves psycopg's preparing off; only serving.sql's server-binding cursors use it (the
# ORM's client-side binding cursors never prepare).
MCP_INDEX_PREPARED_READS = env_bool("MCP_INDEX_PREPARED_READS", default=True)
if MCP_INDEX_PREPARED_READS:
    for _db in DATABASES.values():
        if _db["ENGINE"] == "django.db.backends.postgresql":
            _db.setdefault("OPTIONS", {}).setdefault("prepare_threshold", 0)

# How the read API (serving/) reads: "sql", hand-written statements (PostgreSQL only), or "orm",
# the ORM (any database; the equivalence tests' oracle).
MCP_INDEX_READ_BACKEND = env_str(
    "MCP_INDEX_READ_BACKEND",
    default="sql" if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" else "orm")

# Read-API response cache (ops/cache.py): bodies in Redis keyed by catalog generation.
MCP_INDEX_RESPONSE_CACHE = env_bool("MCP_INDEX_RESPONSE_CACHE", default=bool(REDIS_URL))
# Anonymous cache hits answered in front of Django in one Redis round trip (ops/fastpath.py).
MCP_INDEX_FAST_CACHE_HITS = env_bool("MCP_INDEX_FAST_CACHE_HITS", default=True)
# Anonymous reads of public catalogs answered without Django's middleware stack and DRF
# (serving/api/direct.py): the same bytes and headers, cheaper.
MCP_INDEX_DIRECT_READS = env_bool("MCP_INDEX_DIRECT_READS", default=True)
MCP_INDEX_RESPONSE_CACHE_SECONDS = env_int("MCP_INDEX_RESPONSE_CACHE_SECONDS", default=300)
MCP_INDEX_RESPONSE_CACHE_MAX_BYTES = env_int("MCP_INDEX_RESPONSE_CACHE_MAX_BYTES",
                                             default=2 * 1024 * 1024)
# Cache-Control on read responses, for clients and a CDN in front of the API.
MCP_INDEX_CACHE_MAX_AGE = env_int("MCP_INDEX_CACHE_MAX_AGE", default=30)
MCP_INDEX_CACHE_STALE_WHILE_REVALIDATE = env_int("MCP_INDEX_CACHE_STALE_WHILE_REVALIDATE",
                                                 default=300)
MCP_INDEX_CACHE_STALE_IF_ERROR = env_int("MCP_INDEX_CACHE_STALE_IF_ERROR", default=86400)

# Rate limits (ops/ratelimit.py), counted in Redis: "<requests>/<s|m|h|d>".
MCP_INDEX_RATE_LIMITS = env_bool("MCP_INDEX_RATE_LIMITS", default=True)
MCP_INDEX_RATE_LIMIT_ANON = env_str("MCP_INDEX_RATE_LIMIT_ANON", default="600/m")
MCP_INDEX_RATE_LIMIT_TOKEN = env_str("MCP_INDEX_RATE_LIMIT_TOKEN", default="3000/m")
MCP_INDEX_RATE_LIMIT_WRITES = env_str("MCP_INDEX_RATE_LIMIT_WRITES", default="60/m")
MCP_INDEX_RATE_LIMIT_AUTH_FAILURES = env_str("MCP_INDEX_RATE_LIMIT_AUTH_FAILURES", default="30/m")
# Per feed URL (`/c/<slug>/k/<secret>`), on top of the client IP's budget (docs/clients.md).
MCP_INDEX_RATE_LIMIT_FEED = env_str("MCP_INDEX_RATE_LIMIT_FEED", default="300/m")
# How many reverse proxies (load balancer, CDN) sit in front: the client IP is taken that
# many hops back in X-Forwarded-For. 0 trusts no header.
MCP_INDEX_TRUSTED_PROXIES = env_int("MCP_INDEX_TRUSTED_PROXIES", default=0)

# --- Celery: with no broker configured, tasks run inline (the quick start). ---
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_BACKEND = None
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "signing-verify-pending": {
        "task": "signing.tasks.verify_pending",
        "schedule": 300.0,
    },
    "purge-idempotency-records": {
        "task": "registry.tasks.purge_idempotency_records",
        "schedule": 3600.0,
    },
    "curation-sync-due-upstreams": {"task": "curation.tasks.upstreams_sync_due_task",
                                    "schedule": env_int("MCP_INDEX_SYNC_TICK_SECONDS", default=60)},
    "curation-reconcile-catalogs": {"task": "curation.tasks.catalogs_reconcile_task",
                                    "schedule": env_int("MCP_INDEX_RECONCILE_SECONDS", default=60)},
    "discovery-reconcile-search": {"task": "discovery.tasks.search_reconcile_task",
                                   "schedule": env_int("MCP_INDEX_SEARCH_RECONCILE_SECONDS",
                                                       default=900)},
}

# --- MCP Index ---
# Our reverse-DNS namespace: our `_meta` keys and our custom endpoints live under it.
MCP_INDEX_NAMESPACE = env_str("MCP_INDEX_NAMESPACE", default="io.mcpindex")
MCP_INDEX_DEFAULT_CATALOG = env_str("MCP_INDEX_DEFAULT_CATALOG", default="all")
# Search: the semantic leg (embeddings computed in tasks, the query's own on the request).
# Off, search is lexical alone and no model is loaded (docs/search.md).
MCP_INDEX_SEARCH_SEMANTIC = env_bool("MCP_INDEX_SEARCH_SEMANTIC", default=True)
MCP_INDEX_EMBED_THREADS = env_int("MCP_INDEX_EMBED_THREADS", default=1)
# Past this many vectors the semantic leg searches an HNSW graph (faiss-cpu) instead of an
# exact scan, built in a background thread (exact until it is ready) with this many threads.
MCP_INDEX_ANN_MIN_VECTORS = env_int("MCP_INDEX_ANN_MIN_VECTORS", default=100_000)
MCP_INDEX_ANN_BACKGROUND = env_bool("MCP_INDEX_ANN_BACKGROUND", default=True)
MCP_INDEX_ANN_BUILD_THREADS = env_int("MCP_INDEX_ANN_BUILD_THREADS", default=1)
# A search finding its scope's index out of date is answered from the old one while a thread
# builds the new one (off: the search waits for the build, as tests want).
MCP_INDEX_SEARCH_REBUILD_BACKGROUND = env_bool("MCP_INDEX_SEARCH_REBUILD_BACKGROUND",
                                               default=True)
# Mirroring upstreams: per-request timeout, retries on 429/5xx/timeouts, exponential backoff
# from MCP_INDEX_SYNC_BACKOFF_SECONDS, and the longest wait (also caps Retry-After).
MCP_INDEX_SYNC_TIMEOUT_SECONDS = env_int("MCP_INDEX_SYNC_TIMEOUT_SECONDS", default=30)
MCP_INDEX_SYNC_RETRIES = env_int("MCP_INDEX_SYNC_RETRIES", default=5)
MCP_INDEX_SYNC_BACKOFF_SECONDS = env_int("MCP_INDEX_SYNC_BACKOFF_SECONDS", default=1)
MCP_INDEX_SYNC_MAX_WAIT_SECONDS = env_int("MCP_INDEX_SYNC_MAX_WAIT_SECONDS", default=120)
MCP_INDEX_ANONYMOUS_AUTH = env_bool("MCP_INDEX_ANONYMOUS_AUTH", default=False)
MCP_INDEX_GITHUB_CLIENT_ID = env_str("MCP_INDEX_GITHUB_CLIENT_ID", default="")
MCP_INDEX_JWT_TTL_SECONDS = env_int("MCP_INDEX_JWT_TTL_SECONDS", default=300)
MCP_INDEX_JWT_ISSUER = env_str("MCP_INDEX_JWT_ISSUER", default="mcp-index")
MCP_INDEX_JWT_PRIVATE_KEY = env_secret(
    "MCP_INDEX_JWT_PRIVATE_KEY", local_file=_LOCAL_SECRETS, generate=lambda: secrets.token_hex(32),
    hint=" (a 32-byte hex Ed25519 seed) when DEBUG is off")
MCP_INDEX_IDEMPOTENCY_HOURS = env_int("MCP_INDEX_IDEMPOTENCY_HOURS", default=24)
MCP_INDEX_MAX_VERSIONS_PER_SERVER = env_int("MCP_INDEX_MAX_VERSIONS_PER_SERVER", default=10000)
MCP_INDEX_VERSION = env_str("MCP_INDEX_VERSION", default="0.1.0")
MCP_INDEX_GIT_COMMIT = env_str("MCP_INDEX_GIT_COMMIT", default="unknown")
MCP_INDEX_BUILD_TIME = env_str("MCP_INDEX_BUILD_TIME", default="unknown")
# The read benchmark's floor view at /_bench/floor (bench/floor.py); never on in production.
MCP_INDEX_BENCH_FLOOR = env_bool("MCP_INDEX_BENCH_FLOOR", default=False)

# --- Web pages: Django accounts, plus OpenID Connect single sign-on when configured. ---
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:account"
LOGOUT_REDIRECT_URL = "web:home"
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID", default="")
MCP_INDEX_OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
if MCP_INDEX_OIDC_ENABLED:
    OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET")
    OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT", default="")
    OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", default="RS256")
    OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", default="openid email profile")
    INSTALLED_APPS.append("mozilla_django_oidc")
    AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "mozilla_django_oidc.auth.OIDCAuthenticationBackend",
    ]

# --- Operations: logs, health checks, metrics (docs/operations.md) ---
# json: one object per line (production); text: key=value lines for a terminal.
LOG_FORMAT = env_str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfiguredEnv(f"LOG_FORMAT must be json or text, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "ops.logs.JsonFormatter"},
        "text": {"()": "ops.logs.KeyValueFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", default="INFO")},
    # Django's own loggers print through the root handler too (one format, no duplicates).
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True},
                # The MCP SDK logs every stateless request's transport at INFO (serving.mcp).
                "mcp": {"handlers": [], "level": "WARNING", "propagate": True}},
}
# Celery workers keep this logging setup instead of installing their own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Readiness: seconds allowed to each dependency check (database, broker, cache).
MCP_INDEX_HEALTH_TIMEOUT_SECONDS = env_int("MCP_INDEX_HEALTH_TIMEOUT_SECONDS", default=2)
# When set, /metrics requires `Authorization: Bearer <token>`.
MCP_INDEX_METRICS_TOKEN = env_str("MCP_INDEX_METRICS_TOKEN", default="")

# Security headers. In production (DEBUG off) the service sits behind TLS: HTTP is
# redirected (probes exempt), HSTS is sent, cookies are Secure. `X-Forwarded-Proto` is
# trusted, so the proxy in front must set it (see docs/deploy.md).
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", default=True)
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# ---------------------------------------------------------------------------------------
# --- Namespace proofs, package ownership checks and the outbound SSRF guard ---
# Documented in docs/settings-proofs.md. Read at call time, so tests override them freely.
INSTALLED_APPS += ["registry.proofs"]  # the replay ledger (ProofUse)

# Outbound fetches a user can point somewhere (HTTP proof, MCPB downloads) go through
# registry.outbound: resolve first, refuse private/loopback/link-local/CGNAT/NAT64 addresses.
MCP_INDEX_OUTBOUND_ALLOW_CIDRS = env_list("MCP_INDEX_OUTBOUND_ALLOW_CIDRS", default=[])
MCP_INDEX_OUTBOUND_HOSTS = dict(
    item.split("=", 1) for item in env_list("MCP_INDEX_OUTBOUND_HOSTS", default=[]) if "=" in item
)
MCP_INDEX_OUTBOUND_CA_BUNDLE = env_str("MCP_INDEX_OUTBOUND_CA_BUNDLE", default="")

MCP_INDEX_PROOF_MAX_SKEW_SECONDS = env_int("MCP_INDEX_PROOF_MAX_SKEW_SECONDS", default=15)
MCP_INDEX_PROOF_HTTP_URL = env_str(
    "MCP_INDEX_PROOF_HTTP_URL", default="https://{domain}/.well-known/mcp-registry-auth"
)
MCP_INDEX_PROOF_HTTP_TIMEOUT_SECONDS = env_int("MCP_INDEX_PROOF_HTTP_TIMEOUT_SECONDS", default=5)
MCP_INDEX_PROOF_HTTP_MAX_BYTES = env_int("MCP_INDEX_PROOF_HTTP_MAX_BYTES", default=4096)
MCP_INDEX_PROOF_DNS_NAMESERVERS = env_list("MCP_INDEX_PROOF_DNS_NAMESERVERS", default=[])
MCP_INDEX_PROOF_DNS_TIMEOUT_SECONDS = env_int("MCP_INDEX_PROOF_DNS_TIMEOUT_SECONDS", default=5)
MCP_INDEX_GITHUB_OIDC_ISSUER = env_str(
    "MCP_INDEX_GITHUB_OIDC_ISSUER", default="https://token.actions.githubusercontent.com"
)
MCP_INDEX_GITHUB_OIDC_AUDIENCE = env_list("MCP_INDEX_GITHUB_OIDC_AUDIENCE", default=[])
MCP_INDEX_OIDC_PROVIDERS = env_json("MCP_INDEX_OIDC_PROVIDERS", default=[])
MCP_INDEX_OIDC_JWKS_CACHE_SECONDS = env_int("MCP_INDEX_OIDC_JWKS_CACHE_SECONDS", default=600)

# The registry as an OAuth 2.1 resource server (docs/clients.md): access tokens (JWTs) from
# the company's IdP, verified by its JWKS, with the catalog's URL as audience. Off when empty.
MCP_INDEX_OAUTH_ISSUER = env_str("MCP_INDEX_OAUTH_ISSUER", default="")
# Authorization servers named in the protected-resource metadata (default: the issuer).
MCP_INDEX_OAUTH_AUTHORIZATION_SERVERS = env_list("MCP_INDEX_OAUTH_AUTHORIZATION_SERVERS",
                                                 default=[])
# The claim holding the user's groups, and which catalog roles each group grants:
# {"platform-team": ["catalog:*:owner"], "engineering": ["catalog:corp:viewer"]}.
MCP_INDEX_OAUTH_GROUPS_CLAIM = env_str("MCP_INDEX_OAUTH_GROUPS_CLAIM", default="groups")
MCP_INDEX_OAUTH_GROUP_ROLES = env_json("MCP_INDEX_OAUTH_GROUP_ROLES", default={})
# The registry's public base URL (https://registry.example.com): the resource identifiers
# (audiences) and metadata URLs. Empty: the request's own scheme and host.
MCP_INDEX_PUBLIC_URL = env_str("MCP_INDEX_PUBLIC_URL", default="").rstrip("/")
MCP_INDEX_GITHUB_API_URL = env_str("MCP_INDEX_GITHUB_API_URL", default="https://api.github.com")
MCP_INDEX_PROOF_FETCH_TIMEOUT_SECONDS = env_int("MCP_INDEX_PROOF_FETCH_TIMEOUT_SECONDS", default=10)

MCP_INDEX_OWNERSHIP_CHECKS = env_bool("MCP_INDEX_OWNERSHIP_CHECKS", default=True)
MCP_INDEX_OWNERSHIP_SKIP = env_list("MCP_INDEX_OWNERSHIP_SKIP", default=[])
MCP_INDEX_OWNERSHIP_TIMEOUT_SECONDS = env_int("MCP_INDEX_OWNERSHIP_TIMEOUT_SECONDS", default=30)
MCP_INDEX_OWNERSHIP_NPM_URL = env_str("MCP_INDEX_OWNERSHIP_NPM_URL", default="https://registry.npmjs.org")
MCP_INDEX_OWNERSHIP_NPM_AUTH = env_str("MCP_INDEX_OWNERSHIP_NPM_AUTH", default="")
MCP_INDEX_OWNERSHIP_PYPI_URL = env_str("MCP_INDEX_OWNERSHIP_PYPI_URL", default="https://pypi.org")
MCP_INDEX_OWNERSHIP_PYPI_AUTH = env_str("MCP_INDEX_OWNERSHIP_PYPI_AUTH", default="")
MCP_INDEX_OWNERSHIP_NUGET_URL = env_str(
    "MCP_INDEX_OWNERSHIP_NUGET_URL", default="https://api.nuget.org/v3/index.json"
)
MCP_INDEX_OWNERSHIP_NUGET_AUTH = env_str("MCP_INDEX_OWNERSHIP_NUGET_AUTH", default="")
MCP_INDEX_OWNERSHIP_CARGO_URL = env_str("MCP_INDEX_OWNERSHIP_CARGO_URL", default="https://crates.io")
MCP_INDEX_OWNERSHIP_CARGO_AUTH = env_str("MCP_INDEX_OWNERSHIP_CARGO_AUTH", default="")
MCP_INDEX_OWNERSHIP_OCI_REGISTRIES = env_json(
    "MCP_INDEX_OWNERSHIP_OCI_REGISTRIES",
    default={
        "docker.io": "https://registry-1.docker.io",
        "ghcr.io": "https://ghcr.io",
        "quay.io": "https://quay.io",
        "mcr.microsoft.com": "https://mcr.microsoft.com",
        "*.pkg.dev": "https://{host}",
        "*.azurecr.io": "https://{host}",
    },
)
MCP_INDEX_OWNERSHIP_OCI_AUTH = env_json("MCP_INDEX_OWNERSHIP_OCI_AUTH", default={})
MCP_INDEX_OWNERSHIP_MCPB_HOSTS = env_list(
    "MCP_INDEX_OWNERSHIP_MCPB_HOSTS", default=["github.com", "gitlab.com"]
)
MCP_INDEX_OWNERSHIP_MCPB_MAX_BYTES = env_int(
    "MCP_INDEX_OWNERSHIP_MCPB_MAX_BYTES", default=64 * 1024 * 1024
)
# --- end of namespace proofs / ownership block ---
# ---------------------------------------------------------------------------------------

# --- Probes of remote servers and the tool inventory (discovery/, docs/inventory.md) ---
MCP_INDEX_PROBE_TIMEOUT_SECONDS = env_int("MCP_INDEX_PROBE_TIMEOUT_SECONDS", default=15)
MCP_INDEX_PROBE_MAX_BYTES = env_int("MCP_INDEX_PROBE_MAX_BYTES", default=2 * 1024 * 1024)
# Plain http remotes are probed only when this is on (development); the guard still applies.
MCP_INDEX_PROBE_ALLOW_HTTP = env_bool("MCP_INDEX_PROBE_ALLOW_HTTP", default=False)
MCP_INDEX_PROBE_CONCURRENCY = env_int("MCP_INDEX_PROBE_CONCURRENCY", default=16)
MCP_INDEX_PROBE_PER_HOST = env_int("MCP_INDEX_PROBE_PER_HOST", default=2)
MCP_INDEX_PROBE_BATCH = env_int("MCP_INDEX_PROBE_BATCH", default=200)
MCP_INDEX_PROBE_INTERVAL_HOURS = env_int("MCP_INDEX_PROBE_INTERVAL_HOURS", default=24)
MCP_INDEX_PROBE_MAX_BACKOFF_HOURS = env_int("MCP_INDEX_PROBE_MAX_BACKOFF_HOURS", default=24 * 7)
# The registry's own Ed25519 key (32-byte hex seed) signing its observations; empty: no
# observation statements are signed.
MCP_INDEX_OBSERVER_KEY = env_str("MCP_INDEX_OBSERVER_KEY", default="")
MCP_INDEX_OBSERVER_PRINCIPAL = env_str("MCP_INDEX_OBSERVER_PRINCIPAL", default="registry-observer")
CELERY_BEAT_SCHEDULE["discovery-probe-due"] = {
    "task": "discovery.tasks.probe_due_task",
    "schedule": env_int("MCP_INDEX_PROBE_TICK_SECONDS", default=300)}
