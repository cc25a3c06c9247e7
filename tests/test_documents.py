"""The document store: LSP positions in every encoding and incremental edits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot_lsp.documents import (
    UTF8,
    UTF16,
    UTF32,
    Document,
    DocumentStore,
    PositionError,
    column_to_index,
    units_in,
)

ENCODINGS = (UTF8, UTF16, UTF32)


def test_utf16_counts_astral_characters_as_two_units() -> None:
    line = 'x = "😋"'
    assert units_in(line[:6], UTF16) == 7
    assert units_in(line[:6], UTF8) == 9
    assert units_in(line[:6], UTF32) == 6
    assert column_to_index(line, 7, UTF16) == 6
    assert column_to_index(line, 9, UTF8) == 6
    assert column_to_index(line, 6, UTF32) == 6


def test_cjk_is_one_utf16_unit_and_three_utf8_bytes() -> None:
    line = "名前 = 1"
    assert column_to_index(line, 2, UTF16) == 2
    assert column_to_index(line, 6, UTF8) == 2


def test_column_inside_a_character_rounds_down_and_past_the_end_clamps() -> None:
    line = "a😋b"
    assert column_to_index(line, 2, UTF16) == 1  # between the two surrogates
    assert column_to_index(line, 99, UTF16) == 3


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_lines_split_only_at_lsp_line_breaks(newline: str) -> None:
    text = f"one\x0ctwo\u2028{newline}three"
    document = Document("file:///t", text)
    assert document.line_count == 2
    assert document.line_text(0) == "one\x0ctwo\u2028"
    assert document.offset_at(1, 0, UTF16) == len(f"one\x0ctwo\u2028{newline}")


def test_line_past_the_end_is_an_error_unless_clamped() -> None:
    document = Document("file:///t", "a\nb")
    with pytest.raises(PositionError):
        document.offset_at(2, 0, UTF16)
    assert document.offset_at(5, 0, UTF16, clamp=True) == 3


def test_incremental_change_with_emoji_in_utf16() -> None:
    document = Document("file:///t", 'print("👋")\n')
    document.apply_change(" world", (0, 9), (0, 9), UTF16)
    assert document.text == 'print("👋 world")\n'


def test_store_open_get_close() -> None:
    store = DocumentStore()
    store.open("untitled:Untitled-1", "", "python", 1)
    assert store.get("untitled:Untitled-1") is not None
    store.close("untitled:Untitled-1")
    assert store.get("untitled:Untitled-1") is None


alphabet = st.sampled_from(["a", "b", " ", "é", "中", "😋", "\n", "\r\n", "\r", "\t"])
texts = st.lists(alphabet, max_size=40).map("".join)


def _boundaries(text: str) -> list[int]:
    """Code-point offsets that are not inside a \\r\\n pair."""
    return [
        i for i in range(len(text) + 1) if not (0 < i < len(text) and text[i - 1 : i + 1] == "\r\n")
    ]


@settings(max_examples=300, deadline=None)
@given(
    initial=texts,
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), texts), max_size=8),
    encoding=st.sampled_from(ENCODINGS),
)
def test_random_incremental_edits_equal_the_full_text(
    initial: str, edits: list[tuple[int, int, str]], encoding: str
) -> None:
    document = Document("file:///t", initial)
    expected = initial
    for first, second, inserted in edits:
        valid = _boundaries(expected)
        start, end = sorted((valid[first % len(valid)], valid[second % len(valid)]))
        start_position = document.position_at(start, encoding)
        end_position = document.position_at(end, encoding)
        document.apply_change(inserted, start_position, end_position, encoding)
        expected = expected[:start] + inserted + expected[end:]
        assert document.text == expected
    fresh = Document("file:///t", expected)
    assert document.line_starts == fresh.line_starts


@settings(max_examples=200, deadline=None)
@given(text=texts, encoding=st.sampled_from(ENCODINGS))
def test_offset_position_round_trip(text: str, encoding: str) -> None:
    document = Document("file:///t", text)
    for offset in _boundaries(text):
        line, character = document.position_at(offset, encoding)
        assert document.offset_at(line, character, encoding) == offset
