"""Fill-in-the-middle templates per model family, chosen from the model's name and tokenizer.

Every family's markers must each encode to exactly one token of the loaded model's
vocabulary; a template whose markers split is useless (the model never saw them as text),
so :func:`select_template` falls back to the next candidate and logs why.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

Tokenize = Callable[[str], Sequence[int]]
"""Text -> token ids, special markers parsed as special tokens, no BOS added."""


@dataclass(frozen=True)
class FimTemplate:
    family: str
    prefix: str
    suffix: str
    middle: str
    stop_texts: tuple[str, ...]
    """Texts that end the middle; every special marker the model may emit after it."""
    order: Literal["psm", "spm", "causal"] = "psm"
    """Prefix-suffix-middle, suffix-prefix-middle (Codestral), or no infilling at all."""
    repo_name: str = ""
    """Repo-level form: the marker before the repository name (empty: no such form)."""
    file_sep: str = ""
    """Repo-level form: the marker before each file's path and content."""
    path_after_fim_prefix: bool = False
    """StarCoder2 puts the current file's path right after the FIM prefix marker."""
    language_header: bool = False
    """Start the current file with a ``# language: Python`` / ``// path: x`` comment."""
    name_patterns: tuple[str, ...] = ()
    """Regexes over the model's name/architecture that select this family."""
    prefix_glue: str = ""
    """Text between the prefix marker and the prefix (Code Llama expects a space)."""
    middle_glue: str = ""
    """Text between the suffix and the middle marker (Code Llama expects a space)."""

    def markers(self) -> tuple[str, ...]:
        """The special texts that must each be one token."""
        return tuple(
            m for m in (self.prefix, self.suffix, self.middle, self.repo_name, self.file_sep) if m
        )

    def render(self, prefix: str, suffix: str, middle_start: str = "") -> str:
        """The bare FIM prompt (no header, no cross-file context). ``middle_start`` is text
        just before the cursor given as the start of the middle rather than the end of the
        prefix (see :attr:`copilot_lsp.prompt.budget.TokenBudget.middle_lines`)."""
        if self.order == "causal":
            return prefix + middle_start
        middle = f"{self.middle_glue}{self.middle}{middle_start}"
        if self.order == "spm":
            return f"{self.suffix}{suffix}{self.prefix}{self.prefix_glue}{prefix}{middle}"
        return f"{self.prefix}{self.prefix_glue}{prefix}{self.suffix}{suffix}{middle}"


_QWEN_MARKERS = (
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
)

