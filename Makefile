# The two commands a newcomer needs: `make plan STACK=ukdac-dev` and `make test`.
# Both build .venv from nothing when it is missing or when the dependency files changed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.ukdac-installed
STACK  ?= ukdac-dev
SRC    := components infra

.PHONY: venv plan test lint typecheck unit bench lock clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	@touch $@

venv: $(STAMP)

plan: $(STAMP)
	$(BIN)/ukdac plan $(STACK)

lint: $(STAMP)
	$(BIN)/ruff check $(SRC) policies tests bench
	$(BIN)/ruff format --check $(SRC) policies tests bench
	$(BIN)/actionlint .github/workflows/*.yml
	$(BIN)/zizmor --offline --quiet .github/workflows

typecheck: $(STAMP)
	$(BIN)/mypy $(SRC) policies

unit: $(STAMP)
	$(BIN)/pytest -q -m "not cloud"

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/plan.py

# Re-pin every dependency to what resolves today (review the diff before committing).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	.lock-venv/bin/python -m pip freeze --exclude-editable | sort > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
