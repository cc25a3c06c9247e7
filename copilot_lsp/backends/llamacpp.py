"""GGUF models through llama-cpp-python, on the CPU."""

from __future__ import annotations

import contextlib
import os
import time

import llama_cpp

from copilot_lsp.backends.base import (
    BackendError,
    CancelToken,
    FinishReason,
    Generation,
    GenerationOptions,
    StopCheck,
)

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

    def tokenize(self, text: str) -> list[int]:
        """Token ids without BOS, special markers as special tokens (TokenizingBackend)."""
        return self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def model_metadata(self) -> dict[str, str]:
        return {str(key): str(value) for key, value in self._llm.metadata.items()}

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
        started = time.perf_counter()
        reused, complete = self._prefill(tokens, cancel)
        prefilled = time.perf_counter()
        stop_ids = self._stop_ids(options.stop_texts)
        out = bytearray()
        text = ""
        produced = 0
        finish: FinishReason = "cancelled" if not complete else "length"
        if complete:
            stream = llm.generate(
                tokens,
                top_k=options.top_k if options.temperature > 0 else 1,
                top_p=options.top_p,
                min_p=0.0,
                temp=options.temperature,
                repeat_penalty=1.0,
                reset=True,
            )
            for token in stream:
                # One token sampled: stop on cancellation, an end token, a stop text or a
                # caller-supplied criterion (a finished line or block), else keep it.
                if cancel.cancelled:
                    finish = "cancelled"
                    break
                if token in stop_ids:
                    finish = "stop_token"
                    break
                out += llm.detokenize([token], special=True)
                produced += 1
                text = out.decode("utf-8", errors="ignore")
                if any(marker in text for marker in options.stop_texts):
                    finish = "stop_token"
                    break
                if stop_check is not None and stop_check(text):
                    finish = "stop_check"
                    break
                if produced >= budget:
                    break
            with contextlib.suppress(Exception):
                stream.close()
        for marker in options.stop_texts:
            text = text.split(marker, 1)[0]
        return Generation(
            text=text,
            finish_reason=finish,
            prompt_tokens=len(tokens),
            reused_prompt_tokens=reused,
            completion_tokens=produced,
            prefill_seconds=prefilled - started,
            decode_seconds=time.perf_counter() - prefilled,
        )

    def close(self) -> None:
        self._llm.close()
