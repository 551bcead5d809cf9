# goldenchain: the two commands of the README.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test check clean

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,postgres]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/goldenchain demo --out demo-out

check: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: check
	scripts/test.sh

clean:
	rm -rf $(VENV) demo-out .pytest_cache .mypy_cache .ruff_cache
