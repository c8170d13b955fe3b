"""Test helpers, in one place: what tests import (conftest files keep only fixtures).

- `data`            the shared spec files: example manifests, the registry snapshot
- `manifests`       server.json documents to publish
- `api`, `tokens`   a JSON client over Django's test client; registry JWTs
- `factories`       factory_boy factories for the core models (through their services)
- `network`         the loopback-only socket guard, free ports, a TCP proxy
- `redis`           the test Redis database (one per xdist worker) and a safe flush
- `loopback`        HTTP(S) and DNS servers on 127.0.0.1, throwaway TLS material
- `identities`      domain signing keys and a fake OIDC issuer
- `package_registries`  a fake OCI registry and the package-ownership constants
- `fake_upstream`   a fake upstream registry (the official list API) for sync tests
- `mirror`          a mirror compared with its upstream
- `fake_sigstore`   a private Sigstore instance (Fulcio CA, Rekor log) in memory
- `signing`         the version the signing tests sign
- `cli`             a recording fake registry for the CLI, and one CLI run's outcome
- `gunicorn`        the app served for real by gunicorn on loopback
- `database`        the test database's URL for child processes, throwaway databases
- `deploy`          compose files as data, the app's environment, bounded child processes
- `helm_render`     a small renderer for the Helm chart's templates
- `browser`         Chromium for the Playwright tests, screenshots
"""
