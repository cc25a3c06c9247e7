"""The character budget of the first pipeline (kept for callers that still use it).

Templates live in :mod:`copilot_lsp.prompt.templates`, the token budget in
:mod:`copilot_lsp.prompt.budget`.
"""

from __future__ import annotations

from dataclasses import dataclass

from copilot_lsp.prompt.templates import QWEN25_CODER, FimTemplate

__all__ = ["QWEN25_CODER", "Budget", "FimTemplate", "build_prompt", "clip_prefix", "clip_suffix"]


@dataclass(frozen=True)
class Budget:
    """How much text around the cursor goes into the prompt (in characters)."""

    prefix_chars: int = 6000
    suffix_chars: int = 1500


def clip_prefix(prefix: str, limit: int) -> str:
    """The last ``limit`` characters of ``prefix``, starting on a line boundary."""
    if len(prefix) <= limit:
        return prefix
    clipped = prefix[-limit:]
    newline = clipped.find("\n")
    return clipped[newline + 1 :] if newline != -1 else clipped


def clip_suffix(suffix: str, limit: int) -> str:
    """The first ``limit`` characters of ``suffix``, ending on a line boundary."""
    if len(suffix) <= limit:
        return suffix
    clipped = suffix[:limit]
    newline = clipped.rfind("\n")
    return clipped[: newline + 1] if newline != -1 else clipped


def build_prompt(template: FimTemplate, prefix: str, suffix: str, budget: Budget) -> str:
    return template.render(
        clip_prefix(prefix, budget.prefix_chars), clip_suffix(suffix, budget.suffix_chars)
    )
