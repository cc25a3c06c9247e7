"""Inference engines behind one Protocol, chosen by name. Only this package imports them."""

from __future__ import annotations

from copilot_lsp.backends.base import Backend, BackendError


def load_backend(name: str, model_path: str, context_window: int, threads: int) -> Backend:
    """Create the engine ``name`` for ``model_path`` (imports the engine lazily)."""
    if name == "llamacpp":
        from copilot_lsp.backends.llamacpp import LlamaCppBackend

        return LlamaCppBackend(model_path, context_window=context_window, threads=threads)
    raise BackendError(f"unknown backend {name!r}")
