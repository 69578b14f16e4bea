# Tuckbox. `make run` starts the embedded default; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
DEPS_STAMP := $(VENV)/.deps-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
# The embedded default: no DATABASE_URL, no REDIS_URL.
EMBEDDED := env -u DATABASE_URL -u REDIS_URL
TEST_ENV := PASSWORD_HASHERS=django.contrib.auth.hashers.MD5PasswordHasher ACCESS_LOG=false LOG_LEVEL=WARNING

.PHONY: run test test-postgres test-sqlite openapi lint migrate demo clean bench bench-quick stack

$(DEPS_STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.deps-* && touch $@

## run: the embedded default (SQLite, eager Celery, fake payment gateway, demo data) on 127.0.0.1:$(PORT)
run: $(DEPS_STAMP) var/secrets.env
	$(EMBEDDED) $(PY) manage.py migrate --no-input -v 0
	$(EMBEDDED) $(PY) manage.py demo_seed
	@echo "API docs: http://127.0.0.1:$(PORT)/api/docs/   Redoc: http://127.0.0.1:$(PORT)/api/redoc/"
	$(EMBEDDED) $(PY) manage.py runserver 127.0.0.1:$(PORT) --noreload

## test: the whole suite on throwaway PostgreSQL and Redis, then the SQLite lane
test: $(DEPS_STAMP)
	$(MAKE) --no-print-directory test-postgres
	$(MAKE) --no-print-directory test-sqlite

# Two workers for two cores; PYTEST_ARGS="... -p no:xdist" runs in one process.
XDIST = $(if $(findstring no:xdist,$(PYTEST_ARGS)),,-n 2)
test-postgres: $(DEPS_STAMP) var/secrets.env
	$(TEST_ENV) $(PY) scripts/with_services.py -- $(PY) -m pytest $(XDIST) -q $(PYTEST_ARGS)

# The embedded default must keep working: a small lane on SQLite.
test-sqlite: $(DEPS_STAMP) var/secrets.env
	$(EMBEDDED) $(TEST_ENV) DATABASE_URL=sqlite:///$(CURDIR)/var/test-lane.sqlite3 $(PY) -m pytest -q -m sqlite_lane $(PYTEST_ARGS)

## openapi: regenerate the committed schema
openapi: $(DEPS_STAMP) var/secrets.env
	$(EMBEDDED) $(PY) manage.py spectacular --file openapi/openapi.yaml --validate

## bench: the money paths under load on the production stack, against an in-run baseline (< 10 min).
## Results: bench/results/latest.json and latest.png; see docs/performance.md. BENCH_SEED=n changes the data.
bench: $(DEPS_STAMP)
	$(PY) scripts/with_services.py -- $(PY) -m bench.run

## bench-quick: the same with smaller data and shorter runs (< 2 min), written to bench/results/quick.json
bench-quick: $(DEPS_STAMP)
	$(PY) scripts/with_services.py -- $(PY) -m bench.run --quick --output bench/results/quick.json

## stack: the production stack (gunicorn, Celery worker and beat from the Procfile, DEBUG off) on throwaway
## PostgreSQL and Redis, with the demo data, on 127.0.0.1:$(PORT). See docs/operations.md.
stack: $(DEPS_STAMP) var/secrets.env
	$(PY) scripts/with_services.py -- env PORT=$(PORT) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" DEBUG=false \
		CELERY_BEAT_SCHEDULE_FILE="$(CURDIR)/var/celerybeat-schedule" \
		sh -c 'python manage.py migrate --no-input -v 0 && python manage.py demo_seed --force && exec honcho start -f Procfile'

# A local stack's throwaway secrets, written once (config/dev_secrets.py); settings read it when present.
var/secrets.env:
	$(PYTHON) -m config.dev_secrets $@

lint: $(DEPS_STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf var/*.sqlite3* var/static
