"""The request flow of inline completion, between the LSP handler and :func:`complete`.

For each request, in order:

1. a newer request for the same document supersedes the older ones (a debouncing one
   gives up, a running generation is cancelled between tokens);
2. **typing-through**: if the user typed or accepted the start of the suggestion shown,
   the rest of it is the answer, with no model call;
3. automatic triggers wait a short, adaptive delay (about one and a half keystroke
   intervals of the user's recent typing, at most ``debounceMs``); invoked ones never wait;
4. the model runs through the generation cache (a repeated prompt costs nothing);
5. once a suggestion is shown, the one for the next line (the state after accepting it
   and pressing Enter) is computed in idle time and kept for typing-through, so the next
   line's ghost text is there as soon as the user starts it; a request that needs the
   model cancels it (``precompute``).

An automatic request's generation runs to its end even when the editor cancels the
request (it does so at the next keystroke) and its suggestion is kept for typing-through;
a newer request whose state only typed on from it waits for it while what the model wrote
agrees with what the user typed, rather than starting over. And when the model writes a
block, the request answers with its first line as soon as that line is finished: the rest
is written meanwhile and follows by typing-through.

Every answer is logged to the local usage log (source, latency, sizes; no text unless
opted in), as are the accept/reject signals the editor sends back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import statistics
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from copilot_lsp.backends.base import (
    Backend,
    BackendWrapper,
    CancelToken,
    Generation,
    GenerationOptions,
    StopCheck,
)
from copilot_lsp.cache import CachingBackend, Forwarded, GenerationCache, Shown, TypingThrough
from copilot_lsp.config import Settings, generation_options
from copilot_lsp.context.engine import ContextEngine
from copilot_lsp.features.inline_completion import (
    AUTOMATIC_BUDGET,
    DEFAULT_BUDGET,
    CompletionRequest,
    CompletionResult,
    complete,
    first_line_so_far,
    split_line,
)
from copilot_lsp.features.next_line import after_enter
from copilot_lsp.postprocess import after_cache
from copilot_lsp.usage import UsageLog

log = logging.getLogger(__name__)
T = TypeVar("T")
LOAD_POLL_SECONDS = 0.05
"""How often a request that arrived during the model load looks whether it is done."""

Source = Literal["model", "cache", "typing", "none", "superseded", "not-ready"]

_TYPING_WINDOW = 6
"""Recent automatic requests per document that the adaptive debounce looks at."""
_BURST_SECONDS = 1.0
"""Intervals longer than this are pauses, not typing."""
PRECOMPUTE_MAX_TOKENS = 48
"""A precomputed next line is one line: it rarely needs more tokens."""
_PRECOMPUTE_IDLE_SECONDS = 0.05
"""How long the next line's precompute waits for the editor to go quiet."""
_WAIT_MAX_TYPED = 80
"""A running generation is worth waiting for while the user typed at most this many
characters since its state."""
_WATCH_SECONDS = 0.02
"""How often a request waiting for an earlier state's generation checks what it wrote."""


class ModelRunner(Protocol):
    """What the service needs from the model host."""

    state: str

    async def run(self, work: Callable[[Backend, CancelToken], T]) -> T: ...


@dataclass(frozen=True)
class Suggestion:
    suggestion_id: str
    text: str


@dataclass
class ServiceResult:
    suggestions: list[Suggestion]
    source: Source
    seconds: float
    completion: CompletionResult | None = None

    @property
    def text(self) -> str:
        return self.suggestions[0].text if self.suggestions else ""


@dataclass
class Progress:
    """The text a running generation has produced so far (written by the model thread)."""

    text: str = ""
    ending: bool = False
    """The stop check said the answer is complete at ``text`` (set before ``text``)."""
    markers: tuple[str, ...] = ()
    """The generation's stop texts (the prompt template's markers among them)."""


@dataclass
class WatchedBackend(BackendWrapper):
    """A backend whose generation's text so far can be read while it runs."""

    progress: Progress

    def generate(
        self,
        prompt: str,
        options: GenerationOptions,
        cancel: CancelToken,
        stop_check: StopCheck | None = None,
    ) -> Generation:
        def watch(text: str) -> bool:
            ending = stop_check is not None and stop_check(text)
            self.progress.ending = ending
            self.progress.text = text
            return ending

        self.progress.markers = options.stop_texts
        return self.inner.generate(prompt, options, cancel, watch)


