"""Inline completion: cursor analysis + context -> FIM prompt -> backend -> post-processing.

The editor path and the evaluation harness both call :func:`complete`, so the harness
measures exactly what users get.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

from copilot_lsp.backends.base import Backend, CancelToken, Generation, GenerationOptions
from copilot_lsp.comment_to_code import describes_code
from copilot_lsp.context.engine import ContextEngine
from copilot_lsp.context.snippets import Snippet
from copilot_lsp.decoding.candidates import Candidate, candidate_options, rank_candidates
from copilot_lsp.features.prompting import (
    build_prompt,
    heals_tokens,
    template_for,
    token_counter,
)
from copilot_lsp.postprocess import (
    CursorContext,
    after_cache,
    answer_is_complete,
    before_cache,
    cut_at_markers,
)
from copilot_lsp.prompt.budget import TokenBudget
from copilot_lsp.prompt.templates import FimTemplate
from copilot_lsp.syntax import CompletionKind, analyze_text, language_of

DEFAULT_BUDGET = TokenBudget()
AUTOMATIC_BUDGET = TokenBudget(
    prompt_tokens=1024, suffix_share=0.06, anchor_lines=32, middle_lines=8
)
"""While typing, the text before the cursor from every 8th line on is the start of the FIM
middle (engines that heal tokens; see ``TokenBudget.middle_lines``), so the KV cache keeps
the suffix from one keystroke to the next; it is evaluated again once every 8 lines, and
with engines that cannot heal after every keystroke, so it gets 6% of the window (~55
tokens). The window's first line moves once every 32 lines: in a file longer than the
window, a window that slid with every keystroke made each request evaluate the whole prompt
again. The server replaces ``prompt_tokens`` with the ``typingPromptTokens`` setting."""


@dataclass(frozen=True)
class CompletionRequest:
    prefix: str
    """All text before the cursor."""
    suffix: str
    """All text after the cursor."""
    invoked: bool = False
    """True when the user asked explicitly; automatic triggers skip hopeless positions."""
    one_line: bool = False
    """At most one line, wherever the cursor is (a precomputed next line: one line is
    ready sooner, and the next one is precomputed when the user gets there)."""
    # --- context engine ---
    uri: str = ""
    """The document's URI: how the context engine finds its tree and its workspace."""
    path: str = ""
    """Path shown to the model (relative to the workspace folder); "" for untitled."""
    language_id: str = ""
    """LSP language id; the path's extension decides when empty."""
    context: ContextEngine | None = None
    """Cross-file context source; None means the local window only."""
    window_start: int | None = None
    """The line the last prompt's window in this document started on: an anchored budget
    keeps it while it fits (see :func:`copilot_lsp.prompt.budget.anchored`)."""
    middle_from: int | None = None
    """Start the FIM middle as a request on this line would (the next line's precompute
    passes the line it was asked from, so that both prompts share all before the middle)."""


@dataclass
class CompletionResult:
    text: str
    """What to insert at the cursor ("" when there is nothing worth showing)."""
    kind: CompletionKind
    raw: str
    generation: Generation | None
    seconds: float
    candidates: list[Candidate] = field(default_factory=list)
    """Distinct non-empty suggestions, best first by mean token log-probability; ``text``,
    ``raw`` and ``generation`` describe the first."""
    snippets: tuple[Snippet, ...] = ()
    """Cross-file snippets the prompt held, in prompt order."""
    prompt_seconds: float = 0.0
    """Time spent on analysis, context and prompt building."""
    window_start: int | None = None
    """The line the prompt's window started on (anchored budgets only)."""


def split_line(prefix: str, suffix: str) -> tuple[str, str]:
    """The cursor line's text before and after the cursor."""
    return prefix[prefix.rfind("\n") + 1 :], suffix.split("\n", 1)[0]


