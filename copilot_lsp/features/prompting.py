"""Prompt building for a completion: template choice, local window, cross-file snippets.

The template comes from the backend's model metadata and tokenizer (checked once per
backend); token counts come from the backend's tokenizer when it has one, else from an
estimate. Cross-file snippets are asked first (the block sits before the local window and
rarely changes while typing); the window gets what they leave of the budget.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath

from copilot_lsp.backends.base import Backend, TokenizingBackend
from copilot_lsp.context.engine import ContextEngine
from copilot_lsp.context.snippets import Snippet
from copilot_lsp.prompt.budget import (
    CountTokens,
    TokenBudget,
    Window,
    approximate_tokens,
    fit_window,
    split_middle,
)
from copilot_lsp.prompt.layout import FileInfo, context_text, frame_text, render_prompt
from copilot_lsp.prompt.templates import QWEN25_CODER, FimTemplate, select_template
from copilot_lsp.syntax import LANGUAGES

log = logging.getLogger(__name__)

_templates: dict[tuple[int, str], FimTemplate] = {}


def model_name(backend: Backend) -> str:
    """What identifies the model: its metadata name and architecture, and its file name."""
    parts = [PurePosixPath(str(backend.model_path)).name]
    if isinstance(backend, TokenizingBackend):
        metadata = backend.model_metadata()
        parts += [metadata.get("general.name", ""), metadata.get("general.architecture", "")]
    return " ".join(part for part in parts if part)


def _model_backend(backend: Backend) -> Backend:
    """The backend that runs the model, under wrappers such as the generation cache."""
    while (inner := getattr(backend, "inner", None)) is not None:
        backend = inner
    return backend


def heals_tokens(backend: Backend) -> bool:
    """Whether the engine under any wrappers can heal a prompt's last token."""
    return bool(getattr(_model_backend(backend), "heals_tokens", False))


def template_for(backend: Backend) -> FimTemplate:
    """The backend's FIM template, chosen (and its markers verified) once per backend."""
    backend = _model_backend(backend)
    key = (id(backend), str(backend.model_path))
    if key not in _templates:
        name = model_name(backend)
        tokenize = backend.tokenize if isinstance(backend, TokenizingBackend) else None
        template = select_template(name, tokenize, default=QWEN25_CODER)
        log.info("model %r: %s prompt template", name, template.family)
        _templates[key] = template
    return _templates[key]


_counters: dict[tuple[int, str], CountTokens] = {}


def token_counter(backend: Backend) -> CountTokens:
    """Token counts from the backend's tokenizer, cached per text: the window's lines and
    the snippets mostly stay the same from one keystroke to the next."""
    backend = _model_backend(backend)
    if not isinstance(backend, TokenizingBackend):
        return approximate_tokens
    key = (id(backend), str(backend.model_path))
    if key not in _counters:
        tokenize = backend.tokenize

        @lru_cache(maxsize=65536)
        def count(text: str) -> int:
            return len(tokenize(text))

        _counters[key] = count
    return _counters[key]


@dataclass(frozen=True)
class BuiltPrompt:
    text: str
    window: Window
    snippets: tuple[Snippet, ...]
    context_tokens: int
    seconds: float


def build_prompt(
    template: FimTemplate,
    prefix: str,
    suffix: str,
    budget: TokenBudget,
    count: CountTokens,
    engine: ContextEngine | None = None,
    uri: str = "",
    path: str = "",
    language: str | None = None,
    keep_from: int | None = None,
    middle_from: int | None = None,
) -> BuiltPrompt:
    """``keep_from``: the line the last window in this document started on (kept while the
    budget reaches it, for budgets with ``anchor_lines``). ``middle_from``: start the middle
    as a request on that line would (budgets with ``middle_lines``)."""
    started = time.perf_counter()
    cached_count = lru_cache(maxsize=4096)(count)
    spec = LANGUAGES.get(language or "")
    file = FileInfo(
        path=path,
        language=spec.display if spec else "",
        comment=spec.line_comment if spec else "#",
        repo=engine.repo_name(uri) if engine is not None else "",
    )
    # Counted once for both windows below: the prefix may be a whole large file.
    cursor_line = prefix.count("\n") if budget.anchor_lines or budget.middle_lines else None
    snippets: list[Snippet] = []
    context_tokens = 0
    if engine is not None and budget.context_tokens > 0:
        # The smallest window the prompt will have: snippets inside it are redundant.
        smallest = fit_window(
            prefix,
            suffix,
            *budget.window_tokens(budget.context_tokens),
            cached_count,
            budget.anchor_lines,
            keep_from,
            cursor_line,
        )
        snippets = engine.snippets(
            uri,
            prefix,
            suffix,
            language,
            smallest.prefix + smallest.suffix,
            budget.context_tokens,
            cached_count,
        )
        if snippets:
            context_tokens = cached_count(context_text(template, snippets, file))
    fixed = cached_count(frame_text(template, snippets, file))
    prefix_cap, suffix_cap = budget.window_tokens(context_tokens + fixed)
    window = fit_window(
        prefix,
        suffix,
        prefix_cap,
        suffix_cap,
        cached_count,
        budget.anchor_lines,
        keep_from,
        cursor_line,
    )
    lines_above, middle_start = window.prefix, ""
    if budget.middle_lines and cursor_line is not None and template.order == "psm":
        lines_above, middle_start = split_middle(
            window.prefix, cursor_line, budget.middle_lines, middle_from
        )
    text = render_prompt(template, lines_above, window.suffix, snippets, file, middle_start)
    return BuiltPrompt(text, window, tuple(snippets), context_tokens, time.perf_counter() - started)
