"""Pure functions that turn raw model output into what the editor shows."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from copilot_lsp.syntax import CompletionKind, indentation, opens_block

_PAIRS = {")": "(", "]": "[", "}": "{"}


def cut_at_markers(text: str, markers: Iterable[str]) -> str:
    """Drop everything from the first special marker on."""
    for marker in markers:
        text = text.split(marker, 1)[0]
    return text


def _width(indent: str, tab_size: int = 4) -> int:
    return len(indent.replace("\t", " " * tab_size))


def block_end(text: str, line_before: str) -> int | None:
    """Where a multi-line completion leaves the block the cursor is in.

    The block is the cursor line's indentation (one level deeper after a block opener);
    the first later line that is indented less ends it. At the top level, a completion
    stops once it has gone into an indented body and come back out of it.
    """
    lines = text.split("\n")
    if len(lines) < 2:
        return None
    cursor_indent = _width(indentation(line_before))
    base = cursor_indent + 1 if opens_block(line_before) else cursor_indent
    went_deeper = False
    offset = len(lines[0]) + 1
    for line in lines[1:]:
        if line.strip():
            width = _width(indentation(line))
            if width < base:
                return offset
            if base == 0 and width > 0:
                went_deeper = True
            elif base == 0 and went_deeper and line[0] not in ")]}":
                return offset
        offset += len(line) + 1
    return None


def cut_to_block(text: str, line_before: str) -> str:
    end = block_end(text, line_before)
    return text if end is None else text[:end]


def cut_at_suffix_repeat(text: str, suffix: str) -> str:
    """Cut where the completion starts repeating the first code line after the cursor."""
    following = [line.strip() for line in suffix.split("\n")[1:] if line.strip()]
    if not following:
        return text
    anchor = following[0]
    lines = text.split("\n")
    offset = len(lines[0]) + 1
    for line in lines[1:]:
        if line.strip() == anchor:
            return text[:offset].rstrip("\n")
        offset += len(line) + 1
    return text


def unmatched_closers(text: str) -> int:
    depth = 0
    excess = 0
    for char in text:
        if char in "([{":
            depth += 1
        elif char in _PAIRS:
            if depth:
                depth -= 1
            else:
                excess += 1
    return excess


def _excess_closers(text: str) -> int:
    """Closing brackets without an opener, plus quotes left unpaired."""
    return unmatched_closers(text) + sum(text.count(quote) % 2 for quote in "\"'`")


def drop_closer_overlap(text: str, line_after: str) -> str:
    """Remove closing brackets/quotes the editor already has right of the cursor.

    Only when they close more than the completion opened, so that ``print(|)`` completed
    with ``x)`` keeps the editor's ``)`` once, but ``f(|)`` completed with ``g(x)`` keeps it.
    """
    head = line_after.strip()
    stripped = text.rstrip()
    for length in range(len(head), 0, -1):
        overlap = head[:length]
        if stripped.endswith(overlap):
            kept = stripped[: -len(overlap)]
            if _excess_closers(kept) < _excess_closers(stripped):
                return kept
    return text


def trim_trailing_whitespace(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.split("\n")).rstrip("\n")


def clean_completion(
    raw: str,
    kind: CompletionKind,
    line_before: str,
    line_after: str,
    suffix: str,
    markers: Iterable[str] = (),
) -> str:
    """All stages in order; returns "" when nothing worth showing is left."""
    text = cut_at_markers(raw, markers)
    if kind is CompletionKind.SINGLE_LINE:
        text = text.split("\n", 1)[0]
        text = drop_closer_overlap(text, line_after)
    else:
        text = cut_to_block(text, line_before)
        text = cut_at_suffix_repeat(text, suffix)
    text = trim_trailing_whitespace(text)
    if not text.strip() or text.strip() == line_after.strip():
        return ""
    return text


def answer_is_complete(kind: CompletionKind, line_before: str) -> Callable[[str], bool]:
    """A stop criterion for streaming: end generation once the answer cannot grow."""

    def check(text: str) -> bool:
        if kind is CompletionKind.SINGLE_LINE:
            return "\n" in text
        return block_end(text, line_before) is not None

    return check