def complete(
    backend: Backend,
    request: CompletionRequest,
    options: GenerationOptions,
    cancel: CancelToken,
    template: FimTemplate | None = None,
    budget: TokenBudget = DEFAULT_BUDGET,
    postprocess: bool = True,
    candidates: int = 1,
) -> CompletionResult:
    """Complete at the cursor. ``candidates`` > 1 computes that many suggestions (the first
    with ``options``, the others sampled) and ranks them; ``postprocess=False`` returns the
    model's answer with only its special markers cut and no stop criterion (the harness's
    ``--raw`` baseline)."""
    started = time.perf_counter()
    template = template or template_for(backend)
    line_before, line_after = split_line(request.prefix, request.suffix)
    language = language_of(request.language_id, request.path or request.uri)
    if request.context is not None:
        analysis = request.context.analyze(request.uri, request.prefix, request.suffix, language)
    else:
        analysis = analyze_text(request.prefix, request.suffix, language)
    kind = analysis.kind
    if kind is CompletionKind.NONE:
        if not request.invoked:
            return CompletionResult("", kind, "", None, time.perf_counter() - started)
        kind = CompletionKind.SINGLE_LINE
    # Comment-to-code: a comment or docstring asking for code gets a whole block.
    code_request = (
        None
        if request.one_line or analysis.in_string
        else describes_code(request.prefix, request.suffix, language)
    )
    if request.one_line:
        kind = CompletionKind.SINGLE_LINE
    elif code_request is not None:
        kind = CompletionKind.MULTI_LINE
        options = dataclasses.replace(
            options, max_new_tokens=max(options.max_new_tokens, code_request.min_new_tokens)
        )
    if budget.middle_lines and not (heals_tokens(backend) and options.num_beams == 1):
        budget = dataclasses.replace(budget, middle_lines=0)  # (beam search does not heal)
    prefix = request.prefix
    dangling = _dangling_spaces(line_before)
    if dangling:
        prefix = prefix[: -len(dangling)]
    built = build_prompt(
        template,
        prefix,
        request.suffix,
        budget,
        token_counter(backend),
        request.context,
        request.uri,
        request.path,
        language,
        request.window_start,
        request.middle_from,
    )
    prompt = built.text
    prompt_seconds = time.perf_counter() - started
    if not prompt:  # an empty document and a model without fill-in-the-middle
        return CompletionResult("", kind, "", None, prompt_seconds)
    # replace() keeps every other option (reuse_kv included) as the caller set it.
    options = dataclasses.replace(
        options,
        stop_texts=tuple(dict.fromkeys(options.stop_texts + template.stop_texts)),
        token_healing=bool(budget.middle_lines),
    )
    stop_check = answer_is_complete(kind, line_before, request.suffix, request.prefix)
    context = CursorContext.of(request.prefix, request.suffix, kind)
    found: list[Candidate] = []
    for index in range(max(1, candidates)):
        candidate_opts = candidate_options(options, index)
        if index:
            # The extra candidates share the request's cancellation and time budget.
            remaining = _remaining_budget(options, started)
            if cancel.cancelled or (remaining is not None and remaining <= 0):
                break
            candidate_opts = dataclasses.replace(candidate_opts, time_budget_s=remaining)
        generation = backend.generate(
            prompt, candidate_opts, cancel, stop_check if postprocess else None
        )
        raw = _healed(generation.text, dangling)
        if (
            postprocess
            and kind is CompletionKind.MULTI_LINE
            and generation.finish_reason == "length"
        ):
            raw = _whole_lines(raw)
        if postprocess:
            text = after_cache(
                before_cache(raw, context, template.stop_texts),
                line_after,
                context.prefix,
                context.suffix,
            )
        else:
            text = cut_at_markers(raw, template.stop_texts)
        found.append(Candidate(text, generation.mean_logprob, generation))
    ranked = rank_candidates(found)
    best = ranked[0] if ranked else found[0]
    raw = best.generation.text if best.generation is not None else ""
    return CompletionResult(
        best.text,
        kind,
        raw,
        best.generation,
        time.perf_counter() - started,
        ranked,
        built.snippets,
        prompt_seconds,
        built.window.first_line,
    )


def _dangling_spaces(line_before: str) -> str:
    """The spaces ending a cursor line that has code: left out of the prompt, so that the
    model's usual " name" tokens are not split ("token healing" in its simplest form)."""
    return line_before[len(line_before.rstrip(" \t")) :] if line_before.strip() else ""


def _healed(raw: str, dangling: str) -> str:
    """The answer without the spaces the user typed already (see :func:`_dangling_spaces`)."""
    if not dangling:
        return raw
    return raw[len(dangling) :] if raw.startswith(dangling) else raw.lstrip(" \t")


def first_line_so_far(raw: str, prefix: str, suffix: str, markers: tuple[str, ...]) -> str | None:
    """The single-line answer at the start of a longer answer still being written, cleaned
    as a single-line request's would be, once that line is finished (None until then; ""
    when it is not worth showing)."""
    line_before, line_after = split_line(prefix, suffix)
    text = cut_at_markers(_healed(raw, _dangling_spaces(line_before)), markers)
    if not answer_is_complete(CompletionKind.SINGLE_LINE, line_before)(text):
        return None
    context = CursorContext.of(prefix, suffix, CompletionKind.SINGLE_LINE)
    return after_cache(before_cache(text, context), line_after, prefix, suffix)


def _whole_lines(raw: str) -> str:
    """A multi-line answer the token limit cut mid-line, without its partial last line."""
    if raw.endswith("\n") or "\n" not in raw:
        return raw
    return raw[: raw.rfind("\n")]


def _remaining_budget(options: GenerationOptions, started: float) -> float | None:
    if options.time_budget_s is None:
        return None
    return options.time_budget_s - (time.perf_counter() - started)
