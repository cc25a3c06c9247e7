"""Exact match and edit similarity as CrossCodeEval computes them."""

import pytest

from copilot_lsp.eval.matching import edit_similarity, exact_match, first_line


def test_first_line_skips_blank_lines_and_strips() -> None:
    assert first_line("\n\n  foo(x)  \nbar") == "foo(x)"
    assert first_line("") == ""


def test_exact_match_compares_first_lines() -> None:
    assert exact_match("foo(x)\nmore()", "foo(x)")
    assert not exact_match("foo(y)", "foo(x)")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("abc", "abc", 1.0),
        ("abc", "abd", 4 / 6),
        ("abc", "", 0.0),
        ("", "", 1.0),
        ("kitten", "sitting", 2 * 4 / 13),  # LCS "ittn"
    ],
)
def test_edit_similarity_is_normalised_indel_similarity(a: str, b: str, expected: float) -> None:
    assert edit_similarity(a, b) == pytest.approx(expected)
