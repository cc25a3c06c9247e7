"""Golden tests for the pure post-processing stages and the completion kind."""

import pytest

from copilot_lsp.postprocess import (
    answer_is_complete,
    block_end,
    clean_completion,
    cut_at_suffix_repeat,
    drop_closer_overlap,
)
from copilot_lsp.prompt.fim import QWEN25_CODER
from copilot_lsp.syntax import CompletionKind, completion_kind

SINGLE, MULTI = CompletionKind.SINGLE_LINE, CompletionKind.MULTI_LINE


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        ("    total = ", "", MULTI),
        ("    ", "", MULTI),
        ("    print(", ")", SINGLE),
        ("    x = foo(", "a, b)", SINGLE),
        ("    reso", "lve()", CompletionKind.NONE),
        ("", "", MULTI),
    ],
)
def test_completion_kind(before: str, after: str, kind: CompletionKind) -> None:
    assert completion_kind(before, after) is kind


def test_single_line_keeps_the_first_line_only() -> None:
    raw = "len(values)\n    print('extra')"
    assert clean_completion(raw, SINGLE, "    return sum(values) / ", ")", ")") == "len(values)"


def test_markers_are_cut() -> None:
    raw = "x + 1<|endoftext|>garbage"
    assert clean_completion(raw, MULTI, "y = ", "", "", QWEN25_CODER.stop_texts) == "x + 1"


def test_auto_closed_bracket_is_not_duplicated() -> None:
    assert drop_closer_overlap("total)", ")") == "total"
    assert drop_closer_overlap('name")', '")') == "name"
    # A balanced call keeps the editor's bracket after it.
    assert drop_closer_overlap("g(x)", ")") == "g(x)"


def test_block_ends_at_dedent() -> None:
    raw = "\n        return x\n    return y\ndef other():"
    assert block_end(raw, "        if x:") is not None
    assert clean_completion(raw, MULTI, "    if x:", "", "") == "\n        return x"


def test_top_level_completion_stops_after_one_definition() -> None:
    raw = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b"
    assert clean_completion(raw, MULTI, "", "", "") == "def add(a, b):\n    return a + b"


def test_repeat_of_the_suffix_is_cut() -> None:
    raw = "\n    total = sum(xs)\n    return total"
    suffix = "\n    return total\n"
    assert cut_at_suffix_repeat(raw, suffix) == "\n    total = sum(xs)"


def test_empty_and_echo_answers_are_dropped() -> None:
    assert clean_completion("   \n  ", MULTI, "x = ", "", "") == ""
    assert clean_completion(")", SINGLE, "f(", ")", ")") == ""


def test_trailing_whitespace_is_trimmed() -> None:
    assert clean_completion("a = 1   \nb = 2  \n", MULTI, "", "", "") == "a = 1\nb = 2"


def test_stop_check_ends_single_lines_at_newline_and_blocks_at_dedent() -> None:
    assert answer_is_complete(SINGLE, "x = f(")("a, b\n")
    assert not answer_is_complete(SINGLE, "x = f(")("a, b")
    check = answer_is_complete(MULTI, "    for x in xs:")
    assert not check("\n        y = x")
    assert check("\n        y = x\n    return")
