"""What the code around the cursor is: tree-sitter parsers per language, cursor analysis.

- :func:`language_of` maps an LSP language id or a file name to one of :data:`LANGUAGES`.
- :class:`ParsedDocument` keeps a tree per document and reparses incrementally: each new
  text is diffed against the old one and only the changed span is edited into the tree.
- :func:`analyze` decides the completion kind at the cursor (none / single line /
  multi-line block), and knows the enclosing scopes and whether the cursor is in a comment
  or a string. :func:`is_test_file` follows each language's naming conventions.

The line-based :func:`completion_kind` stays as the fallback for unknown languages.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from pathlib import PurePosixPath

import tree_sitter

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


# --- languages -------------------------------------------------------------------------


@dataclass(frozen=True)
class LanguageSpec:
    name: str
    """Canonical name (``python``, ``typescript``, ``tsx``, ...)."""
    display: str
    """How a header names it (``Python``)."""
    module: str
    function: str
    extensions: tuple[str, ...]
    line_comment: str
    """How a one-line comment starts (prompt headers, comment-style context blocks)."""


LANGUAGES: dict[str, LanguageSpec] = {
    spec.name: spec
    for spec in (
        LanguageSpec("python", "Python", "tree_sitter_python", "language", (".py", ".pyi"), "#"),
        LanguageSpec(
            "javascript",
            "JavaScript",
            "tree_sitter_javascript",
            "language",
            (".js", ".jsx", ".mjs", ".cjs"),
            "//",
        ),
        LanguageSpec(
            "typescript",
            "TypeScript",
            "tree_sitter_typescript",
            "language_typescript",
            (".ts", ".mts", ".cts"),
            "//",
        ),
        LanguageSpec("tsx", "TSX", "tree_sitter_typescript", "language_tsx", (".tsx",), "//"),
        LanguageSpec("go", "Go", "tree_sitter_go", "language", (".go",), "//"),
        LanguageSpec("rust", "Rust", "tree_sitter_rust", "language", (".rs",), "//"),
        LanguageSpec("java", "Java", "tree_sitter_java", "language", (".java",), "//"),
        LanguageSpec("c", "C", "tree_sitter_c", "language", (".c", ".h"), "//"),
        LanguageSpec(
            "cpp",
            "C++",
            "tree_sitter_cpp",
            "language",
            (".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx"),
            "//",
        ),
    )
}

_LANGUAGE_IDS = {
    "javascriptreact": "javascript",
    "typescriptreact": "tsx",
    "c++": "cpp",
    "golang": "go",
}


def language_of(language_id: str = "", path: str = "") -> str | None:
    """The canonical language for an LSP language id, else for the file's extension."""
    key = language_id.lower()
    key = _LANGUAGE_IDS.get(key, key)
    if key in LANGUAGES:
        return key
    suffix = PurePosixPath(path.replace("\\", "/")).suffix.lower()
    for spec in LANGUAGES.values():
        if suffix in spec.extensions:
            return spec.name
    return None


@cache
def parser_for(language: str) -> tree_sitter.Parser | None:
    """A parser for ``language``; None when its grammar wheel is not installed."""
    spec = LANGUAGES.get(language)
    if spec is None:
        return None
    try:
        module = importlib.import_module(spec.module)
    except ImportError:
        return None
    return tree_sitter.Parser(tree_sitter.Language(getattr(module, spec.function)()))


def utf8(text: str) -> bytes:
    """The bytes tree-sitter parses. A lone surrogate (valid JSON, so possible in an
    editor's document) passes as 3 bytes, like any other character of its plane, so byte
    offsets stay consistent with :func:`_utf8_len`."""
    return text.encode("utf-8", errors="surrogatepass")


def _point(text: str) -> tuple[int, int]:
    """The (row, byte column) reached after ``text``."""
    row = text.count("\n")
    last = text[text.rfind("\n") + 1 :]
    return row, _utf8_len(last)


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(utf8(text))