@dataclass
class _Running:
    """The generation running for a document and the editor state it is for."""

    task: asyncio.Task[tuple[CompletionResult, bool, list[Suggestion]]]
    prefix: str
    suffix: str
    progress: Progress
    orphaned: bool = False
    """No request waits for it any more (the editor cancelled, or its first line was
    answered early): a request elsewhere needs the model more."""

    def may_answer(self, prefix: str, suffix: str) -> bool:
        """Whether this generation may answer ``(prefix, suffix)`` by typing-through: that
        state is this one plus a few typed characters, and what the model wrote so far
        agrees with them (nothing written yet: still reading its prompt, not worth it)."""
        typed = prefix[len(self.prefix) :]
        if not 0 < len(typed) <= _WAIT_MAX_TYPED or not prefix.startswith(self.prefix):
            return False
        if not suffix.endswith(self.suffix):
            return False
        written, typed = self.progress.text.lstrip(), typed.lstrip()
        return bool(written) and (written.startswith(typed) or typed.startswith(written))


@dataclass
class _Document:
    sequence: int = 0
    """Increments per request; a request that is no longer the newest gives up."""
    running: _Running | None = None
    typed_at: deque[float] = field(default_factory=lambda: deque(maxlen=_TYPING_WINDOW))
    pending: str | None = None
    """The id of the suggestion shown last and neither accepted nor rejected yet."""
    precomputed: str | None = None
    """The id of the suggestion whose next line was precomputed last."""
    window_start: int | None = None
    """The line the last automatic prompt's window started on (kept while it fits, so
    the KV cache keeps serving the start of the prompt)."""


def adaptive_delay(times: list[float], longest: float) -> float:
    """The debounce for the next automatic request, from the times of the recent ones.

    While the user types steadily, wait a little longer than their keystroke interval (the
    next key would supersede the request anyway); after a pause, a third of ``longest``.
    """
    if longest <= 0:
        return 0.0
    intervals = [b - a for a, b in itertools.pairwise(times) if 0 < b - a < _BURST_SECONDS]
    if not intervals:
        return longest / 3
    return min(longest, 1.5 * statistics.median(intervals))


