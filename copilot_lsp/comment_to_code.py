"""Comment-to-code: does the text before the cursor ask for an implementation?

Three shapes, in any language with ``#``, ``//``, ``--`` or ``/* */`` comments:

- a comment line (or block) followed by a new, empty line -> the code it describes;
- a function whose body is only a docstring -> its implementation (Python);
- a doc comment, a signature and an empty body ``{ | }`` -> the body (Go, JS, C-like).

Pure and line based, so the tree-sitter completion-kind code can call it as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Source = Literal["comment", "docstring", "doc-comment"]

_LINE_COMMENT = re.compile(r"^\s*(#(?![!\[]|include\b|define\b|if\b|endif\b|pragma\b)|//|--(?!-))")
_BLOCK_END = re.compile(r"\*/\s*$")
_DEF_LINE = re.compile(r"^(?P<indent>[ \t]*)(?:async\s+)?def\s+\w+")
_QUOTES = ('"""', "'''")


@dataclass(frozen=True)
class CodeRequest:
    source: Source
    description: str
    """The comment or docstring text, markers removed."""
    top_level: bool
    """The cursor is at column 0 (a new unit, e.g. a function) rather than inside a body."""

    @property
    def min_new_tokens(self) -> int:
        """Room for a whole unit: a new function needs more than the next steps."""
        return 384 if self.top_level else 256


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _strip_comment(line: str) -> str:
    text = line.strip()
    for marker in ("/**", "/*", "*/", "//", "#", "--", "*"):
        text = text.removeprefix(marker)
    return text.removesuffix("*/").strip()


def _comment_block(lines: list[str]) -> list[str]:
    """The comment lines that end ``lines`` (bottom-up, returned top-down)."""
    block: list[str] = []
    index = len(lines) - 1
    if index >= 0 and _BLOCK_END.search(lines[index]):
        while index >= 0:
            block.append(lines[index])
            if "/*" in lines[index]:
                return block[::-1]
            index -= 1
        return []
    while index >= 0 and _LINE_COMMENT.match(lines[index]):
        block.append(lines[index])
        index -= 1
    return block[::-1]


def _next_code_line(suffix: str) -> str | None:
    for line in suffix.split("\n")[1:]:
        if line.strip():
            return line
    return None


def _docstring_only_body(above: list[str]) -> str | None:
    """The docstring when ``above`` ends with a ``def`` whose body so far is only it."""
    last = above[-1].rstrip()
    quote = next((q for q in _QUOTES if last.endswith(q)), None)
    if quote is None:
        return None
    # Find the line that opens the docstring (it may be the closing line itself).
    index = len(above) - 1
    opening = last[: -len(quote)]
    while quote not in opening.lstrip("rRbBuU"):
        index -= 1
        if index < 0 or len(above) - index > 200:
            return None
        opening = above[index]
    doc_line = above[index]
    doc_width = len(_indent(doc_line))
    # The signature ends on the line before; it starts at most 20 lines up, on `def`.
    for start in range(index - 1, max(index - 21, -1), -1):
        match = _DEF_LINE.match(above[start])
        if match is not None:
            if not above[index - 1].rstrip().endswith(":"):
                return None
            if doc_width <= len(match.group("indent")):
                return None
            text = "\n".join(above[index:])
            return text.strip().strip("rRbBuU").strip(quote[0]).strip()
        if not above[start].strip():
            return None
    return None


def describes_code(prefix: str, suffix: str) -> CodeRequest | None:
    """The implementation request at the cursor, or None.

    The cursor must be on an otherwise empty line (only indentation left of it).
    """
    lines = prefix.split("\n")
    line_before = lines[-1]
    line_after = suffix.split("\n", 1)[0]
    if line_before.strip() or line_after.strip() or len(lines) < 2:
        return None
    above = lines[:-1]
    top_level = line_before == ""

    docstring = _docstring_only_body(above)
    if docstring is not None:
        following = _next_code_line(suffix)
        body_width = len(_indent(above[-1]))
        if following is None or len(_indent(following)) < body_width:
            return CodeRequest("docstring", docstring, False)

    previous = above[-1]
    if previous.rstrip().endswith("{"):
        # `signature {` + empty body `}` after a doc comment: write the body.
        following = _next_code_line(suffix)
        closes = following is not None and following.strip().startswith("}")
        block = _comment_block(above[:-1])
        if closes and block:
            description = " ".join(filter(None, map(_strip_comment, block)))
            return CodeRequest("doc-comment", description, False)
        return None

    block = _comment_block(above)
    if not block:
        return None
    if len(_indent(line_before)) < len(_indent(block[-1])) and not top_level:
        return None
    description = " ".join(filter(None, map(_strip_comment, block)))
    if not description:
        return None
    return CodeRequest("comment", description, top_level)
