# Two commands on a fresh machine with only python3: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,cli]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/replicate-async demo

lint: $(STAMP)
	$(BIN)/ruff check replicate_async tests benchmarks
	$(BIN)/ruff format --check replicate_async tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy --strict replicate_async

pytest: $(STAMP)
	$(BIN)/python -m pytest -W error::ResourceWarning -q $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build *.egg-info
