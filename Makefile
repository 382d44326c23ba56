# Two commands: `make run` serves the portal, `make test` runs the whole test suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test install env chromium nginx node axe screenshots wrk lint bench clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

# Writes .env if there is none, and adds the mail settings to one that lacks them.
env:
	@$(PYTHON) bin/write-env .env

run: install env
	$(PY) bin/ensure-database
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_scopes
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py check --database default --fail-level ERROR
	$(PY) manage.py setup_demo
	@echo "  Serving on http://$(HOST):$(PORT)/  (Ctrl+C stops it)"
	$(VENV)/bin/gunicorn portal.wsgi -c gunicorn.conf.py

# Chromium for the browser tests comes from Debian (Playwright's own download is not reachable).
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# nginx for the test that runs deploy/nginx/ in front of gunicorn, from Debian too.
nginx:
	@test -x /usr/sbin/nginx || (apt-get update -qq && apt-get install -y -qq nginx >/dev/null)

# Node.js for the test that runs the Get started JavaScript sample, from Debian too.
node:
	@command -v node >/dev/null || (apt-get update -qq && apt-get install -y -qq nodejs >/dev/null)

# axe-core for the accessibility test, pinned in package.json and package-lock.json.
node_modules/axe-core/axe.min.js: package.json package-lock.json
	@command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq npm >/dev/null)
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

axe: node_modules/axe-core/axe.min.js

test: install env chromium nginx node axe
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The inner loop: every test except the browser ones and those that start programs outside the
# test process (marker `outside` in pytest.ini: gunicorn, nginx, redis-server, a PostgreSQL
# cluster, worker processes, Node, Schemathesis). `make test` still runs everything.
.PHONY: test-fast
test-fast: install
	$(VENV)/bin/pytest -m "not browser and not outside" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

# The benchmark's load generator, from Debian.
wrk:
	@test -x /usr/bin/wrk || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)

bench: install wrk
	$(PY) bench/token_endpoint.py

# docs/screenshots/*.png for the README, from a throwaway demo in a real Chromium.
screenshots: install chromium
	$(PY) bin/screenshots

clean:
	rm -rf $(VENV) staticfiles .pytest_cache node_modules