QWEN25_CODER = FimTemplate(
    family="qwen2.5-coder",
    prefix="<|fim_prefix|>",
    suffix="<|fim_suffix|>",
    middle="<|fim_middle|>",
    stop_texts=("<|endoftext|>", "<|im_end|>", *_QWEN_MARKERS),
    repo_name="<|repo_name|>",
    file_sep="<|file_sep|>",
    name_patterns=(r"qwen",),
)
STARCODER2 = FimTemplate(
    family="starcoder2",
    prefix="<fim_prefix>",
    suffix="<fim_suffix>",
    middle="<fim_middle>",
    stop_texts=("<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"),
    repo_name="<repo_name>",
    file_sep="<file_sep>",
    path_after_fim_prefix=True,
    name_patterns=(r"starcoder2",),
)
STARCODER = FimTemplate(
    family="starcoder",
    prefix="<fim_prefix>",
    suffix="<fim_suffix>",
    middle="<fim_middle>",
    stop_texts=("<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
    language_header=True,
    name_patterns=(r"starcoder", r"bigcode", r"starchat"),
)
SANTACODER = FimTemplate(
    family="santacoder",
    prefix="<fim-prefix>",
    suffix="<fim-suffix>",
    middle="<fim-middle>",
    stop_texts=("<|endoftext|>", "<fim-prefix>", "<fim-suffix>", "<fim-middle>"),
    language_header=True,
    name_patterns=(r"santacoder",),
)
CODE_LLAMA = FimTemplate(
    family="codellama",
    prefix="<PRE>",
    suffix=" <SUF>",
    middle="<MID>",
    stop_texts=("<EOT>", "</s>", "<PRE>", "<SUF>", "<MID>"),
    language_header=True,
    name_patterns=(r"code-?llama",),
    prefix_glue=" ",
    middle_glue=" ",
)
DEEPSEEK_CODER = FimTemplate(
    family="deepseek-coder",
    prefix="<｜fim▁begin｜>",
    suffix="<｜fim▁hole｜>",
    middle="<｜fim▁end｜>",
    stop_texts=("<|EOT|>", "<｜end▁of▁sentence｜>", "<｜fim▁begin｜>", "<｜fim▁hole｜>"),
    language_header=True,
    name_patterns=(r"deepseek",),
)
CODEGEMMA = FimTemplate(
    family="codegemma",
    prefix="<|fim_prefix|>",
    suffix="<|fim_suffix|>",
    middle="<|fim_middle|>",
    stop_texts=("<|file_separator|>", "<eos>", "<|fim_prefix|>", "<|fim_suffix|>"),
    file_sep="<|file_separator|>",
    language_header=True,
    name_patterns=(r"codegemma",),
)
CODESTRAL = FimTemplate(
    family="codestral",
    prefix="[PREFIX]",
    suffix="[SUFFIX]",
    middle="",
    stop_texts=("</s>", "[PREFIX]", "[SUFFIX]"),
    order="spm",
    language_header=True,
    name_patterns=(r"codestral", r"mistral"),
)
CAUSAL = FimTemplate(
    family="causal",
    prefix="",
    suffix="",
    middle="",
    stop_texts=(),
    order="causal",
    language_header=True,
)
"""No infilling: the prompt is the prefix (with a header); the suffix is not shown."""

TEMPLATES: tuple[FimTemplate, ...] = (
    QWEN25_CODER,
    STARCODER2,
    SANTACODER,
    STARCODER,
    CODE_LLAMA,
    DEEPSEEK_CODER,
    CODEGEMMA,
    CODESTRAL,
)
"""Most specific name patterns first (``starcoder2`` before ``starcoder``)."""

_BY_FAMILY = {template.family: template for template in (*TEMPLATES, CAUSAL)}


def template_by_family(family: str) -> FimTemplate:
    try:
        return _BY_FAMILY[family]
    except KeyError:
        known = ", ".join(sorted(_BY_FAMILY))
        raise ValueError(f"unknown template family {family!r} (known: {known})") from None


def split_markers(template: FimTemplate, tokenize: Tokenize) -> list[str]:
    """The template's markers that do not encode to exactly one token."""
    return [marker for marker in template.markers() if len(tokenize(marker.strip())) != 1]


def select_template(
    model_name: str, tokenize: Tokenize | None = None, default: FimTemplate = CAUSAL
) -> FimTemplate:
    """The template for a model, by name first, then by which markers its vocabulary has.

    Without a tokenizer the name alone decides (``default`` when it names no family). A
    family whose markers split into several tokens is skipped with a warning; with no
    usable family the causal fallback is used.
    """
    name = model_name.lower()
    named = [t for t in TEMPLATES if any(re.search(p, name) for p in t.name_patterns)]
    if tokenize is None:
        return named[0] if named else default
    for template in named:
        split = split_markers(template, tokenize)
        if not split:
            return template
        log.warning(
            "model %r looks like %s but its markers %s are not single tokens; trying others",
            model_name,
            template.family,
            split,
        )
    for template in TEMPLATES:
        if template not in named and not split_markers(template, tokenize):
            log.info("model %r: %s markers found in its vocabulary", model_name, template.family)
            return template
    log.warning("model %r: no FIM template fits its vocabulary; using causal prompts", model_name)
    return CAUSAL
