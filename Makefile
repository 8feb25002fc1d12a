# Vidu Studio. `make run` starts everything; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test install lint format migrate clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# What runs the studio; the test tools (pytest, Playwright, Hypothesis, ruff) come only
# with `make test`, `make lint` and `make bench`.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $(TEST_STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py studio_run

# Browser tests need Debian's Chromium; installed here when missing and we are root.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	  else echo "No /usr/bin/chromium and not root: the browser tests will be skipped."; fi; \
	fi

# Two passes: everything on the embedded default (SQLite, ORM broker), then the suite
# but the browser tests (and those that start the embedded default themselves) again on
# PostgreSQL and Redis (skipped, saying why, when they
# are not reachable; a failure instead when STUDIO_REQUIRE_SERVICES=1, as in CI).
# Tests run side by side in TEST_PROCESSES processes (pytest-xdist): most of a test's
# time is spent waiting on a worker, a simulator or a browser, so more than the cores.
TEST_PROCESSES ?= 3
test: $(TEST_STAMP) chromium
	$(BIN)/python -m pytest -m "not services" -n $(TEST_PROCESSES) $(PYTEST_ARGS)
	$(BIN)/python tests/services_pass.py -n $(TEST_PROCESSES) $(PYTEST_ARGS)

# The performance goals, each measured against a baseline taken in the same run; the
# figures are printed and kept in bench/results/ (docs/performance.md has the last run).
BENCHES := latency provider_calls poll_cost submit_rate history upload_memory
bench: $(TEST_STAMP)
	@for b in $(BENCHES); do echo "== bench/$$b.py"; $(BIN)/python bench/$$b.py || exit 1; done

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(TEST_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: $(STAMP)
	$(BIN)/python manage.py migrate

clean:
	rm -rf $(VENV) var .pytest_cache *.egg-info
