# `make run`: the shop on the embedded default (SQLite, in-process cache, eager Celery).
# `make test`: the whole suite on PostgreSQL and Redis (with the Kubernetes manifests' checks).
# `make k8s-check`: only those checks (deploy/k8s rendered, schema-validated and scanned; no cluster needed).
# `make cluster`: HAProxy, two gunicorns, two Celery workers, beat, PostgreSQL + streaming replica, Redis, on
#   loopback (deploy/cluster/cluster.py); `make cluster-test`: tests/cluster against it (needs root, see README).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# checkov and kubernetes-validate, in a venv of their own: their dependency trees fight the project's pins.
DEPLOY_VENV := .venv-deploy

export DATABASE_URL_TEST ?= postgres://postgres@127.0.0.1:5432/shop
export REDIS_URL_TEST ?= redis://127.0.0.1:6379/1

.PHONY: run test e2e lint check bench clean deploy-tools k8s-check cluster cluster-test

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-run

# Where `make run` serves (HOST=0.0.0.0 to reach it from another machine; add that name to ALLOWED_HOSTS).
HOST ?= 127.0.0.1
PORT ?= 8000

# Without STRIPE_SECRET_KEY the Stripe test double runs beside runserver (stripe_double exits at once with keys).
run: $(VENV)/.installed-run
	export DEBUG=$${DEBUG:-true}; \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py seed --if-empty && \
	$(PY) manage.py ensure_demo_admin && { \
	$(PY) manage.py stripe_double --forward-to http://127.0.0.1:$(PORT)/api/payments/webhook/ & double=$$!; \
	trap 'kill $$double 2>/dev/null' EXIT; \
	$(PY) manage.py runserver $(HOST):$(PORT); }

$(VENV)/.installed-e2e: requirements-e2e.txt $(VENV)/.installed-dev
	$(PIP) install --quiet -r requirements-e2e.txt
	touch $@

$(DEPLOY_VENV)/.installed: requirements-deploy.txt
	$(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/pip install --quiet --upgrade pip
	$(DEPLOY_VENV)/bin/pip install --quiet -r requirements-deploy.txt
	touch $@

deploy-tools: $(DEPLOY_VENV)/.installed

test: $(VENV)/.installed-dev deploy-tools
	DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_TEST)} REDIS_URL=$${REDIS_URL:-$(REDIS_URL_TEST)} \
		$(PY) -m pytest -m "not e2e and not cluster" $(PYTEST_ARGS)

cluster: $(VENV)/.installed-run
	$(PY) deploy/cluster/cluster.py up

# Starts its own cluster (ports 18001-18433, state in /tmp/shop-cluster) and stops it at the end.
cluster-test: $(VENV)/.installed-dev
	DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_TEST)} REDIS_URL=$${REDIS_URL:-$(REDIS_URL_TEST)} \
		$(PY) -m pytest -m cluster tests/cluster -s $(PYTEST_ARGS)

# Needs kubectl on PATH (it renders the overlays offline); no database, Redis or cluster.
k8s-check: $(VENV)/.installed-dev deploy-tools
	$(PY) -m pytest tests/ops/test_k8s.py $(PYTEST_ARGS)

# Browser tests (Debian's Chromium) and schema fuzzing against a live gunicorn with DEBUG=false.
e2e: $(VENV)/.installed-e2e
	DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_TEST)} REDIS_URL=$${REDIS_URL:-$(REDIS_URL_TEST)} \
		$(PY) -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(PY) -m ruff check .

check: $(VENV)/.installed-dev
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run
	DEBUG=true $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

# Load benchmarks (not tests): own database shop_bench, gunicorn DEBUG=false, wrk on loopback; see benchmarks/run.py.
bench: $(VENV)/.installed-run
	command -v wrk >/dev/null || { $$(command -v sudo) apt-get update -qq && $$(command -v sudo) apt-get install -y -qq wrk; }
	$(if $(SCALE),BENCH_SCALE=$(SCALE) )$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) $(DEPLOY_VENV) db.sqlite3 staticfiles