def common_affixes(old: str, new: str) -> tuple[int, int]:
    """Lengths of the longest common prefix and (not overlapping it) common suffix.

    Binary search over slice comparisons: C-speed compares instead of a Python loop per
    character, which matters for 100 kB files on every keystroke.
    """
    limit = min(len(old), len(new))
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if old[:middle] == new[:middle]:
            low = middle
        else:
            high = middle - 1
    start = low
    low, high = 0, limit - start
    while low < high:
        middle = (low + high + 1) // 2
        if old[len(old) - middle :] == new[len(new) - middle :]:
            low = middle
        else:
            high = middle - 1
    return start, low


MAX_PARSED_CHARS = 1_000_000
"""Longer documents get no syntax tree: parsing 5 MB of Python took 1.9 s and each
reparse after a keystroke 0.6 s. Completions there go by the
text alone (line-based analysis, no imports)."""


class ParsedDocument:
    """A document's text and syntax tree.

    Nothing is parsed until the tree is first read: documents open on the event loop,
    while completions read the trees on the model thread (1 MB took 0.3-0.4 s to parse).
    :meth:`update` only records the new text; the tree catches up when it is next read,
    with one incremental reparse for all the edits since (typing several characters
    between two completions costs one reparse, not one per keystroke).
    """

    def __init__(self, text: str, language: str) -> None:
        self.language = language
        self.parser = parser_for(language)
        self.text = text
        self._parsed_text = ""
        self._tree: tree_sitter.Tree | None = None

    def update(self, text: str) -> None:
        self.text = text

    @property
    def tree(self) -> tree_sitter.Tree | None:
        if self._tree is None or len(self.text) > MAX_PARSED_CHARS:
            self._parse()  # (the first read; or drops the tree of a document grown too long)
        elif self.text is not self._parsed_text:
            self._reparse()
        return self._tree

    def _parse(self) -> None:
        fits = self.parser is not None and len(self.text) <= MAX_PARSED_CHARS
        self._tree = self.parser.parse(utf8(self.text)) if fits else None  # type: ignore[union-attr]
        self._parsed_text = self.text

    def _reparse(self) -> None:
        """Edit the changed span into the old tree, then reparse reusing the rest."""
        assert self._tree is not None and self.parser is not None
        old, text = self._parsed_text, self.text
        self._parsed_text = text
        if old == text:
            return
        start, end = common_affixes(old, text)
        head = old[:start]
        start_byte = _utf8_len(head)
        old_middle, new_middle = old[start : len(old) - end], text[start : len(text) - end]
        self._tree.edit(
            start_byte=start_byte,
            old_end_byte=start_byte + _utf8_len(old_middle),
            new_end_byte=start_byte + _utf8_len(new_middle),
            start_point=_point(head),
            old_end_point=_point(head + old_middle),
            new_end_point=_point(head + new_middle),
        )
        self._tree = self.parser.parse(utf8(text), self._tree)


# --- cursor analysis -------------------------------------------------------------------

_SCOPE_TYPES = {
    "function_definition",
    "class_definition",
    "function_declaration",
    "generator_function_declaration",
    "method_definition",
    "class_declaration",
    "interface_declaration",
    "method_declaration",
    "constructor_declaration",
    "enum_declaration",
    "function_item",
    "impl_item",
    "trait_item",
    "mod_item",
    "struct_item",
    "enum_item",
    "class_specifier",
    "struct_specifier",
    "namespace_definition",
    "type_declaration",
}
_STRING_TYPES = {
    "string",
    "string_content",
    "string_fragment",
    "template_string",
    "interpreted_string_literal",
    "raw_string_literal",
    "string_literal",
    "char_literal",
    "character_literal",
}
_CODE_IN_STRING_TYPES = {"template_substitution", "interpolation", "string_interpolation"}
_BODY_TYPES = {"block", "statement_block", "compound_statement", "class_body", "declaration_list"}


@dataclass
class CursorAnalysis:
    kind: CompletionKind
    scopes: list[str] = field(default_factory=list)
    """Enclosing scopes, outermost first (``class Cart``, ``def total``)."""
    in_comment: bool = False
    in_string: bool = False
    reason: str = ""
    """Which rule decided the kind (for logs and tests)."""


