"""GGUF models through llama-cpp-python, on the CPU."""

from __future__ import annotations

import ctypes
import os
import time
from collections import OrderedDict
from collections.abc import Sequence

import llama_cpp
import numpy as np

from copilot_lsp.backends.base import (
    BackendError,
    CancelToken,
    Generation,
    GenerationOptions,
    StopCheck,
    available_cores,
    common_prefix_length,
    model_bytes,
)
from copilot_lsp.decoding.healing import VocabularyIndex, heal
from copilot_lsp.decoding.lookup import prompt_lookup
from copilot_lsp.decoding.loop import CANCELLED, Speculation, decode, start_decoding

_PREFILL_CHUNK = 32
"""Prompt tokens evaluated between two cancellation checks."""

_SNAPSHOT_MIN_TOKENS = 256
"""A KV cache is kept aside only when a new prompt would drop at least this many of its
tokens, and brought back only when that saves evaluating at least this many (~3 s with the
1.5B model on 2 cores, against a few milliseconds to copy it back)."""
_SNAPSHOTS = 4
"""KV caches kept aside, least recently used dropped first (~30 KB a token, 1.5B model)."""


class KvSnapshots:
    """KV caches of earlier prompts, kept in memory so that going back to a file does not
    evaluate its whole prompt again: llama.cpp keeps one cache, and a prompt from another
    file shares almost nothing with it."""

    def __init__(self, llm: llama_cpp.Llama) -> None:
        self._llm = llm
        self._kept: OrderedDict[tuple[int, ...], ctypes.Array[ctypes.c_uint8]] = OrderedDict()

    def switch(self, tokens: Sequence[int], shared: int) -> int:
        """Before evaluating ``tokens``, of which ``shared`` are cached: keep the cache
        aside if most of it would be lost, and bring back a kept one that shares far more
        with ``tokens``. Returns how many of ``tokens`` the cache now holds."""
        llm = self._llm
        if llm.n_tokens - shared >= _SNAPSHOT_MIN_TOKENS:
            self._keep()
        if len(tokens) - shared < _SNAPSHOT_MIN_TOKENS:
            return shared  # (a keystroke's prompt: nothing kept could save enough)
        best, best_shared = None, shared
        for key in self._kept:
            common = common_prefix_length(key, tokens)
            if common > best_shared:
                best, best_shared = key, common
        if best is None or best_shared - shared < _SNAPSHOT_MIN_TOKENS:
            return shared
        state = self._kept.pop(best)
        llm._ctx.kv_cache_seq_rm(-1, 0, -1)
        if llama_cpp.llama_state_seq_set_data(llm._ctx.ctx, state, len(state), 0) == 0:
            llm.reset()
            return 0
        llm.input_ids[: len(best)] = best
        llm.n_tokens = len(best)
        return best_shared

    def _keep(self) -> None:
        llm = self._llm
        size = llama_cpp.llama_state_seq_get_size(llm._ctx.ctx, 0)
        state = (ctypes.c_uint8 * size)()
        if llama_cpp.llama_state_seq_get_data(llm._ctx.ctx, state, size, 0) != size:
            return
        key = tuple(int(token) for token in llm._input_ids)
        self._kept[key] = state
        self._kept.move_to_end(key)
        while len(self._kept) > _SNAPSHOTS:
            self._kept.popitem(last=False)

    def clear(self) -> None:
        self._kept.clear()


BACKGROUND_NICE = 10
"""Processes at this niceness or above get a tenth of a core against ours: not counted."""


def _running_threads_of_others() -> int | None:
    """Threads of other processes that are running or runnable now (state R in
    /proc/PID/task/TID/stat), niced background work aside; None where /proc cannot be
    read (not Linux)."""
    own = str(os.getpid())
    try:
        pids = [pid for pid in os.listdir("/proc") if pid.isdigit() and pid != own]
    except OSError:
        return None
    count = 0
    for pid in pids:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue  # the process ended meanwhile
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat", "rb") as stat_file:
                    stat = stat_file.read()
            except OSError:
                continue
            # Fields after the command name (which may contain anything): state first,
            # nice 17th. Niced work (the eval's sandboxed tests run at nice 10) yields its
            # core to us, so it does not count.
            fields = stat[stat.rfind(b")") + 2 :].split()
            count += fields[0] == b"R" and int(fields[16]) < BACKGROUND_NICE
    return count


def runnable_elsewhere() -> int | None:
    """Threads outside this process that want a CPU right now; None where it cannot be
    read. The least of two scans, a few milliseconds apart, filters out short blips.

    (The run-queue length in /proc/loadavg counted one or two threads too many on some
    virtual machines, with nothing else running: llama.cpp then ran on half the cores.)
    """
    counts = []
    for attempt in range(2):
        count = _running_threads_of_others()
        if count is None:
            return None
        counts.append(count)
        if attempt == 0:
            time.sleep(0.002)
    return min(counts)


def threads_for_now(cores: int, busy: int | None) -> int:
    """llama.cpp's worker threads wait for each other at every step: one thread that
    loses its core to another process stalls them all (measured here: a 0.5B prompt of
    278 tokens took 63 s on 2 threads against 4 s on 1 while other jobs ran). So use only
    the cores that nothing else wants."""
    return cores if busy is None else max(1, cores - busy)


