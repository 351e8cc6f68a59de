# The few targets a newcomer needs. `make demo` and `make test` are the README's two commands.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_ROWS ?= 2000
DEMO_LEGACY := instance/legacy_demo.sqlite
DEMO_LEGACY_URL := sqlite:///$(CURDIR)/$(DEMO_LEGACY)

.PHONY: setup demo test lint bench clean

$(BIN)/flask: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

setup: $(BIN)/flask

demo: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask legacy make-demo-db --url "$(DEMO_LEGACY_URL)" --rows $(DEMO_ROWS)
	LEGACY_DATABASE_URL="$(DEMO_LEGACY_URL)" $(BIN)/flask legacy import --connection=legacy --label=demo

test: setup
	bash scripts/test.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy app

bench: setup
	$(BIN)/python -m benchmarks.ingest

clean:
	rm -rf instance/*.sqlite
