# The two commands of the README: `make run` and `make test`.
# Each finds a Python >= 3.12, makes .venv, installs collabsim, and does its job.
VENV := .venv
BIN := $(VENV)/bin
SEED ?= 1

.PHONY: run test ui validation lint clean
.DEFAULT_GOAL := run

$(BIN)/collabsim: pyproject.toml tools/fetch-solara-assets
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

## Run every test (including ruff, mypy and the real-browser tests, which need Debian's
## chromium: installed here when run as root, else the command to install it is shown)
test: $(BIN)/collabsim
ifeq ($(SKIP_BROWSER),1)
	@echo "SKIP_BROWSER=1: the browser tests are NOT run"
	$(BIN)/python -m pytest -q -m "not browser"
else
	@sh tools/ensure-chromium
	$(BIN)/python -m pytest -q
endif

## Regenerate docs/validation.md (verification, calibration, face validity): a few minutes
validation: $(BIN)/collabsim
	$(BIN)/python tools/validation-report

lint: $(BIN)/collabsim
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