class LlamaCppBackend:
    name = "llamacpp"
    heals_tokens = True

    def __init__(self, model_path: str, context_window: int = 4096, threads: int = 0) -> None:
        self.model_path = model_path
        self._auto_threads = threads == 0
        self._cores = n_threads = threads or available_cores()
        self._threads_now = n_threads
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
        self._snapshots = KvSnapshots(self._llm)
        self._stop_id_cache: dict[tuple[str, ...], frozenset[int]] = {}
        # Built with the model (~0.7 s for a 150k vocabulary) rather than in the time of
        # the first completion that heals its prompt.
        self._vocabulary = VocabularyIndex(
            [self._llm.detokenize([token], special=False) for token in range(self._llm.n_vocab())]
        )

    def count_tokens(self, text: str) -> int:
        return len(self._tokenize(text))

    def tokenize(self, text: str) -> list[int]:
        """Token ids without BOS, special markers as special tokens (TokenizingBackend)."""
        return self._llm.tokenize(model_bytes(text), add_bos=False, special=True)

    def model_metadata(self) -> dict[str, str]:
        return {str(key): str(value) for key, value in self._llm.metadata.items()}

    def _tokenize(self, text: str) -> list[int]:
        return self._llm.tokenize(model_bytes(text), add_bos=True, special=True)

    def _prefill(
        self, tokens: list[int], cancel: CancelToken, reuse_kv: bool = True
    ) -> tuple[int, bool]:
        """Evaluate the prompt, keeping the KV cache for the prefix shared with the last one
        (unless ``reuse_kv`` is off: the naive baseline starts from scratch every time).

        Returns how many tokens were reused and whether the prompt was fully evaluated.
        """
        llm = self._llm
        shared = 0
        if reuse_kv:
            shared = self._snapshots.switch(tokens, common_prefix_length(llm._input_ids, tokens))
        # Always evaluate at least the last prompt token so that its logits are fresh.
        reuse = min(shared, len(tokens) - 1)
        if reuse > 0 and llm._ctx.kv_cache_seq_rm(-1, reuse, -1):
            llm.n_tokens = reuse
        else:
            llm.reset()
            reuse = 0
        for start in range(llm.n_tokens, len(tokens), _PREFILL_CHUNK):
            if cancel.prompt_cancelled:
                return reuse, False
            llm.eval(tokens[start : start + _PREFILL_CHUNK])
        return reuse, not cancel.cancelled

    def _pick_threads(self) -> None:
        if not self._auto_threads:
            return
        wanted = threads_for_now(self._cores, runnable_elsewhere())
        if wanted != self._threads_now:
            self._llm._ctx.set_n_threads(wanted, wanted)
            self._threads_now = wanted

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

    def _forward_many(self, tokens: list[int]) -> np.ndarray:
        """Feed ``tokens`` in one batch; the next-token logits after each (one row each)."""
        llm = self._llm
        n_past = llm.n_tokens
        llm._ctx.kv_cache_seq_rm(-1, n_past, -1)
        llm._batch.set_batch(batch=tokens, n_past=n_past, logits_all=True)
        llm._ctx.decode(llm._batch)
        llm.input_ids[n_past : n_past + len(tokens)] = tokens
        llm.n_tokens += len(tokens)
        rows = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(len(tokens), llm.n_vocab()))
        return rows.copy()

    def _discard(self, count: int) -> None:
        llm = self._llm
        llm.n_tokens -= count
        llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)

    def _speculation(self, draft_tokens: int) -> Speculation | None:
        if draft_tokens <= 0:
            return None

        def draft(history: Sequence[int]) -> list[int]:
            room = self.context_window - self._llm.n_tokens - 1
            return prompt_lookup(history, min(draft_tokens, room))

        return Speculation(draft, self._forward_many, self._discard)

    def reset_cache(self) -> None:
        """Forget the KV cache (benchmarks compare with and without reuse)."""
        self._llm.reset()
        self._snapshots.clear()

    def generate(
        self,
        prompt: str,
        options: GenerationOptions,
        cancel: CancelToken,
        stop_check: StopCheck | None = None,
    ) -> Generation:
        llm = self._llm
        tokens = self._tokenize(prompt)
        healing = None
        if options.token_healing:
            tokens, healing = heal(tokens, self._vocabulary)
        sampler, criteria = start_decoding(
            options,
            cancel,
            self._stop_ids(options.stop_texts),
            len(tokens),
            self.context_window,
            stop_check,
        )
        started = time.perf_counter()
        self._pick_threads()
        reused, complete = self._prefill(tokens, cancel, options.reuse_kv)
        prefilled = time.perf_counter()
        if not complete:
            decoded = CANCELLED
        else:
            decoded = decode(
                self._last_logits(),
                self._forward,
                lambda token: llm.detokenize([token], special=True),
                sampler,
                criteria,
                list(tokens),
                self._speculation(options.draft_tokens),
                healing,
            )
        return decoded.generation(len(tokens), reused, started, prefilled)

    def close(self) -> None:
        self._llm.close()
