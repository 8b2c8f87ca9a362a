# The two commands: `make dev` runs the portal, `make test` passes every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV := $(PYTHON) -m uv
HOST ?= 127.0.0.1
PORT ?= 8000
SIM_PORT ?= 12111
ARGS ?=

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help install translations messages system-deps dev test lint format e2e bench prod sim clean

help:
	@echo "make dev    run the portal with demo data and the Stripe simulator"
	@echo "make test   lint and run the whole test suite (browser tests included)"
	@echo "make e2e    only the browser suite (ARGS=--headed to watch it)"
	@echo "make bench  the benchmark, written to docs/benchmarks.md"
	@echo "            (ARGS='--only costs,peer': just those parts, printed; see bench/run.py)"
	@echo "make prod   the production stack from environment variables"
	@echo "make messages  extract new strings into locale/ (needs GNU gettext)"

$(BIN)/python: uv.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 13), "Python 3.13 is required (found " + sys.version.split()[0] + ")"'
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --python $(PYTHON)
	@touch $(BIN)/python

install: $(BIN)/python translations

# Translation catalogs are compiled (pure Python, no GNU gettext needed), never committed.
translations: $(BIN)/python
	@$(BIN)/python -m portal.translations

# Extract new strings into the catalogs (needs GNU gettext's xgettext/msgmerge).
messages: install
	DEBUG=true $(BIN)/python manage.py makemessages -l de -l fr --no-obsolete --add-location file -i tests -i bench -i stripe_sim -i staticfiles -i media

# System libraries: Chromium for the browser tests, Pango and fonts for PDFs
# (DejaVu; Noto Color Emoji and WenQuanYi Micro Hei for emoji, Chinese, Japanese, Korean). Installed
# with apt when missing and we are root; elsewhere a message says what to add.
system-deps:
	@missing=""; \
	[ -x "$${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing="$$missing chromium"; \
	ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	fc-list 2>/dev/null | grep -qi dejavu || missing="$$missing fonts-dejavu-core"; \
	fc-list 2>/dev/null | grep -qi "Noto Color Emoji" || missing="$$missing fonts-noto-color-emoji"; \
	fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei" || missing="$$missing fonts-wqy-microhei"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing system packages:$$missing (install them, or set CHROMIUM_PATH)"; \
	  fi; \
	fi

dev: install
	DEBUG=true $(BIN)/python manage.py migrate --no-input -v0
	DEBUG=true $(BIN)/python manage.py demo_data
	@echo ""
	@echo "  Portal:          http://$(HOST):$(PORT)/   (staff login printed above)"
	@echo "  Stripe simulator: http://127.0.0.1:$(SIM_PORT)/_sim/"
	@echo ""
	@trap 'kill 0' EXIT INT TERM; \
	$(BIN)/python -m stripe_sim --port $(SIM_PORT) \
	  --webhook-url http://$(HOST):$(PORT)/invoices/wh/ --quiet & \
	DEBUG=true STRIPE_API_BASE=http://127.0.0.1:$(SIM_PORT) \
	  $(BIN)/uvicorn portal.asgi:application --host $(HOST) --port $(PORT) --reload \
	  --reload-dir portal --reload-dir invoices --reload-dir customers --reload-dir templates

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install system-deps lint
	$(BIN)/pytest $(ARGS)

e2e: install system-deps
	$(BIN)/pytest tests/e2e $(ARGS)

prod: install
	bin/prod

bench: install system-deps
	$(BIN)/python bench/run.py $(ARGS)

sim: install
	$(BIN)/python -m stripe_sim --port $(SIM_PORT) --webhook-url http://$(HOST):$(PORT)/invoices/wh/

clean:
	rm -rf $(VENV) staticfiles test-results .ruff_cache
