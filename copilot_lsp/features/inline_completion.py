"""Inline completion: cursor analysis + context -> FIM prompt -> backend -> post-processing.

The editor path and the evaluation harness both call :func:`complete`, so the harness
measures exactly what users get.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from copilot_lsp.backends.base import Backend, CancelToken, Generation, GenerationOptions
from copilot_lsp.context.engine import ContextEngine
from copilot_lsp.context.snippets import Snippet
from copilot_lsp.features.prompting import build_prompt, template_for, token_counter
from copilot_lsp.postprocess import answer_is_complete, clean_completion
from copilot_lsp.prompt.budget import TokenBudget
from copilot_lsp.prompt.templates import FimTemplate
from copilot_lsp.syntax import CompletionKind, analyze_text, language_of

DEFAULT_BUDGET = TokenBudget()


@dataclass(frozen=True)
class CompletionRequest:
    prefix: str
    """All text before the cursor."""
    suffix: str
    """All text after the cursor."""
    invoked: bool = False
    """True when the user asked explicitly; automatic triggers skip hopeless positions."""
    # --- context engine (issue 5) ---
    uri: str = ""
    """The document's URI: how the context engine finds its tree and its workspace."""
    path: str = ""
    """Path shown to the model (relative to the workspace folder); "" for untitled."""
    language_id: str = ""
    """LSP language id; the path's extension decides when empty."""
    context: ContextEngine | None = None
    """Cross-file context source; None means the local window only."""


@dataclass
class CompletionResult:
    text: str
    """What to insert at the cursor ("" when there is nothing worth showing)."""
    kind: CompletionKind
    raw: str
    generation: Generation | None
    seconds: float
    snippets: tuple[Snippet, ...] = ()
    """Cross-file snippets the prompt held, in prompt order."""
    prompt_seconds: float = 0.0
    """Time spent on analysis, context and prompt building."""


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
) -> CompletionResult:
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
    # A prompt ending in spaces splits the model's usual " name" tokens; end it on the code
    # and drop the same spaces from the start of the answer ("token healing" in its
    # simplest form).
    prefix = request.prefix
    dangling = line_before[len(line_before.rstrip(" \t")) :] if line_before.strip() else ""
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
    )
    prompt = built.text
    prompt_seconds = time.perf_counter() - started
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
    text = clean_completion(raw, kind, line_before, line_after, request.suffix, template.stop_texts)
    return CompletionResult(
        text,
        kind,
        generation.text,
        generation,
        time.perf_counter() - started,
        built.snippets,
        prompt_seconds,
    )
