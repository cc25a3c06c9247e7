"""The token budget and the alternating local window."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from copilot_lsp.prompt.budget import (
    TokenBudget,
    anchored,
    approximate_tokens,
    fit_window,
    split_middle,
)


def words(text: str) -> int:
    return len(text.split()) + text.count("\n")


PREFIX = "".join(f"above {i}\n" for i in range(20, 0, -1)) + "x = "
SUFFIX = "1\n" + "".join(f"below {i}\n" for i in range(1, 21))


def test_lines_are_taken_alternately_from_the_cursor() -> None:
    # Every line costs 3 (two words and its line break); the cursor halves cost 2 and 1.
    window = fit_window(PREFIX, SUFFIX, prefix_cap=2 + 3 * 4, suffix_cap=1 + 3 * 2, count=words)
    assert window.prefix == "above 4\nabove 3\nabove 2\nabove 1\nx = "
    assert window.suffix == "1\nbelow 1\nbelow 2"
    assert window.prefix_tokens <= 14 and window.suffix_tokens <= 7


def test_a_side_that_runs_out_leaves_its_budget_to_the_other() -> None:
    window = fit_window(PREFIX, "\n", prefix_cap=2 + 3 * 4, suffix_cap=30, count=words)
    assert window.prefix.count("\n") > 4
    assert window.suffix == "\n"


def test_everything_fits_when_the_budget_allows() -> None:
    window = fit_window(PREFIX, SUFFIX, 10_000, 10_000, approximate_tokens)
    assert (window.prefix, window.suffix) == (PREFIX, SUFFIX)


@given(st.text(max_size=300), st.text(max_size=300), st.integers(0, 200), st.integers(0, 100))
def test_window_is_the_text_next_to_the_cursor(prefix: str, suffix: str, pc: int, sc: int) -> None:
    window = fit_window(prefix, suffix, pc, sc, approximate_tokens)
    assert prefix.endswith(window.prefix) and suffix.startswith(window.suffix)
    head, tail = prefix.split("\n")[-1], suffix.split("\n")[0]
    if approximate_tokens(head) + approximate_tokens(tail) <= pc + sc:
        # The cursor line's halves are kept whole whenever they fit the budget.
        assert window.prefix.endswith(head) and window.suffix.startswith(tail)
    else:
        assert head.endswith(window.prefix) and tail.startswith(window.suffix)
    assert window.prefix_tokens + window.suffix_tokens <= pc + sc
    assert approximate_tokens(window.prefix) + approximate_tokens(window.suffix) <= pc + sc


def test_budget_shares() -> None:
    budget = TokenBudget(prompt_tokens=1000, suffix_share=0.2, context_share=0.3)
    assert budget.context_tokens == 300
    assert budget.window_tokens(300) == (560, 140)
    with pytest.raises(ValueError):
        TokenBudget(context_share=1.5)


def test_an_anchored_window_keeps_its_first_line_while_the_user_types() -> None:
    """A window that slid with every keystroke would cost a full prompt evaluation."""
    lines = [f"line {number}" for number in range(400)]
    starts = []
    keep_from = None
    for cursor_line in range(300, 340):
        prefix = "\n".join(lines[:cursor_line]) + "\nx = "
        for typed in ("", "a", "ab + c"):
            window = fit_window(prefix + typed, "\n", 300, 10, approximate_tokens, 32, keep_from)
            first = window.prefix.split("\n", 1)[0]
            assert first == f"line {window.first_line}" and window.first_line % 32 == 0
            assert window.prefix_tokens + window.suffix_tokens <= 310
            if not starts or starts[-1] != first:
                starts.append(first)
            keep_from = window.first_line
    assert len(starts) <= 3  # 40 lines typed: the start moved at most twice
    unanchored = {
        fit_window("\n".join(lines[:n]) + "\nx = ", "\n", 300, 10, approximate_tokens).prefix[:9]
        for n in range(300, 340)
    }
    assert len(unanchored) > 30


def test_anchoring_leaves_a_window_that_reaches_the_top_as_it_is() -> None:
    prefix = "".join(f"line {number}\n" for number in range(50)) + "x = "
    window = fit_window(prefix, "\n", 10_000, 100, approximate_tokens, 32)
    assert window.prefix == prefix


def test_anchored_keeps_lines_down_to_the_next_multiple() -> None:
    assert anchored(taken=100, cursor_line=250, anchor=32) == 250 - 160
    assert anchored(taken=100, cursor_line=100, anchor=32) == 100  # reaches line 0
    assert anchored(taken=40, cursor_line=250, anchor=32) == 40  # too short to anchor
    assert anchored(taken=100, cursor_line=250, anchor=0) == 100


def test_a_kept_start_does_not_flip_back_and_forth_at_an_anchor_line() -> None:
    # Typing changes how far back the budget reaches: line 65, then line 64.
    assert anchored(taken=100, cursor_line=165, anchor=32) == 165 - 96
    assert anchored(taken=101, cursor_line=165, anchor=32) == 165 - 64
    assert anchored(taken=101, cursor_line=165, anchor=32, keep_from=96) == 165 - 96
    # Once the budget no longer reaches the kept line, the start moves on.
    assert anchored(taken=100, cursor_line=165, anchor=32, keep_from=64) == 165 - 96


def test_the_middle_starts_on_the_last_line_that_is_a_multiple() -> None:
    window = "".join(f"line {n}\n" for n in range(20, 27)) + "cur"  # file lines 20..27
    cut = window.index("line 24")
    assert split_middle(window, 27, 8) == (window[:cut], "line 24\nline 25\nline 26\ncur")
    assert split_middle(window, 27, 1) == (window[:-3], "cur")
    # The window starts after that line (it was cut by the budget): all of it is middle.
    assert split_middle(window, 27, 16) == ("", window)
    assert split_middle("cur", 0, 8) == ("", "cur")
    # As a request on line 23 would (the precompute of the line after a suggestion).
    assert split_middle(window, 27, 8, from_line=23) == ("", window)
    assert split_middle(window, 27, 4, from_line=26) == (window[:cut], window[cut:])
    assert split_middle(window, 27, 8, from_line=30) == split_middle(window, 27, 8)


@given(st.lists(st.text("ab \t", max_size=5), min_size=1, max_size=30), st.integers(1, 10))
def test_the_middle_split_keeps_every_character(lines: list[str], every: int) -> None:
    window = "\n".join(lines)
    cursor_line = 40 + len(lines) - 1
    head, middle = split_middle(window, cursor_line, every)
    assert head + middle == window
    assert head == "" or head.endswith("\n")
    assert middle.count("\n") == min(cursor_line % every, len(lines) - 1)


LONG_LINE = "data = [" + ", ".join(f'"k{i}"' for i in range(12_000)) + "]"  # ~100k characters


class Counted:
    """approximate_tokens, recording the length of every text it counts."""

    def __init__(self) -> None:
        self.lengths: list[int] = []

    def __call__(self, text: str) -> int:
        self.lengths.append(len(text))
        return approximate_tokens(text)


@pytest.mark.parametrize("column", [0, len(LONG_LINE) // 2, len(LONG_LINE)])
def test_a_very_long_cursor_line_is_cut_to_the_budget(column: int) -> None:
    prefix = "import json\n" + LONG_LINE[:column]
    suffix = LONG_LINE[column:] + "\nprint(data)\n"
    count = Counted()
    window = fit_window(prefix, suffix, 1700, 300, count)
    assert approximate_tokens(window.prefix) + approximate_tokens(window.suffix) <= 2000
    # The text nearest the cursor is kept, and the window is one piece of the line.
    assert LONG_LINE[:column].endswith(window.prefix)
    assert LONG_LINE[column:].startswith(window.suffix)
    assert approximate_tokens(window.prefix + window.suffix) > 1900
    # Cheap: a few counts of what the budget can span, never the whole line.
    assert len(count.lengths) <= 12 and max(count.lengths) <= 2000 * 32


@pytest.mark.parametrize("column", [0, len(LONG_LINE) // 2, len(LONG_LINE)])
def test_a_long_cursor_line_with_anchoring_still_fits(column: int) -> None:
    prefix = "".join(f"line {i}\n" for i in range(100)) + LONG_LINE[:column]
    window = fit_window(prefix, LONG_LINE[column:], 500, 100, approximate_tokens, 32, 64, 100)
    assert approximate_tokens(window.prefix) + approximate_tokens(window.suffix) <= 600
    assert window.first_line == 100
    assert split_middle(window.prefix, 100, 32) == ("", window.prefix)
