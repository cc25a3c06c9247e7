"""The model an evaluation runs: a preset name or a GGUF path, loaded through llama.cpp."""

from __future__ import annotations

import sys
from pathlib import Path

from copilot_lsp.backends.base import Backend
from copilot_lsp.models import PRESETS

CONTEXT_WINDOW = 4096


def model_label(model: str) -> str:
    """A short name for output folders: the preset, ``oracle``, or the GGUF file's stem."""
    return model if model in (*PRESETS, "oracle") else Path(model).stem


def load_model(model: str, threads: int = 0) -> Backend:
    from copilot_lsp.backends import load_backend
    from copilot_lsp.models import resolve_model

    def progress(message: str) -> None:
        print(f"copilot-lsp eval: {message}", file=sys.stderr)

    return load_backend("llamacpp", str(resolve_model(model, progress)), CONTEXT_WINDOW, threads)
