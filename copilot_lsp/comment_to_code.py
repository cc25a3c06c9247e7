"""Comment-to-code: does the text before the cursor ask for an implementation?

Three shapes, in any language with ``#``, ``//``, ``--`` or ``/* */`` comments:

- a comment line (or block) followed by a new, empty line -> the code it describes;
- a function whose body is only a docstring -> its implementation (Python);
- a doc comment, a signature and an empty body ``{ | }`` -> the body (Go, JS, C-like).

A comment asks for code only when it has words and is no directive: pragmas (``# noqa``,
``//go:build``, ``// eslint-disable``), license headers and separator lines do not count.
Which markers start a comment depends on the language when it is known (``#count`` is a
JavaScript private field, ``--n`` a C decrement); with no language, all of them do.

Pure and line based, so the tree-sitter completion-kind code can call it as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Source = Literal["comment", "docstring", "doc-comment"]

_HASH_LANGUAGES = frozenset(
    {"python", "ruby", "shellscript", "shell", "bash", "sh", "zsh", "perl", "r", "julia",
     "elixir", "nim", "powershell", "coffeescript", "cmake", "makefile", "dockerfile",
     "yaml", "toml"}
)  # fmt: skip
_DASH_LANGUAGES = frozenset({"sql", "lua", "haskell", "elm", "ada", "purescript", "plsql"})
_SLASH_LANGUAGES = frozenset(
    {"javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp", "csharp", "kotlin",
     "swift", "scala", "dart", "objective-c", "groovy", "zig"}
)  # fmt: skip

# `#` lines that are no comment: shebang, Rust attributes, C preprocessor and C# directives.
_HASH_COMMENT = (
    r"#(?![!\[]|(?:include|define|undef|if|ifdef|ifndef|elif|elifdef|elifndef|else|endif"
    r"|pragma|error|warning|line|import|region|endregion|nullable)\b)"
)
_SLASH_COMMENT = r"//"
_DASH_COMMENT = r"--(?!-)"
_BLOCK_END = re.compile(r"\*/\s*$")
_DEF_LINE = re.compile(r"^(?P<indent>[ \t]*)(?:async\s+)?def\s+\w+")
_SIGNATURE_END = re.compile(r":\s*(?:#[^'\"]*)?$")
"""The end of a ``def`` line: its colon, maybe followed by a comment."""
_QUOTES = ('"""', "'''")

_DIRECTIVE_TEXT = re.compile(
    r"""^(?:
        -\*-.*-\*-                          # Emacs modeline, e.g. -*- coding: utf-8 -*-
      | vim?:\s                             # Vim modeline
      | (?:en)?coding[:=]
      | type:\s                             # Python type comment / type: ignore
      | noqa\b | nosec\b | pragma:\s
      | (?:pylint|mypy|pyright|ruff|flake8|isort|fmt|yapf|autopep8):\s*
      | fmt:\s*(?:off|on|skip)
      | (?:end)?region\b | \#(?:end)?region\b
      | eslint(?:-disable|-enable)?\b | jshint\b | prettier-ignore\b | istanbul\s+ignore\b
      | c8\s+ignore\b
      | @ts-(?:ignore|expect-error|nocheck|check)\b | @flow\b | @jsx\b | @refresh\b
      | /\s*<(?:reference|amd-module|amd-dependency)\b   # TypeScript /// directives
      | nolint\b | NOLINT | clang-format\s+(?:off|on)\b | (?:go|lint):\S | \+build\b
    )""",
    re.VERBOSE | re.IGNORECASE,
)
_GO_DIRECTIVE = re.compile(r"^\s*//(?:[a-z0-9]+:\S|nolint\b|export\s|line\s|\+build\b)")
_LICENSE = re.compile(
    r"^(?:copyright\b|\(c\)|©)|spdx-license-identifier|all rights reserved|licensed under\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]{2,}")


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


def _line_comment(language: str | None) -> re.Pattern[str]:
    """What starts a one-line comment in ``language`` (every marker when it is unknown)."""
    if language in _HASH_LANGUAGES:
        markers = [_HASH_COMMENT]
    elif language in _DASH_LANGUAGES:
        markers = [_DASH_COMMENT]
    elif language in _SLASH_LANGUAGES:
        markers = [_SLASH_COMMENT]
    else:
        markers = [_HASH_COMMENT, _SLASH_COMMENT, _DASH_COMMENT]
    return re.compile(rf"^\s*(?:{'|'.join(markers)})")


def _has_block_comments(language: str | None) -> bool:
    return language not in _HASH_LANGUAGES and language not in _DASH_LANGUAGES


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _strip_comment(line: str) -> str:
    text = line.strip()
    for marker in ("/**", "/*", "*/", "//", "#", "--", "*"):
        text = text.removeprefix(marker)
    return text.removesuffix("*/").strip()


def _is_directive(line: str) -> bool:
    """A pragma, linter or build directive, or a modeline: a comment for tools, not people."""
    return bool(_GO_DIRECTIVE.match(line) or _DIRECTIVE_TEXT.match(_strip_comment(line)))


def _describe(block: list[str]) -> str | None:
    """What a comment block asks for; None for directives, license headers and separators."""
    if not block or _is_directive(block[-1]):
        return None
    texts = [_strip_comment(line) for line in block if not _is_directive(line)]
    if any(_LICENSE.search(text) for text in texts):
        return None
    description = " ".join(filter(None, texts))
    return description if _WORD.search(description) else None


def _comment_block(lines: list[str], language: str | None) -> list[str]:
    """The comment lines that end ``lines`` (bottom-up, returned top-down)."""
    block: list[str] = []
    index = len(lines) - 1
    if index >= 0 and _BLOCK_END.search(lines[index]):
        if not _has_block_comments(language):
            return []
        while index >= 0:
            block.append(lines[index])
            if "/*" in lines[index]:
                # The block must be a comment of its own, not code with a trailing comment.
                return block[::-1] if lines[index].lstrip().startswith("/*") else []
            index -= 1
        return []
    line_comment = _line_comment(language)
    while index >= 0 and line_comment.match(lines[index]):
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
            if not _SIGNATURE_END.search(above[index - 1].rstrip()):
                return None
            if doc_width <= len(match.group("indent")):
                return None
            text = "\n".join(above[index:])
            return text.strip().strip("rRbBuU").strip(quote[0]).strip()
        if not above[start].strip():
            return None
    return None


def _signature_start(lines: list[str]) -> int:
    """The index of the line where the signature ending ``lines`` starts (its ``(`` line)."""
    depth = 0
    for index in range(len(lines) - 1, max(len(lines) - 21, -1), -1):
        depth += lines[index].count(")") - lines[index].count("(")
        if depth <= 0:
            return index
    return len(lines) - 1


def describes_code(prefix: str, suffix: str, language: str | None = None) -> CodeRequest | None:
    """The implementation request at the cursor, or None.

    The cursor must be on an otherwise empty line (only indentation left of it).
    ``language`` (``python``, ``go``, ...) decides which markers start a comment.
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
        block = _comment_block(above[: _signature_start(above)], language)
        description = _describe(block)
        if closes and description is not None:
            return CodeRequest("doc-comment", description, False)
        return None

    block = _comment_block(above, language)
    if not block:
        return None
    if len(_indent(line_before)) < len(_indent(block[-1])) and not top_level:
        return None
    description = _describe(block)
    if description is None:
        return None
    return CodeRequest("comment", description, top_level)
