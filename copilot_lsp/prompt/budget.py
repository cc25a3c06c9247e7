"""Token budget: how much local window and cross-file context a prompt gets.

The local window is grown line by line from the cursor outward, one prefix line and one
suffix line in turn (as llm-ls does), so that both sides keep the code nearest the cursor.
While the user types, its first line can be held in place (``anchor_lines``): a window
that slides by one line per keystroke would make the backend evaluate the whole prompt
again, since its KV cache only keeps the unchanged start of the last one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

CountTokens = Callable[[str], int]
MAX_CHARS_PER_TOKEN = 32
TYPICAL_CHARS_PER_TOKEN = 4


def approximate_tokens(text: str) -> int:
    """A tokenizer-free estimate (code averages ~3.5 characters per token)."""
    return (len(text) * 2 + 6) // 7


@dataclass(frozen=True)
class TokenBudget:
    """Shares of one prompt-token budget (the completion's tokens come on top)."""

    prompt_tokens: int = 2048
    """Everything the prompt may hold: local window, cross-file context, markers."""
    suffix_share: float = 0.15
    """Of the local window, at most this share goes to the text after the cursor."""
    context_share: float = 0.25
    """At most this share of the prompt goes to cross-file snippets; what they leave
    unused goes to the local window."""
    anchor_lines: int = 0
    """When the window does not reach the top of the file, start it at a line number that
    is a multiple of this (0: start it wherever the budget ends)."""

    middle_lines: int = 0
    """When not 0, the text before the cursor from the last line whose number is a multiple
    of this goes into the FIM middle, as if the model had written it, instead of ending the
    prefix. While the user types on, the prompt then only grows at its end, so the backend's
    KV cache keeps the suffix too instead of evaluating it again after every keystroke; it
    changes once every ``middle_lines`` lines. Needs token healing (the text may end inside
    a word)."""

    def __post_init__(self) -> None:
        if self.prompt_tokens < 64:
            raise ValueError("prompt_tokens must be at least 64")
        for name in ("suffix_share", "context_share"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {value}")
        if self.anchor_lines < 0 or self.middle_lines < 0:
            raise ValueError("anchor_lines and middle_lines must not be negative")

    @property
    def context_tokens(self) -> int:
        return int(self.prompt_tokens * self.context_share)

    def window_tokens(self, context_used: int) -> tuple[int, int]:
        """(prefix, suffix) token caps once the context block took ``context_used``."""
        local = max(self.prompt_tokens - context_used, 32)
        suffix = int(local * self.suffix_share)
        return local - suffix, suffix


def _lines_above(prefix: str, total: int) -> tuple[str, list[str]]:
    """The cursor line's left half and the (at most ``total``) lines above it.

    Only text near the cursor can fit: a token rarely spans more than
    MAX_CHARS_PER_TOKEN characters and every line costs at least one token, so a long
    file is not split whole on every keystroke.
    """
    start = prefix.rfind("\n") + 1
    head, rest = prefix[start:], prefix[: max(start - 1, 0)]
    if not start or not total:
        return head, []
    reach = total * MAX_CHARS_PER_TOKEN
    lines = rest[-reach:].split("\n")[1:] if len(rest) > reach else rest.split("\n")
    return head, lines[-total:]


def _lines_below(suffix: str, total: int) -> tuple[str, list[str]]:
    """The cursor line's right half and the (at most ``total``) lines below it."""
    end = suffix.find("\n")
    if end == -1:
        return suffix, []
    tail, rest = suffix[:end], suffix[end + 1 :]
    if not total:
        return tail, []
    reach = total * MAX_CHARS_PER_TOKEN
    lines = rest[:reach].split("\n")[:-1] if len(rest) > reach else rest.split("\n")
    return tail, lines[:total]


def _fit_piece(text: str, cap: int, count: CountTokens, from_end: bool) -> tuple[str, int]:
    """The end (``from_end``) or start of ``text`` that costs at most ``cap``, nearly all
    of it, found in a few counts of about ``cap`` tokens each.

    A cursor line can be a whole minified file: a piece of the length ``cap`` tokens
    usually span is counted first, then resized by the characters per token it had.
    """

    def piece(size: int) -> str:
        return text[len(text) - size :] if from_end else text[:size]

    if cap <= 0:
        return "", 0
    guess = cap * TYPICAL_CHARS_PER_TOKEN
    size = len(text) if len(text) <= 2 * guess else guess
    tokens = count(piece(size))
    if size < len(text) and tokens < cap:
        size = min(len(text), cap * MAX_CHARS_PER_TOKEN, size * cap // max(tokens, 1))
        tokens = count(piece(size))
    slack = 0  # aims lower each time, for text whose tokens are far from evenly long
    while tokens > cap:
        size = min(size - 1, size * max(cap - slack, 0) // tokens)
        tokens = count(piece(size))
        slack = slack * 2 or 1
    return piece(size), tokens


def _fit_cursor_line(
    head: str, tail: str, prefix_cap: int, suffix_cap: int, count: CountTokens
) -> tuple[str, int, str, int]:
    """The cursor line's halves, whole when together they fit both caps; else each is cut
    to its own cap plus what the other half leaves of its cap, keeping the text nearest
    the cursor."""
    total = prefix_cap + suffix_cap
    kept_head, head_tokens = _fit_piece(head, prefix_cap, count, True)
    kept_tail, tail_tokens = _fit_piece(tail, suffix_cap, count, False)
    head_whole, tail_whole = len(kept_head) == len(head), len(kept_tail) == len(tail)
    if head_whole and not tail_whole:
        kept_tail, tail_tokens = _fit_piece(tail, total - head_tokens, count, False)
    elif tail_whole and not head_whole:
        kept_head, head_tokens = _fit_piece(head, total - tail_tokens, count, True)
    return kept_head, head_tokens, kept_tail, tail_tokens


@dataclass(frozen=True)
class Window:
    prefix: str
    suffix: str
    prefix_tokens: int
    suffix_tokens: int
    first_line: int | None = None
    """The file's line number the window starts on (known when it was anchored)."""


def anchored(taken: int, cursor_line: int, anchor: int, keep_from: int | None = None) -> int:
    """How many of the ``taken`` lines above the cursor line to keep so that the window
    starts at a line number that is a multiple of ``anchor``, or at ``keep_from`` (where
    the last window in this file started) while the budget still reaches back to it: the
    start then moves only when it must, by at least ``anchor`` lines, instead of on every
    keystroke. A window that reaches the top of the file, or that holds fewer than two
    anchors of lines, stays as it is."""
    first = cursor_line - taken
    if anchor <= 1 or first <= 0 or taken < 2 * anchor:
        return taken
    if keep_from is not None and first <= keep_from < cursor_line:
        return cursor_line - keep_from
    return cursor_line - -(-first // anchor) * anchor


def fit_window(
    prefix: str,
    suffix: str,
    prefix_cap: int,
    suffix_cap: int,
    count: CountTokens,
    anchor_lines: int = 0,
    keep_from: int | None = None,
    cursor_line: int | None = None,
) -> Window:
    """The text around the cursor that fits, taken a line at a time from each side in turn.

    The cursor line's two halves are kept whole when they fit the caps, else cut to them
    at the cursor's far side (a very long line). A side whose next line does not fit
    (or that has no more lines) stops; the other side then may use what it left unused.
    With ``anchor_lines``, a few more lines above are left out so that the window starts
    at a multiple of it or at ``keep_from`` (see :func:`anchored`); ``cursor_line`` (the
    number of line breaks in ``prefix``) saves counting them again.
    """
    total = prefix_cap + suffix_cap
    head, above = _lines_above(prefix, total)
    tail, below = _lines_below(suffix, total)
    kept_head, used_prefix, kept_tail, used_suffix = _fit_cursor_line(
        head, tail, prefix_cap, suffix_cap, count
    )
    taken_above = taken_below = 0
    # A cut cursor line fills the window: no other line goes in (nor could, contiguously).
    prefix_open = suffix_open = len(kept_head) == len(head) and len(kept_tail) == len(tail)
    while prefix_open or suffix_open:
        if prefix_open:
            if taken_above < len(above):
                cost = count(above[-1 - taken_above] + "\n")
                cap = prefix_cap if suffix_open else total - used_suffix
                if used_prefix + cost <= cap:
                    used_prefix += cost
                    taken_above += 1
                else:
                    prefix_open = False
            else:
                prefix_open = False
        if suffix_open:
            if taken_below < len(below):
                cost = count("\n" + below[taken_below])
                cap = suffix_cap if prefix_open else total - used_prefix
                if used_suffix + cost <= cap:
                    used_suffix += cost
                    taken_below += 1
                else:
                    suffix_open = False
            else:
                suffix_open = False
    first_line = None
    if anchor_lines:
        if cursor_line is None:
            cursor_line = prefix.count("\n")
        kept = anchored(taken_above, cursor_line, anchor_lines, keep_from)
        dropped = above[len(above) - taken_above : len(above) - kept]
        used_prefix -= sum(count(line + "\n") for line in dropped)
        taken_above = kept
        first_line = cursor_line - kept
    kept_above = above[len(above) - taken_above :] if taken_above else []
    kept_prefix = "".join(line + "\n" for line in kept_above) + kept_head
    kept_suffix = kept_tail + "".join("\n" + line for line in below[:taken_below])
    return Window(kept_prefix, kept_suffix, used_prefix, used_suffix, first_line)


def split_middle(
    window_prefix: str, cursor_line: int, middle_lines: int, from_line: int | None = None
) -> tuple[str, str]:
    """(prefix, middle start): the window's text before the cursor cut at the start of the
    last line whose number is a multiple of ``middle_lines`` at or above the cursor's line
    (or ``from_line``'s, when it is not below the cursor), or at the window's start."""
    first_line = cursor_line - window_prefix.count("\n")
    line = cursor_line if from_line is None or from_line > cursor_line else from_line
    kept = max(0, line - line % middle_lines - first_line)
    cut = 0
    for _ in range(kept):
        cut = window_prefix.index("\n", cut) + 1
    return window_prefix[:cut], window_prefix[cut:]
