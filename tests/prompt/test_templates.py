"""Golden prompts per template family, and template choice from name and vocabulary."""

from __future__ import annotations

import logging

import pytest

from copilot_lsp.prompt.layout import FileInfo, PromptSnippet, render_prompt
from copilot_lsp.prompt.templates import (
    CAUSAL,
    CODE_LLAMA,
    CODEGEMMA,
    CODESTRAL,
    DEEPSEEK_CODER,
    QWEN25_CODER,
    SANTACODER,
    STARCODER,
    TEMPLATES,
    FimTemplate,
    select_template,
    template_by_family,
)

PREFIX, SUFFIX = "def area(r):\n    return ", "\n\nprint(area(2))\n"
SNIPPETS = [
    PromptSnippet("geometry/consts.py", "PI = 3.14159"),
    PromptSnippet("geometry/util.py", "def square(x):\n    return x * x"),
]
FILE = FileInfo("geometry/area.py", "Python", "#", "shapes")

GOLDEN = {
    "qwen2.5-coder": (
        "<|repo_name|>shapes\n"
        "<|file_sep|>geometry/consts.py\nPI = 3.14159\n"
        "<|file_sep|>geometry/util.py\ndef square(x):\n    return x * x\n"
        "<|file_sep|>geometry/area.py\n"
        "<|fim_prefix|>def area(r):\n    return <|fim_suffix|>\n\nprint(area(2))\n<|fim_middle|>"
    ),
    "starcoder2": (
        "<repo_name>shapes\n"
        "<file_sep>geometry/consts.py\nPI = 3.14159\n"
        "<file_sep>geometry/util.py\ndef square(x):\n    return x * x\n"
        "<file_sep><fim_prefix>geometry/area.py\n"
        "def area(r):\n    return <fim_suffix>\n\nprint(area(2))\n<fim_middle>"
    ),
    "starcoder": (
        "<fim_prefix># Compare this snippet from geometry/consts.py:\n# PI = 3.14159\n"
        "# Compare this snippet from geometry/util.py:\n# def square(x):\n#     return x * x\n"
        "# language: Python\n# path: geometry/area.py\n"
        "def area(r):\n    return <fim_suffix>\n\nprint(area(2))\n<fim_middle>"
    ),
    "codestral": (
        "[SUFFIX]\n\nprint(area(2))\n[PREFIX]"
        "# Compare this snippet from geometry/consts.py:\n# PI = 3.14159\n"
        "# Compare this snippet from geometry/util.py:\n# def square(x):\n#     return x * x\n"
        "# language: Python\n# path: geometry/area.py\n"
        "def area(r):\n    return "
    ),
}


@pytest.mark.parametrize("family", sorted(GOLDEN))
def test_golden_prompt_with_context(family: str) -> None:
    template = template_by_family(family)
    assert render_prompt(template, PREFIX, SUFFIX, SNIPPETS, FILE) == GOLDEN[family]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (QWEN25_CODER, "<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>"),
        (STARCODER, "<fim_prefix>P<fim_suffix>S<fim_middle>"),
        (SANTACODER, "<fim-prefix>P<fim-suffix>S<fim-middle>"),
        (CODE_LLAMA, "<PRE> P <SUF>S <MID>"),
        (DEEPSEEK_CODER, "<｜fim▁begin｜>P<｜fim▁hole｜>S<｜fim▁end｜>"),
        (CODEGEMMA, "<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>"),
        (CODESTRAL, "[SUFFIX]S[PREFIX]P"),
        (CAUSAL, "P"),
    ],
)
def test_bare_template(template: FimTemplate, expected: str) -> None:
    """No path, no snippets: the plain FIM string (as the first pipeline built it)."""
    assert render_prompt(template, "P", "S") == expected


def test_causal_and_header_families_get_a_language_header() -> None:
    prompt = render_prompt(DEEPSEEK_CODER, "x = ", "", (), FileInfo("a.go", "Go", "//"))
    assert prompt.startswith("<｜fim▁begin｜>// language: Go\n// path: a.go\nx = ")


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("Qwen2.5 Coder 1.5B Instruct qwen2", "qwen2.5-coder"),
        ("starcoder2-3b.Q4_K_M.gguf", "starcoder2"),
        ("bigcode starcoderbase-1b", "starcoder"),
        ("santacoder", "santacoder"),
        ("CodeLlama-7b", "codellama"),
        ("deepseek-coder-1.3b-base", "deepseek-coder"),
        ("codegemma-2b", "codegemma"),
        ("Codestral-22B", "codestral"),
    ],
)
def test_template_by_model_name(name: str, family: str) -> None:
    assert select_template(name).family == family


def vocabulary_tokenizer(vocabulary: set[str]):
    """One token per known special marker, one per character otherwise."""

    def tokenize(text: str) -> list[int]:
        return [0] if text in vocabulary else [1] * len(text)

    return tokenize


def test_split_markers_fall_back_to_the_vocabulary_match(caplog) -> None:
    tokenize = vocabulary_tokenizer({"<fim_prefix>", "<fim_suffix>", "<fim_middle>"})
    with caplog.at_level(logging.WARNING):
        template = select_template("qwen2.5-coder-0.5b", tokenize)
    assert template is STARCODER
    assert "not single tokens" in caplog.text


def test_no_fim_vocabulary_means_causal_prompts(caplog) -> None:
    with caplog.at_level(logging.WARNING):
        template = select_template("some-chat-model", vocabulary_tokenizer(set()))
    assert template is CAUSAL and "causal" in caplog.text


def test_verified_markers_keep_the_named_family() -> None:
    vocabulary = set(QWEN25_CODER.markers())
    assert select_template("qwen", vocabulary_tokenizer(vocabulary)) is QWEN25_CODER


def test_unknown_name_without_tokenizer_uses_the_default() -> None:
    assert select_template("mystery.gguf", default=QWEN25_CODER) is QWEN25_CODER
    assert select_template("mystery.gguf") is CAUSAL


def test_every_family_is_registered_once() -> None:
    families = [t.family for t in TEMPLATES]
    assert len(families) == len(set(families))
    with pytest.raises(ValueError, match="unknown template family"):
        template_by_family("gpt-2")
