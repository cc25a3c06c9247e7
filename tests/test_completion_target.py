"""Where an inline-completion item goes: the cursor as the document has it."""

from __future__ import annotations

from lsprotocol import types as lsp

from copilot_lsp.documents import UTF16, Document
from copilot_lsp.server import completion_target

TEXT = "s = '😀😀'\npath = os.path.exp\n"


def position(line: int, character: int) -> lsp.Position:
    return lsp.Position(line=line, character=character)


def span(start: tuple[int, int], end: tuple[int, int]) -> lsp.Range:
    return lsp.Range(start=position(*start), end=position(*end))


def target(at: lsp.Position, selected: lsp.SelectedCompletionInfo | None = None):
    return completion_target(Document("file:///t.py", TEXT), at, selected, UTF16)


def test_a_cursor_inside_a_surrogate_pair_moves_before_the_character() -> None:
    found = target(position(0, 6))  # between the two halves of the first emoji
    assert found.prefix == "s = '"
    assert found.replace == span((0, 5), (0, 5))


def test_a_column_past_the_end_of_the_line_is_the_end_of_the_line() -> None:
    found = target(position(1, 99))
    assert found.prefix.endswith("os.path.exp") and found.suffix == "\n"
    assert found.replace == span((1, 18), (1, 18))


def test_the_selected_item_is_completed_and_its_range_replaced() -> None:
    selected = lsp.SelectedCompletionInfo(range=span((1, 15), (1, 18)), text="expanduser")
    found = target(position(1, 18), selected)
    assert found.prefix.endswith("os.path.expanduser") and found.suffix == "\n"
    assert found.replace == span((1, 15), (1, 18)) and found.head == "expanduser"


def test_a_selected_range_away_from_the_cursor_is_ignored() -> None:
    for wrong in (span((0, 0), (0, 3)), span((1, 18), (1, 15)), span((50, 0), (60, 0))):
        found = target(position(1, 18), lsp.SelectedCompletionInfo(range=wrong, text="import"))
        assert found.prefix.endswith("os.path.exp") and found.head == ""
        assert found.replace == span((1, 18), (1, 18))
