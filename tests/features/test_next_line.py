"""The editor state after accepting a suggestion and pressing Enter."""

from __future__ import annotations

from copilot_lsp.features.next_line import after_enter, auto_indent


def test_enter_keeps_the_indentation_of_a_plain_line() -> None:
    prefix = "def f(xs):\n    total = "
    assert after_enter(prefix, "0", "\n    return total\n") == prefix + "0\n    "


def test_enter_after_a_block_opener_indents_by_the_files_unit() -> None:
    prefix = "func Count(text string) map[string]int {\n\tcounts := 0\n\t"
    text = "for _, word := range strings.Fields(text) {"
    assert after_enter(prefix, text, "\n}\n", "go") == prefix + text + "\n\t\t"
    two = "def f(xs):\n  if xs:\n    pass\n  "
    assert after_enter(two, "for x in xs:", "\n") == two + "for x in xs:\n    "


def test_python_dedents_after_return() -> None:
    assert auto_indent("        return total", "    ", "python") == "    "
    assert auto_indent("        returned = 1", "    ", "python") == "        "
    assert auto_indent("        return total", "    ", "go") == "        "


def test_no_next_line_when_code_stays_right_of_the_cursor() -> None:
    assert after_enter("print(", "x", ")\n") is None
    assert after_enter("x = 1\n", "", "\n") is None  # nothing on the line to finish
