# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
VENDORED := frontend/node_modules/.package-lock.json
SYSTEM_PACKAGES := ffmpeg espeak-ng sox chromium chromium-driver fonts-nanum
export IVR_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test install system-deps postgres lint bench screenshots clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The consoles' browser libraries (Twilio Voice SDK, Chart.js) from the npm registry, at the
# versions in frontend/package-lock.json; the service serves them itself, never from a CDN.
$(VENDORED): frontend/package.json frontend/package-lock.json
	@command -v npm >/dev/null || { \
	  echo "installing npm"; sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq npm >/dev/null; }
	npm ci --prefix frontend --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

install: $(INSTALLED) $(VENDORED)

# Audio tools (recordings, synthesised speech), the browser for the console tests and a
# Korean font for it (the test transcripts are Korean).
system-deps:
	@missing=""; \
	for tool in ffmpeg espeak-ng sox chromium chromedriver; do \
	  command -v $$tool >/dev/null || missing="$$missing $$tool"; \
	done; \
	dpkg -s fonts-nanum >/dev/null 2>&1 || missing="$$missing fonts-nanum"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages (missing:$$missing)"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	fi

# The test suite runs every database test on SQLite and on this PostgreSQL.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
	  echo "starting PostgreSQL"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start && sleep 2; }
	@pg_isready -h 127.0.0.1 -p 5432

var/ivr.db: $(INSTALLED)
	$(BIN)/ivr db upgrade

run: $(INSTALLED) $(VENDORED)
	@mkdir -p var
	$(BIN)/ivr db upgrade
	$(BIN)/ivr demo
	@echo
	@echo "  The consoles:  http://127.0.0.1:5000/  (sign in as the supervisor sam, or the"
	@echo "                 agents alice, bob, carol; password: demo)"
	@echo "  Place a call from another terminal:  $(BIN)/ivr call"
	@echo "  (demo hours: open around the clock; set IVR_BUSINESS_HOURS to change)"
	@echo
	IVR_BUSINESS_HOURS="$${IVR_BUSINESS_HOURS:-always}" $(BIN)/ivr serve

test: system-deps $(INSTALLED) $(VENDORED) postgres
	$(BIN)/ruff check ivr callflows recordings callback tests migrations benchmarks
	$(BIN)/pytest -q

lint: $(INSTALLED)
	$(BIN)/ruff check ivr callflows recordings callback tests migrations benchmarks

# The README's pictures of the consoles (docs/*.png), from the browser test.
screenshots: system-deps $(INSTALLED) $(VENDORED) postgres
	IVR_SCREENSHOTS=1 $(BIN)/pytest -q tests/console/test_browser.py -k sqlite

# Figures and targets: docs/benchmarks.md. Needs a quiet machine (it loads both cores).
bench: system-deps $(INSTALLED) postgres
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) var .pytest_cache
