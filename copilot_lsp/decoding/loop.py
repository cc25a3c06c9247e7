"""The token-by-token loop both local backends share; the engine supplies two callables."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
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
from copilot_lsp.decoding.healing import Healing
from copilot_lsp.decoding.sampling import Sampler
from copilot_lsp.decoding.stopping import StopCriteria, cut_at_stop_text


@dataclass(frozen=True)
class Speculation:
    """What an engine offers for drafted decoding (greedy only): ``draft(history)`` guesses
    the next tokens, ``forward_many(tokens)`` feeds several tokens in one batch and returns
    the next-token logits after each, ``discard(n)`` forgets the last n fed tokens."""

    draft: Callable[[Sequence[int]], list[int]]
    forward_many: Callable[[list[int]], np.ndarray]
    discard: Callable[[int], None]


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
    speculation: Speculation | None = None,
    healing: Healing | None = None,
) -> Decoded:
    """Sample until a stop criterion fires.

    ``logits`` are the prompt's next-token logits; ``forward(token)`` feeds one token to the
    model and returns the next logits; ``token_bytes`` detokenizes one token; ``history`` is
    the prompt's ids (the repetition penalty looks at it).

    With ``speculation`` and greedy decoding, each token fed comes with the drafted tokens
    that may follow it, in one batch; a drafted token is kept while it is what greedy
    decoding picks from the logits before it: the same answer in fewer passes, up to the
    rounding of batched passes (which can flip a near tie).

    With ``healing``, the first tokens must spell the prompt's dropped last token (see
    :mod:`copilot_lsp.decoding.healing`); the text returned starts after it.
    """
    out = bytearray()
    tokens: list[int] = []
    logprobs: list[float] = []
    text = ""
    finish: FinishReason = "length"
    drafted: list[int] = []
    drafted_logits: list[np.ndarray] = []
    """Tokens fed ahead on a guess, and the logits after each, not yet checked."""
    speculate = speculation if sampler.greedy else None
    healed = len(healing.pending) if healing is not None else 0
    while True:
        # Stop before spending compute when the editor cancelled or the time is up.
        if (early := criteria.before_token()) is not None:
            finish = early
            break
        # Draw the next token from the warped distribution; remember its model log-prob.
        if healing is not None and healing.active:
            logits = healing.constrain(logits)
        token, logprob = sampler(logits, history)
        # An end token ends the answer without becoming part of it.
        if criteria.is_stop_token(token):
            finish = "stop_token"
            break
        tokens.append(token)
        history.append(token)
        logprobs.append(logprob)
        piece = token_bytes(token)
        out += piece
        if healing is not None:
            healing.consume(piece)
        text = out[healed:].decode("utf-8", errors="ignore")
        # Stop texts, the caller's criterion (a finished line or block) and the token budget.
        if (late := criteria.after_token(text, len(tokens))) is not None:
            finish = late
            break
        if speculate is not None and drafted:
            if drafted[0] == token:  # a correct guess was fed already: next logits known
                drafted.pop(0)
                logits = drafted_logits.pop(0)
                continue
            speculate.discard(len(drafted))  # a wrong guess: forget it and all after it
            drafted, drafted_logits = [], []
        # Feed the token back (with a guess at what follows) to get the next logits.
        healing_now = healing is not None and healing.active
        if speculate is not None and not healing_now and (guess := speculate.draft(history)):
            rows = speculate.forward_many([token, *guess])
            logits, drafted, drafted_logits = rows[0], guess, list(rows[1:])
        else:
            logits = forward(token)
    mean = sum(logprobs) / len(logprobs) if logprobs else None
    return Decoded(cut_at_stop_text(text, criteria.options.stop_texts), finish, tokens, mean)
