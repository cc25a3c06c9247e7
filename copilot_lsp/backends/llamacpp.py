"""GGUF models through llama-cpp-python, on the CPU."""

from __future__ import annotations

import os
import time

import llama_cpp
import numpy as np

from copilot_lsp.backends.base import (
    BackendError,
    CancelToken,
    Generation,
    GenerationOptions,
    StopCheck,
)
from copilot_lsp.decoding.loop import Decoded, decode
from copilot_lsp.decoding.sampling import Sampler
from copilot_lsp.decoding.stopping import StopCriteria

_PREFILL_CHUNK = 64
"""Prompt tokens evaluated between two cancellation checks."""


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class LlamaCppBackend:
    name = "llamacpp"

    def __init__(self, model_path: str, context_window: int = 4096, threads: int = 0) -> None:
        self.model_path = model_path
        n_threads = threads or available_cores()
        try:
            self._llm = llama_cpp.Llama(
                model_path=model_path,
                n_ctx=context_window,
                n_batch=512,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as error:
            raise BackendError(f"llama.cpp could not load {model_path}: {error}") from error
        self.context_window = self._llm.n_ctx()
        self._stop_id_cache: dict[tuple[str, ...], frozenset[int]] = {}

    def count_tokens(self, text: str) -> int:
        return len(self._tokenize(text))

    def _tokenize(self, text: str) -> list[int]:
        return self._llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)

    def _prefill(self, tokens: list[int], cancel: CancelToken) -> tuple[int, bool]:
        """Evaluate the prompt, keeping the KV cache for the prefix shared with the last one.

        Returns how many tokens were reused and whether the prompt was fully evaluated.
        """
        llm = self._llm
        shared = 0
        for cached, new in zip(llm._input_ids, tokens, strict=False):
            if cached != new:
                break
            shared += 1
        # Always evaluate at least the last prompt token so that its logits are fresh.
        reuse = min(shared, len(tokens) - 1)
        if reuse > 0 and llm._ctx.kv_cache_seq_rm(-1, reuse, -1):
            llm.n_tokens = reuse
        else:
            llm.reset()
            reuse = 0
        for start in range(llm.n_tokens, len(tokens), _PREFILL_CHUNK):
            if cancel.cancelled:
                return reuse, False
            llm.eval(tokens[start : start + _PREFILL_CHUNK])
        return reuse, True

    def _stop_ids(self, stop_texts: tuple[str, ...]) -> frozenset[int]:
        """End-of-text plus every stop text that is a single token (cached per tuple)."""
        if stop_texts not in self._stop_id_cache:
            llm = self._llm
            self._stop_id_cache[stop_texts] = frozenset({llm.token_eos()}) | {
                ids[0]
                for marker in stop_texts
                if len(ids := llm.tokenize(marker.encode(), add_bos=False, special=True)) == 1
            }
        return self._stop_id_cache[stop_texts]

    def _last_logits(self) -> np.ndarray:
        """Next-token logits after the latest ``eval`` (a copy: llama.cpp reuses the buffer)."""
        llm = self._llm
        return np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).copy()

    def _forward(self, token: int) -> np.ndarray:
        self._llm.eval([token])
        return self._last_logits()

    def reset_cache(self) -> None:
        """Forget the KV cache (benchmarks compare with and without reuse)."""
        self._llm.reset()

    def generate(
        self,
        prompt: str,
        options: GenerationOptions,
        cancel: CancelToken,
        stop_check: StopCheck | None = None,
    ) -> Generation:
        llm = self._llm
        tokens = self._tokenize(prompt)
        budget = min(options.max_new_tokens, self.context_window - len(tokens))
        if budget <= 0:
            raise BackendError(
                f"prompt of {len(tokens)} tokens leaves no room in a {self.context_window}-token "
                "context"
            )
        try:
            sampler = Sampler(options)
            criteria = StopCriteria(
                options,
                cancel,
                self._stop_ids(options.stop_texts) | set(options.stop_token_ids),
                budget,
                stop_check,
            )
        except ValueError as error:
            raise BackendError(f"invalid decoding options: {error}") from error
        started = time.perf_counter()
        reused, complete = self._prefill(tokens, cancel)
        prefilled = time.perf_counter()
        if not complete:
            decoded = Decoded("", "cancelled", [], None)
        else:
            decoded = decode(
                self._last_logits(),
                self._forward,
                lambda token: llm.detokenize([token], special=True),
                sampler,
                criteria,
                list(tokens),
            )
        return Generation(
            text=decoded.text,
            finish_reason=decoded.finish_reason,
            prompt_tokens=len(tokens),
            reused_prompt_tokens=reused,
            completion_tokens=len(decoded.tokens),
            prefill_seconds=prefilled - started,
            decode_seconds=time.perf_counter() - prefilled,
            mean_logprob=decoded.mean_logprob,
        )

    def close(self) -> None:
        self._llm.close()
