# The two commands a newcomer needs: `make demo` and `make test`.
# Each builds a local virtual environment (.venv) the first time.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test system-deps bench docs summary-svg clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/tanet demo

# libical (gir1.2-ical-3.0) reads back every .ics in the tests; Dovecot serves IMAP to them.
system-deps:
	@sh .ci/system-deps

test: $(BIN)/.installed system-deps
	$(BIN)/python -m pytest -q

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/run.py

docs: $(BIN)/.installed
	$(BIN)/python -m tanet.output.docs > docs/commands.md

summary-svg: $(BIN)/.installed
	$(BIN)/python -m tanet.output.docs --summary-svg docs/summary.svg

clean:
	rm -rf $(VENV) build *.egg-info
