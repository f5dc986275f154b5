# kefu: `make run` serves the demo on SQLite, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := src/kefu/web/static/vendor

.PHONY: run test install dev assets dist fmt lint typecheck importlint pytest messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed assets
dev: $(VENV)/.dev-installed assets

$(VENDOR)/htmx.min.js $(VENDOR)/echarts.min.js &: package.json
	npm install --no-audit --no-fund --silent
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts.min.js

assets: $(VENDOR)/htmx.min.js $(VENDOR)/echarts.min.js

# A self-contained wheel in dist/ (migrations, templates, translations and the vendor assets inside).
dist: assets | $(BIN)/python
	rm -rf build  # setuptools would add files left there by an earlier build
	$(BIN)/python -m pip wheel --quiet --no-deps -w dist .

run: install
	$(BIN)/kefu first-run
	KEFU_DEMO=1 $(BIN)/kefu serve --host 127.0.0.1 --port 8000

fmt: dev
	$(BIN)/ruff format src tests bench tools
	$(BIN)/ruff check --fix src tests bench tools

lint: dev
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools

typecheck: dev
	$(BIN)/mypy

importlint: dev
	$(BIN)/lint-imports

pytest: dev
	$(BIN)/pytest

test: lint typecheck importlint pytest

messages: dev
	mkdir -p var
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ -k ValidationFailed -k StateConflict -k gettext -k translate_error:2 -o var/messages.pot src/kefu
	$(BIN)/pybabel update -i var/messages.pot -d src/kefu/translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/python tools/check_catalogue.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var build dist
