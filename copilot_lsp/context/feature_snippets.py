"""Two snippet providers for special places in the code: the database schema where code
builds SQL, and the definitions under test inside a test function.

The finding and scoring lives in the pure modules :mod:`~copilot_lsp.context.sql_schema`
and :mod:`~copilot_lsp.context.test_subject`; this module feeds them files (the editor's
text when a file is open) and turns what they find into :class:`Snippet` objects, so the
engine ranks and budgets them with every other source of context.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from copilot_lsp.context import sql_schema, test_subject
from copilot_lsp.context.snippets import ContextQuery, Snippet

log = logging.getLogger(__name__)

ReadText = Callable[[Path], str | None]
"""Path -> text (the open document's text when the editor has it), None if unreadable."""

SCHEMA_RESCAN_SECONDS = 10.0
FIRST_SCAN_WAIT_SECONDS = 0.2
"""How long the first SQL request of a folder waits for its scan: enough for a small
project, short enough that the engine (its lock) is never held long by a big one."""


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
            file = str(home) if home is not None else ""
            snippets.append(Snippet(label, definition, self.name, 1.0 - 0.1 * rank, file=file))
        return snippets


@dataclass
class _Scan:
    """One workspace folder's schema scan: the last finished result, and whether a
    background scan is running."""

    found: list[tuple[str, str]] | None = None
    finished: float = 0.0
    running: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    """Set when the first scan ends."""


class SchemaTables:
    """Where the code builds SQL: the ``CREATE TABLE`` statements of the tables it uses,
    found in the workspace (``.sql`` files, migrations, SQL strings in code).

    The workspace folder is scanned in a background thread (the provider runs under the
    engine's lock, so a scan there would stall document events); a request uses the last
    finished scan and starts a new one when that is older than ``rescan_seconds``. A
    document outside every workspace folder gets the tables of the open documents only:
    its own folder may be anything (the home folder, another project).
    """

    name = "sql_schema"
    weight = 1.2

    def __init__(
        self,
        rescan_seconds: float = SCHEMA_RESCAN_SECONDS,
        first_wait_seconds: float = FIRST_SCAN_WAIT_SECONDS,
    ) -> None:
        self.rescan_seconds = rescan_seconds
        self.first_wait_seconds = first_wait_seconds
        self._scans: dict[Path, _Scan] = {}
        self._lock = threading.Lock()

    def sources(self, root: Path, max_file_bytes: int) -> list[tuple[str, str]]:
        """``(relative path, text)`` of the files with tables, from the last finished scan
        (empty until the first one ends, after a short wait)."""
        with self._lock:
            scan = self._scans.setdefault(root, _Scan())
            stale = scan.found is None or time.monotonic() - scan.finished >= self.rescan_seconds
            if stale and not scan.running:
                scan.running = True
                threading.Thread(
                    target=self._scan,
                    args=(root, scan, max_file_bytes),
                    name="sql-schema-scan",
                    daemon=True,
                ).start()
        if scan.found is None:
            scan.done.wait(self.first_wait_seconds)
        return scan.found or []

    def _scan(self, root: Path, scan: _Scan, max_file_bytes: int) -> None:
        found: list[tuple[str, str]] = []
        try:
            found = sql_schema.scan_workspace(root, max_file_bytes)
        except Exception:  # a failed scan leaves no schema, never a stuck "running"
            log.exception("SQL schema scan of %s failed", root)
        with self._lock:
            scan.found, scan.finished, scan.running = found, time.monotonic(), False
        scan.done.set()

    def snippets(self, query: ContextQuery) -> Iterable[Snippet]:
        language = query.language or ""
        if not sql_schema.builds_sql(query.prefix, language):
            return []
        workspace = query.workspace
        root = workspace.root_of(Path(query.path)) if workspace is not None and query.path else None
        if workspace is None or root is None:  # no walk of an arbitrary folder
            sources, labels = _open_sources(query)
        else:
            found = self.sources(root, workspace.limits.max_file_bytes)
            sources = [(str(root / relative), text) for relative, text in found]
            labels = {str(root / relative): relative for relative, _ in found}
        tables = sql_schema.schema_tables(sources, query.prefix, language)
        return [
            Snippet(
                labels.get(table.source, table.source),
                table.statement,
                self.name,
                1.0 - 0.1 * rank,
                file=table.source,
            )
            for rank, table in enumerate(tables)
        ]


def _open_sources(query: ContextQuery) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """``(file, text)`` of the other open documents that define tables, and their labels."""
    documents = [d for d in query.open_files.values() if sql_schema.has_create_table(d.text)]
    sources = [(document.file or document.uri, document.text) for document in documents]
    labels = {
        document.file or document.uri: document.path or document.uri for document in documents
    }
    return sources, labels