def _scope_name(node: tree_sitter.Node) -> str:
    name = node.child_by_field_name("name")
    if name is None:
        declarator = node.child_by_field_name("declarator")
        while declarator is not None and declarator.type not in ("identifier", "field_identifier"):
            inner = declarator.child_by_field_name("declarator")
            if inner is None:
                break
            declarator = inner
        name = declarator
    if name is None and node.type == "impl_item":
        name = node.child_by_field_name("type")
    if name is None and node.type == "type_declaration" and node.named_child_count:
        name = node.named_children[0].child_by_field_name("name")
    label = name.text.decode("utf-8", errors="replace") if name is not None and name.text else "?"
    return f"{node.type.split('_')[0]} {label}"


def _node_at(tree: tree_sitter.Tree, byte: int) -> tree_sitter.Node:
    return tree.root_node.descendant_for_byte_range(byte, byte)


def _inside(node: tree_sitter.Node, byte: int, types: set[str], word: str) -> bool:
    """Whether ``byte`` lies inside a node of ``types`` (or whose type contains ``word``).

    Strings must enclose the cursor strictly; a line comment also counts at its end.
    """
    current: tree_sitter.Node | None = node
    while current is not None:
        if current.type in _CODE_IN_STRING_TYPES:
            return False  # `${...}` / f"{...}": code, even though a string encloses it
        if current.type in types and current.start_byte < byte < current.end_byte:
            return True
        if word and word in current.type and current.start_byte < byte <= current.end_byte:
            return True
        current = current.parent
    return False


def _previous_code_line(prefix: str) -> str:
    lines = prefix.split("\n")[:-1]
    for line in reversed(lines):
        if line.strip():
            return line
    return ""


def _is_comment_line(line: str, language: str) -> bool:
    stripped = line.strip()
    marker = LANGUAGES[language].line_comment if language in LANGUAGES else "#"
    return stripped.startswith((marker, "/*", "*", '"""', "'''")) and not stripped.startswith("#!")


def analyze(
    document: ParsedDocument | None, cursor: int, prefix: str | None = None
) -> CursorAnalysis:
    """Completion kind, scopes and comment/string state at code-point offset ``cursor``.

    Rules, in order: in the middle of an identifier -> none; inside a comment or string
    with text to its right -> none, at its end -> one line; code to the right -> one line;
    a blank line after a block opener, an empty body or a comment describing code ->
    multi-line; the end of a line that opens a block or is unfinished (a parse error) ->
    multi-line; the end of any other line or a blank line -> multi-line.
    """
    text = document.text if document is not None else (prefix or "")
    before = text[:cursor] if prefix is None else prefix
    after = text[cursor:] if document is not None else ""
    line_before = before[before.rfind("\n") + 1 :]
    line_after = after.split("\n", 1)[0]
    language = document.language if document is not None else ""
    if document is None or document.tree is None:
        return CursorAnalysis(completion_kind(line_before, line_after), reason="line-based")
    tree = document.tree
    byte = _utf8_len(before)
    node = _node_at(tree, max(byte - 1, 0)) if line_before.strip() else _node_at(tree, byte)
    scopes: list[str] = []
    # Scopes from the last code before the cursor (a Python block ends at its last token);
    # on a blank Python line, only those indented less than the cursor enclose it.
    code_end = before.rstrip()
    walker: tree_sitter.Node | None = _node_at(tree, max(_utf8_len(code_end) - 1, 0))
    column = len(line_before) if not line_before.strip() and language == "python" else None
    while walker is not None:
        if walker.type in _SCOPE_TYPES and (column is None or walker.start_point[1] < column):
            scopes.append(_scope_name(walker))
        walker = walker.parent
    scopes.reverse()
    in_comment = bool(line_before.strip()) and _inside(node, byte, set(), "comment")
    in_string = not in_comment and _inside(node, byte, _STRING_TYPES, "")

    def result(kind: CompletionKind, reason: str) -> CursorAnalysis:
        return CursorAnalysis(kind, scopes, in_comment, in_string, reason)

    if line_before and line_after and _is_word(line_before[-1]) and _is_word(line_after[0]):
        return result(CompletionKind.NONE, "mid-identifier")
    if in_comment or in_string:
        if line_after.strip() and line_after.strip()[0] not in "\"'`)]};,":
            return result(CompletionKind.NONE, "inside comment/string")
        return result(CompletionKind.SINGLE_LINE, "end of comment/string")
    if line_after.strip():
        return result(CompletionKind.SINGLE_LINE, "code to the right")
    if not line_before.strip():
        previous = _previous_code_line(before)
        if _is_comment_line(previous, language):
            return result(CompletionKind.MULTI_LINE, "after a comment")
        if opens_block(previous):
            return result(CompletionKind.MULTI_LINE, "after a block opener")
        body = _node_at(tree, byte)
        while body is not None and body.type not in _BODY_TYPES:
            body = body.parent
        if body is not None and body.named_child_count == 0:
            return result(CompletionKind.MULTI_LINE, "empty body")
        return result(CompletionKind.MULTI_LINE, "blank line")
    if opens_block(line_before):
        return result(CompletionKind.MULTI_LINE, "block opener")
    line_start = byte - _utf8_len(line_before)
    around = tree.root_node.descendant_for_byte_range(line_start, max(byte - 1, line_start))
    if _has_error(around):
        return result(CompletionKind.MULTI_LINE, "unfinished statement")
    # The end of a finished statement: the user may go on with the next lines.
    return result(CompletionKind.MULTI_LINE, "end of a line")


