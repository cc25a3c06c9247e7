"""Context beyond the local window for inline completion, until the context engine lands.

Two sources, each a pure function in ``context/`` fed here with files from disk (or from
the editor's open documents): the database schema for code that builds SQL
(``context.sql_schema``), and the definitions of the functions under test in a test file
(``context.test_subject``). The result goes on top of the prefix as a comment block.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from copilot_lsp.context import sql_schema, test_subject
from copilot_lsp.prompt.fim import Budget, clip_prefix

ReadText = Callable[[Path], str | None]
"""Path -> text (the open document's text when the editor has it), None if unreadable."""

SCHEMA_RESCAN_SECONDS = 10.0
MAX_CONTEXT_SHARE = 0.4
"""The extra context takes at most this share of the prefix budget."""
LANGUAGES = {
    ".py": "python",
    ".go": "go",
    ".js": "javascript",
    ".mjs": "javascript",
    ".ts": "typescript",
    ".jsx": "javascript",
    ".tsx": "typescript",
}


def read_file(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def language_of(path: Path, language_id: str = "") -> str:
    return LANGUAGES.get(path.suffix.lower(), language_id or "")


class SchemaCache:
    """Workspace scans for CREATE TABLE, redone at most every few seconds per root."""

    def __init__(self, ttl: float = SCHEMA_RESCAN_SECONDS) -> None:
        self.ttl = ttl
        self._scans: dict[Path, tuple[float, list[tuple[str, str]]]] = {}

    def sources(self, root: Path) -> list[tuple[str, str]]:
        now = time.monotonic()
        cached = self._scans.get(root)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        found = sql_schema.scan_workspace(root)
        self._scans[root] = (now, found)
        return found


def module_reader(
    test_path: Path, language: str, root: Path | None, read: ReadText
) -> test_subject.ReadModule:
    """Resolve import specs as seen from ``test_path`` to source text."""
    directory = test_path.parent

    def read_module(spec: str) -> str | None:
        if language == "go":
            texts = [
                text
                for path in sorted(directory.glob("*.go"))
                if not path.name.endswith("_test.go") and (text := read(path)) is not None
            ]
            return "\n".join(texts) or None
        if language == "python":
            relative = Path(*spec.lstrip(".").split("."))
            bases = [directory, *([root, root / "src"] if root else []), *directory.parents[:3]]
            candidates = [b / relative.with_suffix(".py") for b in bases]
            candidates += [b / relative / "__init__.py" for b in bases]
        else:
            base = (directory / spec).resolve()
            suffixes = ("", ".js", ".ts", ".mjs", ".jsx", ".tsx")
            candidates = [base.with_name(base.name + s) for s in suffixes]
            candidates += [base / "index.js", base / "index.ts"]
        for candidate in candidates:
            if candidate.is_file():
                return read(candidate)
        return None

    return read_module


def extra_context(
    path: Path | None,
    language_id: str,
    prefix: str,
    root: Path | None,
    schemas: SchemaCache,
    read: ReadText = read_file,
) -> str:
    """The comment block to put above the prefix ("" when nothing applies)."""
    if path is None:
        return ""
    language = language_of(path, language_id)
    blocks: list[str] = []
    if test_subject.is_test_file(path.name):
        reader = module_reader(path, language, root, read)
        blocks.append(test_subject.definitions_snippet(prefix, language, reader))
    workspace = root or path.parent
    if sql_schema.builds_sql(prefix, language):
        blocks.append(sql_schema.schema_snippet(schemas.sources(workspace), prefix, language))
    return "".join(block for block in blocks if block)


def with_context(context: str, prefix: str, budget: Budget) -> str:
    """``context`` on top of ``prefix``, the prefix clipped so both fit the budget."""
    if not context:
        return prefix
    context = context[: int(budget.prefix_chars * MAX_CONTEXT_SHARE)]
    context = context[: context.rfind("\n") + 1]
    return context + "\n" + clip_prefix(prefix, budget.prefix_chars - len(context) - 1)
