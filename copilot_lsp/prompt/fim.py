"""Fill-in-the-middle templates and the local-window budget."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FimTemplate:
    family: str
    prefix: str
    suffix: str
    middle: str
    stop_texts: tuple[str, ...]
    """Texts that end the middle; every special marker the model may emit after it."""

    def render(self, prefix: str, suffix: str) -> str:
        """Prefix-suffix-middle order (suffix-first scores far worse on Qwen2.5-Coder)."""
        return f"{self.prefix}{prefix}{self.suffix}{suffix}{self.middle}"


QWEN25_CODER = FimTemplate(
    family="qwen2.5-coder",
    prefix="<|fim_prefix|>",
    suffix="<|fim_suffix|>",
    middle="<|fim_middle|>",
    stop_texts=(
        "<|endoftext|>",
        "<|im_end|>",
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
        "<|fim_pad|>",
        "<|repo_name|>",
        "<|file_sep|>",
    ),
)


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
