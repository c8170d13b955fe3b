"""Running the service in production: health, metrics, logs, response cache, rate limits.

Cross-cutting and below every app: nothing here imports an app. Apps plug in from their
AppConfig.ready (metrics.register_collector, generations.register_visibility).

- `health.py`      /healthz (liveness) and /readyz (database and broker)
- `metrics.py`     Prometheus /metrics: requests by route, queue depth, the apps' registered series
- `logs.py`        structured JSON logs carrying the request id
- `middleware.py`  outermost middleware: request id, access log, request metrics, probes
- `urls.py`        the routes of /healthz, /readyz and /metrics
- `redis.py`       the shared Redis connection (settings.REDIS_URL)
- `generations.py` per-catalog generations: every change to a catalog bumps its token
- `cache.py`       read-API response cache and ETags keyed by those generations
- `ratelimit.py`   per-IP and per-token limits (429 with Retry-After)
- `http.py`        which paths are the API, and problem+json for their errors
"""
