"""The token-by-token loop both local backends share; the engine supplies two callables."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from copilot_lsp.backends.base import (
    BackendError,
    CancelToken,
    FinishReason,
    Generation,
    GenerationOptions,
    StopCheck,
)
from copilot_lsp.decoding.sampling import Sampler
from copilot_lsp.decoding.stopping import StopCriteria, cut_at_stop_text


@dataclass
class Decoded:
    text: str
    finish_reason: FinishReason
    tokens: list[int]
    mean_logprob: float | None

    def generation(
        self, prompt_tokens: int, reused: int, started: float, prefilled: float
    ) -> Generation:
        """The backend's answer; ``started`` and ``prefilled`` are perf_counter readings."""
        return Generation(
            text=self.text,
            finish_reason=self.finish_reason,
            prompt_tokens=prompt_tokens,
            reused_prompt_tokens=reused,
            completion_tokens=len(self.tokens),
            prefill_seconds=prefilled - started,
            decode_seconds=time.perf_counter() - prefilled,
            mean_logprob=self.mean_logprob,
        )


CANCELLED = Decoded("", "cancelled", [], None)
"""What a generation cancelled during the prefill decodes to."""


def start_decoding(
    options: GenerationOptions,
    cancel: CancelToken,
    stop_ids: Iterable[int],
    prompt_tokens: int,
    context_window: int,
    stop_check: StopCheck | None,
) -> tuple[Sampler, StopCriteria]:
    """The sampler and stop criteria of one generation; BackendError when the prompt leaves
    no room in the context or the options are invalid."""
    budget = min(options.max_new_tokens, context_window - prompt_tokens)
    if prompt_tokens == 0 or budget <= 0:
        raise BackendError(
            f"prompt of {prompt_tokens} tokens leaves no room in a {context_window}-token context"
        )
    try:
        sampler = Sampler(options)
        criteria = StopCriteria(
            options, cancel, set(stop_ids) | set(options.stop_token_ids), budget, stop_check
        )
    except ValueError as error:
        raise BackendError(f"invalid decoding options: {error}") from error
    return sampler, criteria


def decode(
    logits: np.ndarray,
    forward: Callable[[int], np.ndarray],
    token_bytes: Callable[[int], bytes],
    sampler: Sampler,
    criteria: StopCriteria,
    history: list[int],
) -> Decoded:
    """Sample until a stop criterion fires.

    ``logits`` are the prompt's next-token logits; ``forward(token)`` feeds one token to the
    model and returns the next logits; ``token_bytes`` detokenizes one token; ``history`` is
    the prompt's ids (the repetition penalty looks at it).
    """
    out = bytearray()
    tokens: list[int] = []
    logprobs: list[float] = []
    text = ""
    finish: FinishReason = "length"
    while True:
        # Stop before spending compute when the editor cancelled or the time is up.
        if (early := criteria.before_token()) is not None:
            finish = early
            break
        # Draw the next token from the warped distribution; remember its model log-prob.
        token, logprob = sampler(logits, history)
        # An end token ends the answer without becoming part of it.
        if criteria.is_stop_token(token):
            finish = "stop_token"
            break
        tokens.append(token)
        history.append(token)
        logprobs.append(logprob)
        out += token_bytes(token)
        text = out.decode("utf-8", errors="ignore")
        # Stop texts, the caller's criterion (a finished line or block) and the token budget.
        if (late := criteria.after_token(text, len(tokens))) is not None:
            finish = late
            break
        # Feed the token back to get the logits of the one after it.
        logits = forward(token)
    mean = sum(logprobs) / len(logprobs) if logprobs else None
    return Decoded(cut_at_stop_text(text, criteria.options.stop_texts), finish, tokens, mean)
