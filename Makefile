# Tuckbox. `make run` starts the whole system on this machine; `make test` runs the whole suite.
# Both start PostgreSQL and Redis from pip wheels (scripts/with_services.py): no system packages.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
RUN_REQUIREMENTS := requirements.txt requirements-services.txt
ALL_REQUIREMENTS := $(RUN_REQUIREMENTS) requirements-dev.txt
checksum = $(shell cat $(1) | cksum | cut -d' ' -f1)
# `make run` installs only what runs the system; `make test` adds the test and tooling packages.
RUN_STAMP := $(VENV)/.run-$(call checksum,$(RUN_REQUIREMENTS))
DEPS_STAMP := $(VENV)/.deps-$(call checksum,$(ALL_REQUIREMENTS))
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
TEST_ENV := PASSWORD_HASHERS=django.contrib.auth.hashers.MD5PasswordHasher ACCESS_LOG=false LOG_LEVEL=WARNING
SERVICES := $(PY) scripts/with_services.py

.PHONY: run test fuzz openapi lint clean bench bench-quick bench-durable

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): $(RUN_REQUIREMENTS) | $(VENV)/bin/python
	$(PIP) -r requirements.txt -r requirements-services.txt
	@rm -f $(VENV)/.run-* && touch $@

$(DEPS_STAMP): $(ALL_REQUIREMENTS) | $(VENV)/bin/python
	$(PIP) -r requirements-dev.txt
	@rm -f $(VENV)/.deps-* $(VENV)/.run-* && touch $@ $(RUN_STAMP)

## run: web (gunicorn), Celery worker and beat with the demo data and the fake payment gateway on
## 127.0.0.1:$(PORT); PostgreSQL and Redis kept in var/ (or DATABASE_URL / REDIS_URL). Ctrl-C stops it all.
run: $(RUN_STAMP)
	@$(SERVICES) --data var -- $(PY) scripts/demo_stack.py --var var

## test: the whole suite on throwaway PostgreSQL and Redis. PYTEST_ARGS=... passes arguments to pytest;
## PYTEST_ARGS="... -p no:xdist" runs in one process (two workers for two cores otherwise).
XDIST = $(if $(findstring no:xdist,$(PYTEST_ARGS)),,-n 2)
test: $(DEPS_STAMP) var/secrets.env
	$(TEST_ENV) $(SERVICES) -- $(PY) -m pytest $(XDIST) -q $(PYTEST_ARGS)

## fuzz: the long run of what `make test` samples: schemathesis over every operation as every caller
## (TUCKBOX_FUZZ_EXAMPLES=200 each by default) and the ledger, voucher and canteen state machines (hours)
fuzz: $(DEPS_STAMP) var/secrets.env
	TUCKBOX_FUZZ=1 HYPOTHESIS_PROFILE=fuzz $(TEST_ENV) $(SERVICES) -- $(PY) -m pytest -n 2 -q \
		tests/security/test_api_fuzz.py tests/wallet/test_ledger_model.py tests/vouchers/test_voucher_model.py \
		tests/canteen/test_order_model.py $(PYTEST_ARGS)

## openapi: regenerate what is generated from the code: the committed schema (settings need the
## servers, the schema does not touch them) and the error-code table of docs/api.md
openapi: $(DEPS_STAMP) var/secrets.env
	$(SERVICES) -- $(PY) manage.py spectacular --file openapi/openapi.yaml --validate
	$(PY) scripts/error_codes.py

## bench: the money paths under load on the production stack, against an in-run baseline (< 10 min).
## Results: bench/results/latest.json and latest.png; see docs/performance.md. BENCH_SEED=n changes the data.
bench: $(DEPS_STAMP)
	$(SERVICES) -- $(PY) -m bench.run

## bench-quick: the same with smaller data and shorter runs (< 2 min), written to bench/results/quick.json
bench-quick: $(DEPS_STAMP)
	$(SERVICES) -- $(PY) -m bench.run --quick --output bench/results/quick.json

## bench-durable: the full benchmark on a PostgreSQL that flushes every commit to disk (fsync and
## synchronous_commit on, as in production), written to bench/results/durable.json
bench-durable: $(DEPS_STAMP)
	$(PY) scripts/with_services.py --durable -- $(PY) -m bench.run --output bench/results/durable.json

# A local stack's throwaway secrets, written once (config/dev_secrets.py); settings read it when
# present. `make run` writes its own into the folder it keeps (scripts/demo_stack.py).
var/secrets.env:
	$(PYTHON) config/dev_secrets.py $@

lint: $(DEPS_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

## clean: forget everything `make run` kept (database, Redis dump, logs, mail, demo secrets)
clean:
	rm -rf var
