# goldenchain: the two commands of the README.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test check docs clean

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,postgres,local]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/goldenchain demo --out demo-out

check: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# the manual: built with warnings as errors (its reference pages are generated from the code)
docs: install
	@d=$$(mktemp -d) && NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir $$d; \
	rc=$$?; rm -rf $$d; exit $$rc

test: check docs
	scripts/test.sh

clean:
	rm -rf $(VENV) demo-out .pytest_cache .mypy_cache .ruff_cache
