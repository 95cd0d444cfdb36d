# Two commands on a fresh machine with only python3: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-loaded test-all lint typecheck pytest bench clean conformance conformance-clients browser-example collect-tests

# The official Python clients cannot share one environment: each is installed into its own
# directory and the conformance scenarios run it with PYTHONPATH pointing there. Keep these
# versions in step with CLIENTS in tests/conformance/conformance_support.py.
REPLICATE_V1 := 1.0.7
REPLICATE_V2 := 2.0.0b4
CONFORMANCE := $(VENV)/conformance
CONFORMANCE_STAMP := $(CONFORMANCE)/.installed-$(REPLICATE_V1)-$(REPLICATE_V2)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,cli]'
	touch $(STAMP)

$(CONFORMANCE_STAMP): | $(STAMP)
	rm -rf $(CONFORMANCE)
	$(BIN)/python -m pip install --quiet --target $(CONFORMANCE)/replicate-$(REPLICATE_V1) 'replicate==$(REPLICATE_V1)'
	$(BIN)/python -m pip install --quiet --target $(CONFORMANCE)/replicate-$(REPLICATE_V2) 'replicate==$(REPLICATE_V2)'
	touch $(CONFORMANCE_STAMP)

conformance-clients: $(CONFORMANCE_STAMP)

demo: $(STAMP)
	$(BIN)/replicate-async demo

lint: $(STAMP)
	$(BIN)/ruff check replicate_async tests benchmarks examples scripts
	$(BIN)/ruff format --check replicate_async tests benchmarks examples scripts
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/import_graph.py --quiet

typecheck: $(STAMP)
	$(BIN)/mypy --strict replicate_async
	$(BIN)/mypy --strict examples/browser_stream
	$(BIN)/mypy --strict benchmarks

# Three workers on two cores: a worker spends about a third of its time waiting (for the
# console script, an example, an official client or a model's emulated run), and a third
# worker fills that time; worksteal evens out the end of the run.
XDIST := -n 3 --dist worksteal

pytest: $(STAMP) $(CONFORMANCE_STAMP)
	$(BIN)/python -m pytest $(XDIST) -W error::ResourceWarning -q $(PYTEST_ARGS)

# The official clients' user scenarios against the emulator (also part of `make pytest`).
conformance: $(STAMP) $(CONFORMANCE_STAMP)
	$(BIN)/python -m pytest -W error::ResourceWarning -q tests/conformance $(PYTEST_ARGS)

# Replicate's browser streaming example on the embedded emulator: prints the URL to open.
browser-example: $(STAMP)
	$(BIN)/python -m examples.browser_stream --local

# The type check and a first collection of the tests (which caches their assertion-rewritten
# bytecode, see tests/conftest.py) run side by side: each uses one core.
test: lint
	$(MAKE) --no-print-directory -j2 typecheck collect-tests
	$(MAKE) --no-print-directory pytest

collect-tests: $(STAMP)
	@$(BIN)/python -m pytest --collect-only -q -p no:cacheprovider >$(VENV)/collect.log 2>&1 \
	  || { cat $(VENV)/collect.log; exit 1; }

# The suite five times in a row beside one busy process per core (scripts/loaded_runs.py).
test-loaded: $(STAMP) $(CONFORMANCE_STAMP)
	$(BIN)/python scripts/loaded_runs.py --runs 5 -- $(XDIST) $(PYTEST_ARGS)

# The test suite on every supported Python found on this machine, each in its own venv
# (.venv-3.10 …); PYTEST_ARGS narrows it (make test-all PYTEST_ARGS="tests/cli tests/batch").
# Ends with one line per version: passed, FAILED, or not installed.
SUPPORTED_PYTHONS := 3.10 3.11 3.12 3.13

test-all:
	@status=0; summary=""; \
	for v in $(SUPPORTED_PYTHONS); do \
	  py=""; for c in python$$v $${PYENV_ROOT:-$$HOME/.pyenv}/versions/$$v*/bin/python$$v; do \
	    if $$c -c "" >/dev/null 2>&1; then py=$$c; break; fi; done; \
	  if [ -z "$$py" ]; then summary="$$summary\n  python$$v: not installed"; continue; fi; \
	  venv=.venv-$$v; \
	  if [ ! -f $$venv/.installed ] || [ pyproject.toml -nt $$venv/.installed ]; then \
	    ( test -x $$venv/bin/python || $$py -m venv $$venv ) \
	    && $$venv/bin/python -m pip install --quiet --upgrade pip \
	    && $$venv/bin/python -m pip install --quiet -e '.[test]' \
	    && touch $$venv/.installed \
	    || { summary="$$summary\n  python$$v: FAILED (install)"; status=1; continue; }; \
	  fi; \
	  echo "== python$$v =="; \
	  if $$venv/bin/python -m pytest $(XDIST) -W error::ResourceWarning -q $(PYTEST_ARGS); then \
	    summary="$$summary\n  python$$v: passed"; \
	  else summary="$$summary\n  python$$v: FAILED"; status=1; fi; \
	done; \
	printf "test-all:$$summary\n"; exit $$status

# Every benchmark, then one table (figure, baseline from the same run, ratio, target) and
# benchmarks/results/summary.png; the official clients run from $(CONFORMANCE) for comparison.
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,cli,bench]'
	touch $(BENCH_STAMP)

bench: $(STAMP) $(BENCH_STAMP) $(CONFORMANCE_STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .venv-3.* .mypy_cache .pytest_cache .ruff_cache build *.egg-info
