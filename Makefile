# The two commands a newcomer needs: `make demo` and `make test`.
# Each builds a local virtual environment (.venv) the first time.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test test-fast lint format system-deps bench docs summary-svg clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/tanet demo

# The Debian packages the tests use (.ci/system-deps): libical reads back every .ics,
# Dovecot serves IMAP, Chromium and poppler open and print every page a person reads.
system-deps:
	@sh .ci/system-deps

test: $(BIN)/.installed system-deps lint
	$(BIN)/python -m pytest -q

# The pure parts (dates, recurrence, the time zone, plan dates, table layout, addresses):
# no database, no server, no subprocess; a useful answer in seconds.
test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest -q tests/unit

lint: $(BIN)/.installed
	$(BIN)/ruff check tanet tests benchmarks

# Rewrites files: code held to 120 columns, imports sorted.
format: $(BIN)/.installed
	$(BIN)/ruff format tanet tests benchmarks
	$(BIN)/ruff check --fix --select I tanet tests benchmarks

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/run.py

docs: $(BIN)/.installed
	$(BIN)/python -m tanet.output.docs > docs/commands.md

summary-svg: $(BIN)/.installed
	$(BIN)/python -m tanet.output.docs --summary-svg docs/summary.svg

clean:
	rm -rf $(VENV) build *.egg-info
