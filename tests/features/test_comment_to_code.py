"""Detection of comment-to-code positions, per language."""

from __future__ import annotations

import pytest

from copilot_lsp.backends.base import CancelToken, GenerationOptions
from copilot_lsp.comment_to_code import describes_code
from copilot_lsp.features.inline_completion import CompletionRequest, complete
from copilot_lsp.syntax import CompletionKind
from tests.fakes import ScriptedBackend


@pytest.mark.parametrize(
    ("prefix", "suffix", "description", "top_level"),
    [
        ("import os\n\n# return the factorial of n\n", "", "return the factorial of n", True),
        ("x = 1\n# one\n# two\n", "\n", "one two", True),
        ("def f(xs):\n    # sort the values\n    ", "\n    return xs\n", "sort the values", False),
        ("// add two numbers\n", "", "add two numbers", True),
        ("function f() {\n  // sum the prices\n  ", "\n}\n", "sum the prices", False),
        (
            "package p\n\n// Max returns the larger of a and b.\n",
            "",
            "Max returns the larger of a and b.",
            True,
        ),
        ("/* Parse a date\n * in ISO form */\n", "", "Parse a date in ISO form", True),
        ("-- every user with an email\n", "", "every user with an email", True),
    ],
)
def test_comment_followed_by_an_empty_line_asks_for_code(
    prefix: str, suffix: str, description: str, top_level: bool
) -> None:
    request = describes_code(prefix, suffix)
    assert request is not None and request.source == "comment"
    assert request.description == description
    assert request.top_level is top_level


@pytest.mark.parametrize(
    ("prefix", "suffix"),
    [
        ("# a comment\nx = 1\n", ""),  # code after the comment
        ("# a comment\nx", ""),  # the cursor line has code
        ("# a comment\n", "y = 2\n"),  # code right of the cursor
        ("#!/usr/bin/env python\n", ""),  # shebang
        ("#include <stdio.h>\n", ""),  # preprocessor
        ("def f():\n        # deeper comment\n    ", ""),  # cursor dedented below the comment
        ("x = 1\n", ""),
        ("", ""),
    ],
)
def test_other_positions_are_not_comment_to_code(prefix: str, suffix: str) -> None:
    assert describes_code(prefix, suffix) is None


def test_docstring_only_body_asks_for_the_implementation() -> None:
    prefix = 'def mean(xs: list[float]) -> float:\n    """Arithmetic mean."""\n    '
    request = describes_code(prefix, "\n\n\ndef other():\n    pass\n")
    assert request is not None and request.source == "docstring"
    assert request.description == "Arithmetic mean."


def test_multi_line_docstring_and_signature() -> None:
    prefix = (
        'def mean(\n    xs: list[float],\n) -> float:\n    """Arithmetic\n    mean.\n    """\n    '
    )
    request = describes_code(prefix, "")
    assert request is not None and request.source == "docstring"


def test_a_body_that_already_has_code_is_not_a_docstring_request() -> None:
    prefix = 'def mean(xs):\n    """Arithmetic mean."""\n    '
    assert describes_code(prefix, "\n    return sum(xs) / len(xs)\n") is None
    # A string that is not a function's docstring.
    assert describes_code('x = """text"""\n', "") is None


@pytest.mark.parametrize(
    ("prefix", "suffix"),
    [
        (
            "// Count counts words.\nfunc Count(text string) map[string]int {\n\t",
            "\n}\n",
        ),
        ("/** Total price. */\nfunction total(items) {\n  ", "\n}\n"),
    ],
)
def test_doc_comment_and_empty_brace_body_asks_for_the_body(prefix: str, suffix: str) -> None:
    request = describes_code(prefix, suffix)
    assert request is not None and request.source == "doc-comment"


def test_brace_body_without_doc_comment_is_left_to_the_usual_rules() -> None:
    assert describes_code("func Count() int {\n\t", "\n}\n") is None


def test_pipeline_gives_a_comment_request_a_multi_line_block_and_more_tokens() -> None:
    answer = "def factorial(n):\n    return 1 if n < 2 else n * factorial(n - 1)\n\n\nprint(1)\n"
    backend = ScriptedBackend(answer)
    result = complete(
        backend,
        CompletionRequest("# return the factorial of n\n", "", invoked=False),
        GenerationOptions(max_new_tokens=16),
        CancelToken(),
    )
    assert result.kind is CompletionKind.MULTI_LINE
    # 16 tokens would have cut the function; the request raised the limit.
    assert result.text == "def factorial(n):\n    return 1 if n < 2 else n * factorial(n - 1)"


def test_a_multi_line_answer_cut_by_the_token_limit_loses_its_partial_last_line() -> None:
    backend = ScriptedBackend("assert median([1.0]) == 1.0\n    assert median([1.0, 2.")
    result = complete(
        backend,
        CompletionRequest("def test_m():\n    assert median([3.0]) == 3.0\n    ", ""),
        GenerationOptions(max_new_tokens=len(backend.answer)),
        CancelToken(),
    )
    assert result.generation is not None and result.generation.finish_reason == "length"
    assert result.text == "assert median([1.0]) == 1.0"
