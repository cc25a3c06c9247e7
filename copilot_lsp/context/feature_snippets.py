"""Two snippet providers for special places in the code: the database schema where code
builds SQL, and the definitions under test inside a test function.

The finding and scoring lives in the pure modules :mod:`~copilot_lsp.context.sql_schema`
and :mod:`~copilot_lsp.context.test_subject`; this module feeds them files (the editor's
text when a file is open) and turns what they find into :class:`Snippet` objects, so the
engine ranks and budgets them with every other source of context.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from copilot_lsp.context import sql_schema, test_subject
from copilot_lsp.context.snippets import ContextQuery, Snippet

ReadText = Callable[[Path], str | None]
"""Path -> text (the open document's text when the editor has it), None if unreadable."""

SCHEMA_RESCAN_SECONDS = 10.0


def read_file(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _root(query: ContextQuery) -> Path | None:
    if not query.path:
        return None
    path = Path(query.path)
    root = query.workspace.root_of(path) if query.workspace is not None else None
    return root or path.parent


def _display(path: Path, root: Path | None) -> str:
    if root is not None and (path == root or root in path.parents):
        return path.relative_to(root).as_posix()
    return path.name


class ModuleFiles:
    """Import specs as seen from a test file, resolved to module files."""

    def __init__(self, test_path: Path, language: str, root: Path | None, read: ReadText):
        self.directory = test_path.parent
        self.language = language
        self.root = root
        self.read = read

    def files(self, spec: str) -> list[Path]:
        directory = self.directory
        if self.language == "go":  # a Go test is in its package: the package's other files
            return [p for p in sorted(directory.glob("*.go")) if not p.name.endswith("_test.go")]
        if self.language == "python":
            relative = Path(*spec.lstrip(".").split("."))
            roots = [self.root, self.root / "src"] if self.root else []
            bases = [directory, *roots, *directory.parents[:3]]
            candidates = [b / relative.with_suffix(".py") for b in bases]
            candidates += [b / relative / "__init__.py" for b in bases]
        else:
            base = (directory / spec).resolve()
            suffixes = ("", ".js", ".ts", ".mjs", ".jsx", ".tsx")
            candidates = [base.with_name(base.name + s) for s in suffixes]
            candidates += [base / "index.js", base / "index.ts"]
        return next(([c] for c in candidates if c.is_file()), [])

    def source(self, spec: str) -> str | None:
        """The text of the module (of the whole package for Go); a ``ReadModule``."""
        texts = [text for path in self.files(spec) if (text := self.read(path)) is not None]
        return "\n".join(texts) or None


class DefinitionsUnderTest:
    """In a test function: the definitions of the functions the test calls."""

    name = "test_subject"
    weight = 1.2
    """Above imported signatures: the whole definition under test is what the next
    assertion needs."""

    def snippets(self, query: ContextQuery) -> Iterable[Snippet]:
        if not query.path or not test_subject.is_test_file(Path(query.path).name):
            return []
        path, root = Path(query.path), _root(query)
        modules = ModuleFiles(path, query.language or "", root, query.read or read_file)
        found = test_subject.definitions_under_test(
            query.prefix, query.language or "", modules.source
        )
        snippets = []
        for rank, (spec, definition) in enumerate(found):
            files = modules.files(spec)
            home = next((f for f in files if definition in (modules.read(f) or "")), None)
            label = _display(home, root) if home is not None else spec
            snippets.append(Snippet(label, definition, self.name, 1.0 - 0.1 * rank))
        return snippets


class SchemaTables:
    """Where the code builds SQL: the ``CREATE TABLE`` statements of the tables it uses,
    found in the workspace (``.sql`` files, migrations, SQL strings in code)."""

    name = "sql_schema"
    weight = 1.2

    def __init__(self, rescan_seconds: float = SCHEMA_RESCAN_SECONDS) -> None:
        self.rescan_seconds = rescan_seconds
        self._scans: dict[Path, tuple[float, list[tuple[str, str]]]] = {}
        self._lock = threading.Lock()

    def sources(self, root: Path) -> list[tuple[str, str]]:
        """``(relative path, text)`` of the files with tables; rescanned every few seconds."""
        with self._lock:
            cached = self._scans.get(root)
            if cached is not None and time.monotonic() - cached[0] < self.rescan_seconds:
                return cached[1]
        found = sql_schema.scan_workspace(root)
        with self._lock:
            self._scans[root] = (time.monotonic(), found)
        return found

    def snippets(self, query: ContextQuery) -> Iterable[Snippet]:
        language = query.language or ""
        root = _root(query)
        if root is None or not sql_schema.builds_sql(query.prefix, language):
            return []
        tables = sql_schema.schema_tables(self.sources(root), query.prefix, language)
        return [
            Snippet(table.source, table.statement, self.name, 1.0 - 0.1 * rank)
            for rank, table in enumerate(tables)
        ]