def _has_error(node: tree_sitter.Node | None) -> bool:
    """Whether ``node`` or an ancestor below the root is a parse error or a missing token."""
    while node is not None and node.parent is not None:
        if node.type == "ERROR" or node.is_missing or node.has_error:
            return True
        node = node.parent
    return False


def analyze_text(prefix: str, suffix: str, language: str | None) -> CursorAnalysis:
    """:func:`analyze` for a text given as prefix and suffix (parses it from scratch)."""
    if language is None or parser_for(language) is None:
        line_before = prefix[prefix.rfind("\n") + 1 :]
        return CursorAnalysis(
            completion_kind(line_before, suffix.split("\n", 1)[0]), reason="line-based"
        )
    return analyze(ParsedDocument(prefix + suffix, language), len(prefix))


# --- test files ------------------------------------------------------------------------

_TEST_PATTERNS: dict[str, tuple[str, ...]] = {
    "python": (r"(^|/)test_[^/]*\.py$", r"_test\.py$", r"(^|/)conftest\.py$", r"(^|/)tests?/"),
    "javascript": (r"\.(test|spec)\.[cm]?jsx?$", r"(^|/)__tests__/"),
    "typescript": (r"\.(test|spec)\.[cm]?ts$", r"(^|/)__tests__/"),
    "tsx": (r"\.(test|spec)\.tsx$", r"(^|/)__tests__/"),
    "go": (r"_test\.go$",),
    "rust": (r"(^|/)tests/[^/]*\.rs$",),
    "java": (r"Tests?\.java$", r"(^|/)src/test/"),
    "c": (r"(^|/)test_[^/]*\.[ch]$", r"_test\.[ch]$", r"(^|/)tests?/"),
    "cpp": (r"(^|/)test_[^/]*\.\w+$", r"_(test|unittest)\.\w+$", r"(^|/)tests?/"),
}


def is_test_file(path: str, language: str | None = None, text: str = "") -> bool:
    """Whether ``path`` is a test file by its language's conventions.

    Rust unit tests live beside the code: a ``#[cfg(test)]`` module also counts.
    """
    normalized = path.replace("\\", "/")
    language = language or language_of(path=normalized)
    if language is None:
        return False
    if language == "rust" and "#[cfg(test)]" in text:
        return True
    return any(re.search(pattern, normalized) for pattern in _TEST_PATTERNS.get(language, ()))