class CompletionService:
    def __init__(
        self,
        model: ModelRunner,
        usage: UsageLog | None = None,
        context: ContextEngine | None = None,
        clock: Callable[[], float] = time.monotonic,
        cache_capacity: int = 256,
    ) -> None:
        self.model = model
        self.usage = usage or UsageLog(enabled=False)
        self.context = context
        """Cross-file context for the prompts; None keeps them to the local window."""
        self.clock = clock
        self.cache = GenerationCache(cache_capacity)
        self.typing = TypingThrough()
        self.last_generation: dict[str, Any] | None = None
        """How the latest model call ended (shown by copilot/status)."""
        self._documents: dict[str, _Document] = {}
        self._precompute: asyncio.Task[None] | None = None
        self._precompute_uri = ""
        self.counts: dict[str, int] = {}
        """Requests per answer source since start."""
        self.model_calls = 0
        """Generations that ran on the model for a request (cache hits excluded)."""
        self.precompute_calls = 0
        """Generations that ran on the model to precompute a next line."""
        self._closed = False
        self._epoch = 0
        """Counts resets: a generation that started before one keeps nothing it wrote."""

    # --- the request ---------------------------------------------------------------------

    async def complete(
        self,
        uri: str,
        prefix: str,
        suffix: str,
        invoked: bool,
        settings: Settings,
        language: str = "",
    ) -> ServiceResult:
        started = self.clock()
        if settings.naive_baseline:
            settings = dataclasses.replace(settings, cache=False, typing_through=False)
        document = self._documents.setdefault(uri, _Document())
        document.sequence += 1
        sequence = document.sequence
        if not invoked:
            document.typed_at.append(started)

        # An invoked request in the very state of a shown suggestion asks for alternatives.
        forwarded = (
            self.typing.lookup(uri, prefix, suffix, same_state=not invoked)
            if settings.typing_through
            else None
        )
        self._settle_pending(uri, document, forwarded.suggestion_id if forwarded else None)
        answer = self._typed_through(
            uri, document, forwarded, prefix, suffix, started, invoked, language
        )
        if answer is not None and forwarded is not None:
            self._precompute_next_line(uri, document, forwarded.shown, settings, language)
            return answer

        if not invoked:
            delay = adaptive_delay(list(document.typed_at), settings.debounce_ms / 1000)
            if delay > 0:
                await asyncio.sleep(delay)
            if document.sequence != sequence:
                return self._finish(started, [], "superseded")
        # While the model loads, the latest request waits for it: an empty answer now would
        # leave the editor without ghost text until the next keystroke.
        while self.model.state == "loading":
            await asyncio.sleep(LOAD_POLL_SECONDS)
            if document.sequence != sequence:
                return self._finish(started, [], "superseded")
        if self.model.state != "ready":
            return self._finish(started, [], "not-ready")

        self._stop_precompute()  # the model thread is needed now
        running = document.running
        if running is not None and not running.task.done():
            if settings.typing_through and not invoked:
                # Wait while what the model writes agrees with what the user typed.
                while running.may_answer(prefix, suffix) and not running.task.done():
                    await asyncio.wait({running.task}, timeout=_WATCH_SECONDS)
                if document.sequence != sequence:
                    return self._finish(started, [], "superseded")
                forwarded = self.typing.lookup(uri, prefix, suffix)
                answer = self._typed_through(
                    uri, document, forwarded, prefix, suffix, started, invoked, language
                )
                if answer is not None and forwarded is not None:
                    self._precompute_next_line(uri, document, forwarded.shown, settings, language)
                    return answer
            running.task.cancel()  # superseded: stops its generation between tokens
        for other in self._documents.values():
            if other.running is not None and other.running.orphaned:
                other.running.task.cancel()
        # An automatic request's generation outlives the editor's cancel (see the top).
        keep_going = settings.typing_through and not invoked
        progress = Progress()
        task = asyncio.ensure_future(
            self._generate(
                uri,
                prefix,
                suffix,
                self._work(uri, prefix, suffix, invoked, settings, language, progress=progress),
            )
        )
        running = document.running = _Running(task, prefix, suffix, progress)
        try:
            early = await self._first_line(task, progress, prefix, suffix) if keep_going else ""
            if early:
                if document.sequence != sequence:
                    return self._finish(started, [], "superseded")
                self._orphan(running)
                running.task.add_done_callback(
                    lambda _: self._precompute_after_block(
                        running, uri, document, settings, language
                    )
                )
                shown = Shown(uuid.uuid4().hex[:16], prefix, suffix, early)
                return self._answer_early(uri, document, shown, started, language)
            completion, from_cache, suggestions = await (
                asyncio.shield(task) if keep_going else task
            )
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                self._orphan(running)
                raise  # the editor cancelled this request
            return self._finish(started, [], "superseded")
        if document.sequence != sequence:
            return self._finish(started, [], "superseded", completion)
        if not suggestions:
            result = self._finish(started, [], "none", completion)
        else:
            source: Source = "cache" if from_cache else "model"
            result = self._finish(started, suggestions, source, completion)
            document.pending = suggestions[0].suggestion_id
            shown = Shown(suggestions[0].suggestion_id, prefix, suffix, suggestions[0].text)
            self._precompute_next_line(uri, document, shown, settings, language)
        self._log(uri, result, invoked, language)
        return result

    async def _first_line(
        self,
        task: asyncio.Task[Any],
        progress: Progress,
        prefix: str,
        suffix: str,
    ) -> str:
        """The first line of ``task``'s answer as soon as the model finished that line while
        it goes on writing more (a block: the rest follows by typing-through once it is
        written); "" when there is none to show before the task is done."""
        seen = ""
        while not task.done():
            await asyncio.wait({task}, timeout=_WATCH_SECONDS)
            if progress.text != seen and not task.done():
                seen = progress.text
                if progress.ending:
                    continue  # the whole answer is there: it comes with the task
                line = first_line_so_far(seen, prefix, suffix, progress.markers)
                if line is not None:
                    return line  # decided once the line is finished ("": wait for all)
        return ""

    @staticmethod
    def _orphan(running: _Running) -> None:
        """The request stops waiting for its generation, which goes on."""
        running.orphaned = True
        running.task.add_done_callback(_log_failure)

    def _precompute_after_block(
        self, running: _Running, uri: str, document: _Document, settings: Settings, language: str
    ) -> None:
        """Once a block answered by its first line is written, compute the line after it."""
        task = running.task
        if task.cancelled() or task.exception() is not None or uri not in self._documents:
            return
        _, _, suggestions = task.result()
        if suggestions:
            first = suggestions[0]
            block = Shown(first.suggestion_id, running.prefix, running.suffix, first.text)
            self._precompute_next_line(uri, document, block, settings, language)

    def _answer_early(
        self, uri: str, document: _Document, shown: Shown, started: float, language: str
    ) -> ServiceResult:
        result = self._finish(started, [Suggestion(shown.suggestion_id, shown.text)], "model")
        self.typing.remember(uri, shown)
        document.pending = shown.suggestion_id
        self._log(uri, result, False, language)
        return result

    def _typed_through(
        self,
        uri: str,
        document: _Document,
        forwarded: Forwarded | None,
        prefix: str,
        suffix: str,
        started: float,
        invoked: bool,
        language: str,
    ) -> ServiceResult | None:
        """The answer from the rest of a suggestion the user typed into, if any is left."""
        if forwarded is None:
            return None
        text = after_cache(forwarded.text, split_line(prefix, suffix)[1], prefix, suffix)
        if not text:
            return None
        result = self._finish(started, [Suggestion(forwarded.suggestion_id, text)], "typing")
        document.pending = forwarded.suggestion_id
        self._log(uri, result, invoked, language)
        return result

    async def _generate(
        self,
        uri: str,
        prefix: str,
        suffix: str,
        work: Callable[[Backend, CancelToken], tuple[CompletionResult, bool]],
    ) -> tuple[CompletionResult, bool, list[Suggestion]]:
        """Run ``work`` (the model job for one state) on the model. Its first suggestion is
        kept for typing-through, also when no request waits for it any more."""
        document = self._documents.get(uri)
        epoch = self._epoch
        try:
            completion, from_cache = await self.model.run(work)
        finally:
            this_task = asyncio.current_task()
            if document is not None and document.running and document.running.task is this_task:
                document.running = None
        texts = [candidate.text for candidate in completion.candidates] or [completion.text]
        suggestions = [Suggestion(uuid.uuid4().hex[:16], text) for text in texts if text]
        generation = completion.generation
        finished = generation is None or generation.finish_reason != "cancelled"
        if suggestions and finished and epoch == self._epoch:
            first = suggestions[0]
            self.typing.remember(uri, Shown(first.suggestion_id, prefix, suffix, first.text))
        return completion, from_cache, suggestions

    def _work(
        self,
        uri: str,
        prefix: str,
        suffix: str,
        invoked: bool,
        settings: Settings,
        language: str,
        precompute: bool = False,
        progress: Progress | None = None,
        middle_from: int | None = None,
    ) -> Callable[[Backend, CancelToken], tuple[CompletionResult, bool]]:
        """The model-thread job: the completion, and whether the cache answered it."""
        document = self._documents.get(uri)
        request = CompletionRequest(
            prefix=prefix,
            suffix=suffix,
            invoked=invoked,
            one_line=precompute,
            uri=uri,
            path=self.context.display_path(uri) if self.context is not None else "",
            language_id=language,
            context=self.context,
            window_start=document.window_start if document is not None else None,
            middle_from=middle_from,
        )
        options = generation_options(settings)
        if precompute:
            # Also a cache key of its own: the request right after Enter may want a block.
            options = dataclasses.replace(
                options, max_new_tokens=min(options.max_new_tokens, PRECOMPUTE_MAX_TOKENS)
            )
        candidates = settings.candidates if invoked else 1

        def work(backend: Backend, cancel: CancelToken) -> tuple[CompletionResult, bool]:
            if progress is not None:
                backend = WatchedBackend(backend, progress)
            caching = CachingBackend(backend, self.cache) if settings.cache else None
            budget = (
                dataclasses.replace(DEFAULT_BUDGET, prompt_tokens=settings.prompt_tokens)
                if invoked
                else dataclasses.replace(
                    AUTOMATIC_BUDGET,
                    prompt_tokens=settings.typing_prompt_tokens,
                    # The naive baseline's prompt is the plain prefix-suffix-middle one.
                    middle_lines=0 if settings.naive_baseline else AUTOMATIC_BUDGET.middle_lines,
                )
            )
            result = complete(
                caching or backend, request, options, cancel, budget=budget, candidates=candidates
            )
            if result.window_start is not None and document is not None:
                document.window_start = result.window_start
            from_cache = caching is not None and caching.misses == 0
            if precompute:
                self.precompute_calls += not from_cache
                return result, from_cache
            if not from_cache:
                self.model_calls += 1
            if result.generation is not None and not from_cache:
                generation = result.generation
                self.last_generation = {
                    "finishReason": generation.finish_reason,
                    "promptTokens": generation.prompt_tokens,
                    "reusedPromptTokens": generation.reused_prompt_tokens,
                    "completionTokens": generation.completion_tokens,
                    "prefillSeconds": round(generation.prefill_seconds, 3),
                    "decodeSeconds": round(generation.decode_seconds, 3),
                    "meanLogprob": generation.mean_logprob,
                    "candidates": len(result.candidates),
                    "snippets": [snippet.path for snippet in result.snippets],
                }
            return result, from_cache

        return work

    def _finish(
        self,
        started: float,
        suggestions: list[Suggestion],
        source: Source,
        completion: CompletionResult | None = None,
    ) -> ServiceResult:
        self.counts[source] = self.counts.get(source, 0) + 1
        return ServiceResult(suggestions, source, self.clock() - started, completion)

    # --- precompute ----------------------------------------------------------------------

    def _precompute_next_line(
        self, uri: str, document: _Document, shown: Shown, settings: Settings, language: str
    ) -> None:
        """Compute, in idle time, the suggestion for the line after ``shown`` and keep it for
        typing-through (and in the cache, for a request right after Enter)."""
        if self._closed or not (settings.precompute and settings.cache and settings.typing_through):
            return
        if document.precomputed == shown.suggestion_id:
            return
        prefix = after_enter(shown.prefix, shown.text, shown.suffix, language)
        if prefix is None:
            return
        document.precomputed = shown.suggestion_id
        suffix = shown.suffix

        async def precompute() -> None:
            await asyncio.sleep(_PRECOMPUTE_IDLE_SECONDS)
            if self.model.state != "ready":
                return
            # The middle starts where the shown suggestion's did: a precompute that crossed
            # into the next 8 lines would move the KV cache off the prompt being typed in.
            origin_line = shown.prefix.count("\n")
            epoch = self._epoch
            work = self._work(
                uri,
                prefix,
                suffix,
                False,
                settings,
                language,
                precompute=True,
                middle_from=origin_line,
            )
            completion, _ = await self.model.run(work)
            if completion.text and uri in self._documents and epoch == self._epoch:
                next_id = uuid.uuid4().hex[:16]
                self.typing.remember(uri, Shown(next_id, prefix, suffix, completion.text))

        self._stop_precompute()
        self._precompute = asyncio.ensure_future(precompute())
        self._precompute_uri = uri
        self._precompute.add_done_callback(_log_failure)

    def _stop_precompute(self) -> None:
        if self._precompute is not None and not self._precompute.done():
            self._precompute.cancel()
        self._precompute = None

    # --- accept / reject -----------------------------------------------------------------

    def accepted(self, suggestion_id: str) -> None:
        for document in self._documents.values():
            if document.pending == suggestion_id:
                document.pending = None
        self.usage.record("accepted", id=suggestion_id)

    def rejected(self, suggestion_id: str) -> None:
        for document in self._documents.values():
            if document.pending == suggestion_id:
                document.pending = None
        self.usage.record("rejected", id=suggestion_id, reason="client")

    def _settle_pending(self, uri: str, document: _Document, continued: str | None) -> None:
        """A new request whose state does not continue the pending suggestion rejects it."""
        if document.pending is not None and document.pending != continued:
            self.usage.record("rejected", id=document.pending, reason="replaced")
            document.pending = None

    def closed(self, uri: str) -> None:
        if uri == self._precompute_uri:
            self._stop_precompute()  # nobody will type that next line
        document = self._documents.pop(uri, None)
        if document is not None and document.running is not None:
            document.running.task.cancel()
        self.typing.forget(uri)

    def reset(self) -> None:
        """The model or its settings changed: forget cached answers and stop the
        generations that run for the old ones (what they write is not kept)."""
        self._epoch += 1
        self.cache.clear()
        self.typing.clear()
        self._stop_precompute()
        for document in self._documents.values():
            if document.running is not None:
                document.running.task.cancel()

    def shutdown(self) -> None:
        """No more precomputing or generating: the model is about to be freed."""
        self._closed = True
        self._stop_precompute()
        for document in self._documents.values():
            if document.running is not None:
                document.running.task.cancel()

    def _log(self, uri: str, result: ServiceResult, invoked: bool, language: str) -> None:
        fields: dict[str, Any] = {
            "source": result.source,
            "latency_ms": round(result.seconds * 1000, 1),
            "invoked": invoked,
            "language": language,
        }
        if result.completion is not None:
            fields["kind"] = result.completion.kind.value
        self.usage.record("completion", **fields)
        # The candidates of one answer are one offer: the editor shows one at a time.
        offer = result.suggestions[0].suggestion_id if result.suggestions else None
        for rank, suggestion in enumerate(result.suggestions):
            self.usage.record(
                "shown",
                id=suggestion.suggestion_id,
                offer=offer,
                rank=rank,
                source=result.source,
                chars=len(suggestion.text),
                lines=suggestion.text.count("\n") + 1,
                text=suggestion.text,
            )


def _log_failure(task: asyncio.Task[Any]) -> None:
    """For model work that runs on with no request waiting for it."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("background model work failed: %s", task.exception())
