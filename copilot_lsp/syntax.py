"""What kind of completion fits at the cursor.

A line-based first cut: it looks at the text left and right of the cursor on its line.
"""

from __future__ import annotations

from enum import Enum

_BLOCK_OPENERS = (":", "{", "(", "[", "=>", "->")


class CompletionKind(Enum):
    NONE = "none"
    SINGLE_LINE = "single-line"
    MULTI_LINE = "multi-line"


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def completion_kind(line_before: str, line_after: str) -> CompletionKind:
    """Decide from the current line's text before and after the cursor.

    - inside an identifier with more of it to the right: nothing useful to add;
    - other code to the right: one line;
    - otherwise (end of line, blank line): possibly several lines.
    """
    if line_before and line_after and _is_word(line_before[-1]) and _is_word(line_after[0]):
        return CompletionKind.NONE
    if line_after.strip():
        # Code (or only auto-closed brackets, as in `print(|)`) to the right: finish the line.
        return CompletionKind.SINGLE_LINE
    return CompletionKind.MULTI_LINE


def indentation(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def opens_block(line_before: str) -> bool:
    return line_before.rstrip().endswith(_BLOCK_OPENERS)
