# The two commands that matter: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
CELERY := $(VENV)/bin/celery
ADDR ?= 127.0.0.1:8000
BEAT_SCHEDULE ?= var/celerybeat-schedule
DEMO_PASSWORD ?= demo-pass-2026
PG_URL ?= postgres://postgres@127.0.0.1:5432/crm
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
# Both cores, and the slowest tests printed so that the suite's time stays visible.
PYTEST_ARGS ?= -n 2 --durations=25

.PHONY: install run serve migrate demo test test-sqlite test-postgres lint format messages clean \
	prod-smoke bench bench-quick

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip==26.3"
	$(PIP) install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo --if-empty --password "$(DEMO_PASSWORD)" --addr "$(ADDR)"

# Serve the app with a Celery worker and beat. Ctrl-C (or SIGTERM), or any of the three
# exiting, stops the others and waits for them, so no process is left behind. The worker
# uses threads: a prefork worker hit by two signals (the terminal's and ours) never exits.
serve:
	@mkdir -p var "$(dir $(BEAT_SCHEDULE))"
	trap 'trap - INT TERM EXIT; kill $$(jobs -p) 2>/dev/null; wait' INT TERM EXIT; \
	$(CELERY) -A config worker --loglevel INFO --pool threads --concurrency 2 --hostname "worker@%h" & \
	$(CELERY) -A config beat --loglevel INFO --schedule "$(BEAT_SCHEDULE)" & \
	$(PY) manage.py runserver --noreload $(ADDR) & \
	wait -n

run: demo
	@echo "Serving on http://$(ADDR)/  (log in as am_east1 / $(DEMO_PASSWORD))"
	$(MAKE) --no-print-directory serve

test: install
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The same suite on PostgreSQL with a real Redis broker, then the production smoke test. Under
# CI a missing service fails the run; elsewhere it is skipped with a visible message.
test-postgres: install
	@if $(PY) -m tests.services_reachable "$(PG_URL)" "$(REDIS_TEST_URL)"; then \
		DATABASE_URL="$(PG_URL)" REDIS_URL="$(REDIS_TEST_URL)" $(VENV)/bin/pytest $(PYTEST_ARGS) && \
		$(MAKE) --no-print-directory prod-smoke; \
	elif [ "$$CI" = "true" ]; then \
		echo "CI: PostgreSQL or Redis is not reachable; failing."; exit 1; \
	else \
		echo "SKIPPED: PostgreSQL ($(PG_URL)) or Redis ($(REDIS_TEST_URL)) not reachable; only SQLite was tested."; \
	fi

# The production shape without Docker: gunicorn (2 workers), a Celery worker and beat with the
# production settings against the local PostgreSQL (database crm_smoke, created and dropped)
# and Redis (database 14); checks health, log-in, a customer page, beat and a job; stops all.
prod-smoke: install
	$(PY) -m tests.prod.smoke

# Benchmarks (see bench/README.md): pages, reports, jobs, and the load test, on SQLite and,
# when reachable, PostgreSQL; each vendor's output goes to bench/results/latest-<vendor>.md. The
# 100,000-customer databases are built on the first run (var/bench/, crm_bench_make) and reused.
# One section: make bench BENCH_ARGS="--sections pages,load". The load test needs wrk.
BENCH_ARGS ?=
BENCH_PG_SERVER ?= postgres://postgres@127.0.0.1:5432
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/6
bench: install
	@status=0; \
	$(PY) bench/suite.py sqlite $(BENCH_ARGS) || status=1; \
	if $(PY) -m tests.services_reachable "$(BENCH_PG_SERVER)/postgres" "$(BENCH_REDIS_URL)"; then \
		BENCH_PG_SERVER="$(BENCH_PG_SERVER)" BENCH_REDIS_URL="$(BENCH_REDIS_URL)" \
			$(PY) bench/suite.py postgresql $(BENCH_ARGS) || status=1; \
	else \
		echo "SKIPPED: PostgreSQL ($(BENCH_PG_SERVER)) or Redis ($(BENCH_REDIS_URL)) not reachable."; \
	fi; \
	exit $$status

# The same with fewer repetitions, 10,000 customers for the jobs and 15 s of load: a smoke run.
bench-quick:
	$(MAKE) --no-print-directory bench BENCH_ARGS="--quick $(BENCH_ARGS)"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: install
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore ".venv/*" --ignore "var/*" --ignore "tests/*" --ignore "bench/*"
	$(PY) manage.py compilemessages -l zh_Hans --ignore ".venv/*"

clean:
	rm -rf var db.sqlite3 db.sqlite3-wal db.sqlite3-shm test-artifacts
