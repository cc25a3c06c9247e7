"""Answers that need no model call: an LRU cache of generations and typing-through.

- :class:`GenerationCache` keys a model's raw answer by everything that determines it: the
  exact prompt (whatever went into it: cursor window, cross-file context), the model and the
  decoding options. :class:`CachingBackend` puts it in front of any backend, so the cache
  works whatever builds the prompt. Post-processing re-runs on a hit (it is cheap and pure).
- :class:`TypingThrough` ("forwarding" in Tabby): while the user types characters that
  match the start of the suggestion shown, or accepts part of it, the rest of that same
  suggestion is the answer, at once.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import astuple, dataclass, replace

from copilot_lsp.backends.base import (
    Backend,
    BackendWrapper,
    CancelToken,
    Generation,
    GenerationOptions,
    StopCheck,
)

CacheKey = tuple[str, str, str, tuple[object, ...]]


def cache_key(prompt: str, backend: Backend, options: GenerationOptions) -> CacheKey:
    """The prompt's digest, the engine, the model file and the decoding options."""
    digest = hashlib.sha256(prompt.encode("utf-8", "surrogatepass")).hexdigest()
    return (digest, backend.name, backend.model_path, astuple(options))


class GenerationCache:
    """A thread-safe LRU of finished generations (the model thread writes, the event loop
    may read)."""

    def __init__(self, capacity: int = 256) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._entries: OrderedDict[CacheKey, Generation] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: CacheKey) -> Generation | None:
        with self._lock:
            generation = self._entries.get(key)
            if generation is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return generation

    def put(self, key: CacheKey, generation: Generation) -> None:
        with self._lock:
            self._entries[key] = generation
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


@dataclass
class CachingBackend(BackendWrapper):
    """A backend that answers repeated prompts from a :class:`GenerationCache`.

    Cancelled generations are not stored (they are cut short); the stop check is not part of
    the key because it is derived from the same editor state as the prompt.
    """

    cache: GenerationCache
    last_was_hit: bool = False
    misses: int = 0
    """Generations that had to run on the inner backend (0: the cache answered everything)."""

    def generate(
        self,
        prompt: str,
        options: GenerationOptions,
        cancel: CancelToken,
        stop_check: StopCheck | None = None,
    ) -> Generation:
        key = cache_key(prompt, self.inner, options)
        cached = self.cache.get(key)
        self.last_was_hit = cached is not None
        if cached is not None:
            # Nothing was computed this time.
            return replace(cached, prefill_seconds=0.0, decode_seconds=0.0)
        self.misses += 1
        generation = self.inner.generate(prompt, options, cancel, stop_check)
        if generation.finish_reason != "cancelled" and not cancel.cancelled:
            self.cache.put(key, generation)
        return generation


@dataclass(frozen=True)
class Shown:
    """A suggestion the editor is showing: the state it was made for and its text."""

    suggestion_id: str
    prefix: str
    suffix: str
    text: str


@dataclass(frozen=True)
class Forwarded:
    text: str
    """What is left of the suggestion after what the user typed or accepted."""
    shown: Shown
    """The suggestion it comes from."""

    @property
    def suggestion_id(self) -> str:
        return self.shown.suggestion_id


_CLOSERS = ")]}\"'`"


class TypingThrough:
    """Remembers the suggestions shown per document and answers a later state that only
    typed (or accepted) the start of one of them."""

    def __init__(self, per_document: int = 4) -> None:
        self.per_document = per_document
        self._shown: dict[str, list[Shown]] = {}

    def remember(self, uri: str, shown: Shown) -> None:
        entries = [entry for entry in self._shown.get(uri, []) if entry != shown]
        self._shown[uri] = [shown, *entries][: self.per_document]

    def forget(self, uri: str) -> None:
        self._shown.pop(uri, None)

    def clear(self) -> None:
        self._shown.clear()

    def lookup(
        self, uri: str, prefix: str, suffix: str, same_state: bool = False
    ) -> Forwarded | None:
        """``same_state``: also answer the very state a suggestion was made for (nothing
        typed yet), as after Enter on a line whose suggestion was precomputed."""
        for entry in self._shown.get(uri, []):
            rest = forward(entry, prefix, suffix, same_state)
            if rest is not None:
                return Forwarded(rest, entry)
        return None


def forward(shown: Shown, prefix: str, suffix: str, same_state: bool = False) -> str | None:
    """The rest of ``shown`` for the editor state (prefix, suffix), or None when that state
    is not ``shown``'s state plus a typed start of it (or, with ``same_state``, its state).

    The suffix must be the same, except for closing brackets or quotes the editor
    auto-inserted while the user typed. Those sit right of the cursor, so the rest is then
    only its first line: accepting more lines would push them to the end of the block.
    Post-processing after the cache removes them from that line (or cuts it before them).
    """
    if len(prefix) < len(shown.prefix) + (not same_state) or not prefix.startswith(shown.prefix):
        return None
    typed = prefix[len(shown.prefix) :]
    if not shown.text.startswith(typed) or len(typed) >= len(shown.text):
        return None
    rest = shown.text[len(typed) :]
    if suffix == shown.suffix:
        return rest
    extra = suffix[: len(suffix) - len(shown.suffix)]
    if not suffix.endswith(shown.suffix) or not extra or extra.strip(_CLOSERS):
        return None
    line = rest.split("\n", 1)[0]
    return line if line.strip() else None
