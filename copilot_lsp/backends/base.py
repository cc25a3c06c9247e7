"""The one small interface every inference engine implements."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

FinishReason = Literal["stop_token", "stop_check", "length", "cancelled"]


class BackendError(RuntimeError):
    """The engine could not load or run the model; the message is shown to the user."""


@dataclass(frozen=True)
class GenerationOptions:
    max_new_tokens: int = 128
    temperature: float = 0.0
    top_p: float = 0.95
    top_k: int = 40
    stop_texts: tuple[str, ...] = ()
    """Markers that end generation when they appear as text (special tokens included)."""


@dataclass
class Generation:
    text: str
    finish_reason: FinishReason
    prompt_tokens: int
    reused_prompt_tokens: int
    """Prompt tokens whose KV-cache entries were kept from the previous request."""
    completion_tokens: int
    prefill_seconds: float
    decode_seconds: float


@dataclass
class CancelToken:
    """Set by the server when the editor cancels; engines check it between tokens."""

    _event: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


StopCheck = Callable[[str], bool]
"""Called with the text generated so far; True ends generation (e.g. a finished line)."""


class Backend(Protocol):
    name: str
    model_path: str

    def generate(
        self,
        prompt: str,
        options: GenerationOptions,
        cancel: CancelToken,
        stop_check: StopCheck | None = None,
    ) -> Generation: ...

    def close(self) -> None: ...


@runtime_checkable
class TokenizingBackend(Protocol):
    """Optional extra of a backend: its tokenizer and model metadata.

    Prompt building uses them to pick the FIM template (one-token marker checks) and to
    count tokens for the budget; backends without them get the name-based template and
    estimated counts.
    """

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text``, special markers parsed as special tokens, no BOS."""
        ...

    def model_metadata(self) -> dict[str, str]:
        """Model metadata such as GGUF's ``general.name`` and ``general.architecture``."""
        ...
