"""The one small interface every inference engine implements."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity), the engines' default thread count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def common_prefix_length(first: Sequence[object], second: Sequence[object]) -> int:
    """How many leading items the two sequences share (KV-cache reuse, matched characters)."""
    count = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        count += 1
    return count


def model_bytes(text: str) -> bytes:
    """UTF-8 for a tokenizer. A lone surrogate (valid JSON, so possible in an editor's
    document) cannot be encoded; it becomes ``?`` rather than failing the request."""
    return text.encode("utf-8", errors="replace")


FinishReason = Literal["stop_token", "stop_check", "length", "cancelled", "time_budget"]


class BackendError(RuntimeError):
    """The engine could not load or run the model; the message is shown to the user."""


@dataclass(frozen=True)
class GenerationOptions:
    max_new_tokens: int = 128
    temperature: float = 0.0
    top_p: float = 0.95
    top_k: int = 40
    """0 disables top-k filtering."""
    stop_texts: tuple[str, ...] = ()
    """Markers that end generation when they appear as text (special tokens included)."""
    reuse_kv: bool = True
    """Keep the KV cache of the prompt prefix shared with the previous request (False: the
    naive baseline evaluates every prompt from scratch)."""
    repetition_penalty: float = 1.0
    """Above 1 discourages tokens already in the prompt or the answer (1 = off)."""
    seed: int | None = None
    """Fixes the sampling random stream (None: a fresh one per request)."""
    stop_token_ids: tuple[int, ...] = ()
    """Token ids that end generation, besides the model's end-of-text and the stop texts."""
    num_beams: int = 1
    """Beam search width (transformers only; others decode one beam)."""
    time_budget_s: float | None = None
    """Wall-clock budget for the whole request; generation stops when it is spent."""
    draft_tokens: int = 0
    """Greedy decoding checks up to this many tokens guessed from the prompt in one batch
    (prompt-lookup drafting; llama.cpp only; 0 = off); same answer up to rounding."""
    token_healing: bool = False
    """Drop the word (or else the token) the prompt ends in and let the model write it again,
    among tokens that agree with it (engines with ``heals_tokens``; others ignore it)."""


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
    mean_logprob: float | None = None
    """Mean log-probability of the generated tokens under the model (None: not known)."""


@dataclass
class CancelToken:
    """Set by the server when the editor cancels; engines check it between tokens."""

    _event: threading.Event = field(default_factory=threading.Event)
    finish_prompt: Callable[[], bool] | None = None
    """While this says True, a cancelled generation still evaluates the rest of its prompt
    (and then stops): the editor's next request shares most of it, and a large prompt
    cancelled a chunk at a time would never get into the KV cache. The model host says
    True while no other job waits for the model."""

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    @property
    def prompt_cancelled(self) -> bool:
        """Whether prompt evaluation should stop now."""
        if not self._event.is_set():
            return False
        return self.finish_prompt is None or not self.finish_prompt()

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True once cancelled."""
        return self._event.wait(timeout)


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


@dataclass
class BackendWrapper:
    """Base of backends that add something around another one (prompt building looks
    through ``inner`` for the model's tokenizer)."""

    inner: Backend

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def model_path(self) -> str:
        return self.inner.model_path

    def close(self) -> None:
        self.inner.close()


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
