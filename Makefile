# Two commands: `make run` serves the portal, `make test` runs the whole test suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test install install-dev lock lock-check lint fmt env chromium nginx node prometheus saml-idp axe screenshots wrk bench messages clean

# Installs come from the lock files only (docs/dependencies.md): every package pinned and checked
# against its hash, none pulled in beside them (--no-deps), so a fresh clone gets exactly what the
# locks name. `make run` installs the runtime lock alone; `make test` adds the development lock.
# The stamps depend on the locks, so a changed lock installs again.
PIP_INSTALL := $(PY) -m pip install --quiet --require-hashes --no-deps

$(VENV)/.runtime: requirements/runtime.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements/runtime.txt
	$(PY) -m pip check
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements/dev.txt
	$(PIP_INSTALL) -r requirements/dev.txt
	$(PY) -m pip check
	touch $@

install: $(VENV)/.runtime

install-dev: $(VENV)/.dev

# Fails, naming the lock and the input, when a requirements/*.in changed after its lock was
# compiled (the lock headers hold the inputs' SHA-256; no network, no virtualenv needed).
lock-check:
	@$(PYTHON) bin/locks check

# Compiles both locks from requirements/*.in with the uv that the development lock pins. Versions
# already locked stay unless an input rules them out; LOCK_ARGS=--upgrade takes the newest
# allowed everywhere, LOCK_ARGS="--upgrade-package redis" for one package.
LOCK_COMPILE = $(VENV)/bin/uv pip compile --quiet --generate-hashes --universal --python-version 3.11 \
	--custom-compile-command "make lock" $(LOCK_ARGS)

lock: $(VENV)/.dev
	$(LOCK_COMPILE) requirements/runtime.in -o requirements/runtime.txt
	$(LOCK_COMPILE) requirements/dev.in -o requirements/dev.txt
	$(PYTHON) bin/locks stamp

# Writes .env if there is none, and adds the mail settings to one that lacks them.
env:
	@$(PYTHON) bin/write-env .env

# `make run` ends with bin/serve: gunicorn and every worker the portal needs (webhook delivery,
# usage flush), started and stopped together; one that dies stops the rest (docs/operations.md#workers).
run: lock-check install env
	$(PY) bin/ensure-database
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_scopes
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py check --database default --fail-level ERROR
	$(PY) manage.py setup_demo
	@echo "  Serving on http://$(HOST):$(PORT)/ with the webhook delivery and usage flush workers  (Ctrl+C stops them all)"
	exec $(PY) bin/serve

# Chromium for the browser tests comes from Debian (Playwright's own download is not reachable).
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# nginx for the test that runs deploy/nginx/ in front of gunicorn, from Debian too.
nginx:
	@test -x /usr/sbin/nginx || (apt-get update -qq && apt-get install -y -qq nginx >/dev/null)

# Prometheus for the test that scrapes the portal's /metrics with it (docs/metrics.md), from Debian too.
prometheus:
	@test -x /usr/bin/prometheus || (apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null)

# The SAML identity provider of the single sign-on tests (sso/tests/idp/saml_idp.py): Debian's
# pysaml2, run by Debian's python3 (its pyOpenSSL does not fit the venv's cryptography), and the
# xmlsec1 program it signs with.
saml-idp:
	@test -x /usr/bin/xmlsec1 && /usr/bin/python3 -c "import saml2" 2>/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-pysaml2 xmlsec1 >/dev/null)

# Node.js for the test that runs the Get started JavaScript sample, from Debian too.
node:
	@command -v node >/dev/null || (apt-get update -qq && apt-get install -y -qq nodejs >/dev/null)

# The npm test tools, pinned in package.json and package-lock.json: axe-core for the
# accessibility test, oidc-provider for the single sign-on tests (sso/tests), and the others.
node_modules/axe-core/axe.min.js: package.json package-lock.json
	@command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq npm >/dev/null)
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

axe: node_modules/axe-core/axe.min.js

# The lock check first, then lint (the ruff the development lock pins), then the tests.
test: lock-check install-dev lint env chromium nginx node prometheus saml-idp axe
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The inner loop: lint, then every test except the browser ones and those that start programs
# outside the test process (marker `outside` in pytest.ini: gunicorn, nginx, redis-server, a
# PostgreSQL cluster, worker processes, Node, Schemathesis). `make test` still runs everything.
.PHONY: test-fast
test-fast: lock-check install-dev lint env
	$(VENV)/bin/pytest -m "not browser and not outside" $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

# Formats the code and applies ruff's safe fixes; review the diff before committing.
fmt: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The benchmark's load generator, from Debian.
wrk:
	@test -x /usr/bin/wrk || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)

bench: install wrk
	$(PY) bench/token_endpoint.py
	$(PY) bench/counting.py
	$(PY) bench/usage_flush.py

# Gathers the interface's strings into locale/de/LC_MESSAGES/*.po (templates and Python into
# django.po, static/js into djangojs.po), then compiles the .mo files, which are committed so that
# `make run` needs no gettext (docs/i18n.md). Needs Debian's gettext.
MESSAGES_IGNORE := --ignore '.venv/*' --ignore 'node_modules/*' --ignore 'staticfiles/*' --ignore 'bench/*' --ignore 'static/vendor/*'
# The djangojs run reads static/js only: templates/apikeys/snippets/*.js are code samples (Django
# templates) that the Get started page shows as they are.
messages: install-dev
	@command -v msgfmt >/dev/null || (apt-get update -qq && apt-get install -y -qq gettext >/dev/null)
	$(PY) manage.py makemessages -l de --add-location file --no-obsolete $(MESSAGES_IGNORE)
	$(PY) manage.py makemessages -d djangojs -l de --add-location file --no-obsolete $(MESSAGES_IGNORE) --ignore 'templates/*'
	$(PY) manage.py compilemessages -l de $(MESSAGES_IGNORE)

# docs/screenshots/*.png for the docs, from a throwaway demo in a real Chromium.
screenshots: install-dev chromium
	$(PY) bin/screenshots

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache node_modules
