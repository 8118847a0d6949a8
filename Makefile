# The two commands of the README: `make run` and `make test`.
# Each finds a Python >= 3.12, makes .venv, installs collabsim, and does its job.
VENV := .venv
BIN := $(VENV)/bin
SEED ?= 1

.PHONY: run test ui validation lint clean
.DEFAULT_GOAL := run

$(BIN)/collabsim: pyproject.toml
	@PY=$$(sh tools/find-python) || exit 1; \
	  echo "Using $$PY ($$($$PY -V))"; \
	  [ -x $(BIN)/python ] || $$PY -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python tools/fetch-solara-assets
	@touch $@

## Run the Jakarta baseline: prints the summary, writes out/jakarta-baseline/
run: $(BIN)/collabsim
	$(BIN)/collabsim run scenarios/jakarta-baseline.toml --seed $(SEED) --out out/jakarta-baseline

## Open the browser app on http://127.0.0.1:8765
ui: $(BIN)/collabsim
	$(BIN)/collabsim ui

## Run every test (including ruff and mypy)
test: $(BIN)/collabsim
	$(BIN)/python -m pytest -q

## Regenerate docs/validation.md (verification, calibration, face validity): a few minutes
validation: $(BIN)/collabsim
	$(BIN)/python tools/validation-report

lint: $(BIN)/collabsim
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
