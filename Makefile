# The few targets a newcomer needs. `make demo` and `make test` are the README's two commands.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint bench bench-quick bench-web clean

$(BIN)/flask: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

setup: $(BIN)/flask

demo: setup
	bash scripts/demo.sh

test: setup
	bash scripts/test.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy app benchmarks

# Every benchmark mode (ingest, pipeline, celery) at the issue's sizes; BENCH_ARGS adds options,
# e.g. `make bench BENCH_ARGS="--repeat 3 --profile-validate"`. Tables on stdout, bench-results/*.json.
BENCH_ARGS ?=
bench: setup
	$(BIN)/python -m benchmarks --mode all --sizes 10000,100000 $(BENCH_ARGS)

bench-quick: setup
	$(BIN)/python -m benchmarks --mode all --sizes 10000 $(BENCH_ARGS)

# The web pages under load: 1M staged rows in PostgreSQL, gunicorn on loopback, wrk (apt-get install wrk).
bench-web: setup
	$(BIN)/python -m benchmarks.web $(BENCH_ARGS)

clean:
	rm -rf instance/*.sqlite
