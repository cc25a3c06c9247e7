"""Inference engines behind one Protocol, chosen by name. Only this package imports them."""

from __future__ import annotations

from copilot_lsp.backends.base import Backend, BackendError
from copilot_lsp.backends.openai_compat import RemoteOptions

BACKEND_NAMES = ("llamacpp", "transformers", "openai")
LOCAL_BACKENDS = ("llamacpp", "transformers")


def load_backend(
    name: str,
    model_path: str,
    context_window: int,
    threads: int,
    remote: RemoteOptions | None = None,
) -> Backend:
    """Create the engine ``name`` (imports it lazily).

    ``model_path`` is a GGUF file (llamacpp, transformers), a Hugging Face model directory
    (transformers) or the server's base URL (openai, configured further by ``remote``).
    """
    if name == "llamacpp":
        from copilot_lsp.backends.llamacpp import LlamaCppBackend

        return LlamaCppBackend(model_path, context_window=context_window, threads=threads)
    if name == "transformers":
        try:
            from copilot_lsp.backends.transformers import TransformersBackend
        except ImportError as error:
            message = f"the transformers backend needs torch and transformers: {error}"
            raise BackendError(message) from None
        return TransformersBackend(model_path, context_window=context_window, threads=threads)
    if name == "openai":
        from copilot_lsp.backends.openai_compat import OpenAICompatibleBackend

        return OpenAICompatibleBackend(model_path, remote or RemoteOptions())
    raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(BACKEND_NAMES)}")


__all__ = ["BACKEND_NAMES", "Backend", "BackendError", "RemoteOptions", "load_backend"]
