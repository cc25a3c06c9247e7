"""Inline completion: local window -> FIM prompt -> backend -> post-processing.

The editor path and the evaluation harness both call :func:`complete`, so the harness
measures exactly what users get.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from copilot_lsp.backends.base import Backend, CancelToken, Generation, GenerationOptions
from copilot_lsp.comment_to_code import describes_code
from copilot_lsp.postprocess import answer_is_complete, clean_completion
from copilot_lsp.prompt.fim import QWEN25_CODER, Budget, FimTemplate, build_prompt
from copilot_lsp.syntax import CompletionKind, completion_kind

DEFAULT_BUDGET = Budget()


@dataclass(frozen=True)
class CompletionRequest:
    prefix: str
    """All text before the cursor."""
    suffix: str
    """All text after the cursor."""
    invoked: bool = False
    """True when the user asked explicitly; automatic triggers skip hopeless positions."""


@dataclass
class CompletionResult:
    text: str
    """What to insert at the cursor ("" when there is nothing worth showing)."""
    kind: CompletionKind
    raw: str
    generation: Generation | None
    seconds: float


def split_line(prefix: str, suffix: str) -> tuple[str, str]:
    """The cursor line's text before and after the cursor."""
    return prefix[prefix.rfind("\n") + 1 :], suffix.split("\n", 1)[0]


def complete(
    backend: Backend,
    request: CompletionRequest,
    options: GenerationOptions,
    cancel: CancelToken,
    template: FimTemplate = QWEN25_CODER,
    budget: Budget = DEFAULT_BUDGET,
) -> CompletionResult:
    started = time.perf_counter()
    line_before, line_after = split_line(request.prefix, request.suffix)
    kind = completion_kind(line_before, line_after)
    if kind is CompletionKind.NONE:
        if not request.invoked:
            return CompletionResult("", kind, "", None, time.perf_counter() - started)
        kind = CompletionKind.SINGLE_LINE
    # Comment-to-code: a comment or docstring asking for code gets a whole block.
    code_request = describes_code(request.prefix, request.suffix)
    if code_request is not None:
        kind = CompletionKind.MULTI_LINE
        options = replace(
            options, max_new_tokens=max(options.max_new_tokens, code_request.min_new_tokens)
        )
    # A prompt ending in spaces splits the model's usual " name" tokens; end it on the code
    # and drop the same spaces from the start of the answer ("token healing" in its
    # simplest form).
    prefix = request.prefix
    dangling = line_before[len(line_before.rstrip(" \t")) :] if line_before.strip() else ""
    if dangling:
        prefix = prefix[: -len(dangling)]
    prompt = build_prompt(template, prefix, request.suffix, budget)
    options = GenerationOptions(
        max_new_tokens=options.max_new_tokens,
        temperature=options.temperature,
        top_p=options.top_p,
        top_k=options.top_k,
        stop_texts=tuple(dict.fromkeys(options.stop_texts + template.stop_texts)),
    )
    generation = backend.generate(prompt, options, cancel, answer_is_complete(kind, line_before))
    raw = generation.text
    if dangling:
        raw = raw[len(dangling) :] if raw.startswith(dangling) else raw.lstrip(" \t")
    if kind is CompletionKind.MULTI_LINE and generation.finish_reason == "length" and "\n" in raw:
        # The token limit cut the last line mid-way: keep only the whole lines.
        raw = raw[: raw.rstrip("\n").rfind("\n")]
    text = clean_completion(raw, kind, line_before, line_after, request.suffix, template.stop_texts)
    return CompletionResult(text, kind, generation.text, generation, time.perf_counter() - started)
