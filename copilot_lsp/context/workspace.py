"""An index of the workspace folders' source files, built in the background.

It lists the files the other providers may read (import resolution), respecting
.gitignore files and size limits, and reads a file's text lazily, caching it by mtime.
``didSave`` and ``workspace/didChangeWatchedFiles`` refresh single entries.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from copilot_lsp.context import gitignore
from copilot_lsp.syntax import language_of

log = logging.getLogger(__name__)

SKIPPED_FOLDERS = frozenset(
    {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".mypy_cache",
     ".pytest_cache", ".ruff_cache", ".tox", "dist", "build", "target", ".idea", ".vscode"}
)  # fmt: skip


@dataclass(frozen=True)
class IndexLimits:
    max_file_bytes: int = 256 * 1024
    """Larger files (generated code, bundles, data) are left out."""
    max_files: int = 5000
    """Per workspace folder; the walk stops there."""


@dataclass
class IndexedFile:
    root: Path
    relative: str
    """``/``-separated path relative to the workspace folder."""
    language: str
    mtime: float
    size: int

    @property
    def absolute(self) -> Path:
        return self.root / self.relative


class WorkspaceIndex:
    def __init__(self, limits: IndexLimits | None = None) -> None:
        self.limits = limits or IndexLimits()
        self.roots: list[Path] = []
        self._files: dict[Path, IndexedFile] = {}
        self._texts: dict[Path, tuple[float, str]] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.generation = 0
        self._paths: tuple[int, frozenset[Path]] | None = None
        """Bumped on every change, so providers can cache what they derive from the index."""

    # --- building ------------------------------------------------------------------------

    def add_folder(self, folder: str | Path, background: bool = True) -> None:
        root = Path(folder).resolve()
        if root in self.roots or not root.is_dir():
            return
        self.roots.append(root)
        if background:
            thread = threading.Thread(target=self._scan, args=(root,), daemon=True)
            self._threads.append(thread)
            thread.start()
        else:
            self._scan(root)

    def remove_folder(self, folder: str | Path) -> None:
        root = Path(folder).resolve()
        with self._lock:
            if root in self.roots:
                self.roots.remove(root)
            self._files = {p: f for p, f in self._files.items() if f.root != root}
            self.generation += 1

    def wait(self, timeout: float | None = None) -> None:
        """Block until background scans end (tests, the eval harness, benchmarks)."""
        for thread in list(self._threads):
            thread.join(timeout)

    def _scan(self, root: Path) -> None:
        found: dict[Path, IndexedFile] = {}
        rules: list[gitignore.Rule] = []
        for folder, subfolders, names in os.walk(root):
            here = Path(folder)
            relative_folder = here.relative_to(root).as_posix()
            relative_folder = "" if relative_folder == "." else relative_folder
            if ".gitignore" in names:
                try:
                    text = (here / ".gitignore").read_text(encoding="utf-8", errors="replace")
                    rules += gitignore.parse(text, relative_folder)
                except OSError:
                    pass

            def joined(name: str, base: str = relative_folder) -> str:
                return f"{base}/{name}" if base else name

            subfolders[:] = sorted(
                name
                for name in subfolders
                if name not in SKIPPED_FOLDERS
                and not gitignore.ignored(rules, joined(name), is_folder=True)
            )
            for name in sorted(names):
                relative = joined(name)
                language = language_of(path=name)
                if language is None or gitignore.ignored(rules, relative, is_folder=False):
                    continue
                entry = self._stat(root, relative, language)
                if entry is not None:
                    found[entry.absolute] = entry
                if len(found) >= self.limits.max_files:
                    log.warning("workspace %s: indexing stopped at %d files", root, len(found))
                    break
            if len(found) >= self.limits.max_files:
                break
        with self._lock:
            self._files.update(found)
            self.generation += 1
        log.info("workspace %s: %d source files indexed", root, len(found))

    def _stat(self, root: Path, relative: str, language: str) -> IndexedFile | None:
        try:
            stat = (root / relative).stat()
        except OSError:
            return None
        if stat.st_size > self.limits.max_file_bytes:
            return None
        return IndexedFile(root, relative, language, stat.st_mtime, stat.st_size)

    # --- updates -------------------------------------------------------------------------

    def root_of(self, path: Path) -> Path | None:
        for root in sorted(self.roots, key=lambda r: len(r.parts), reverse=True):
            if path == root or root in path.parents:
                return root
        return None

    def refresh(self, path: str | Path) -> None:
        """A file was saved, created or changed on disk."""
        absolute = Path(path).resolve()
        root = self.root_of(absolute)
        language = language_of(path=absolute.name)
        if root is None or language is None:
            return
        entry = self._stat(root, absolute.relative_to(root).as_posix(), language)
        with self._lock:
            if entry is None:
                self._files.pop(absolute, None)
            else:
                self._files[absolute] = entry
            self._texts.pop(absolute, None)
            self.generation += 1

    def remove(self, path: str | Path) -> None:
        absolute = Path(path).resolve()
        with self._lock:
            self._files.pop(absolute, None)
            self._texts.pop(absolute, None)
            self.generation += 1

    # --- reading -------------------------------------------------------------------------

    def files(self) -> list[IndexedFile]:
        with self._lock:
            return list(self._files.values())

    def paths(self) -> frozenset[Path]:
        """Absolute paths of the indexed files (cached until the index changes)."""
        with self._lock:
            cached = self._paths
            if cached is None or cached[0] != self.generation:
                cached = (self.generation, frozenset(self._files))
                self._paths = cached
            return cached[1]

    def get(self, path: str | Path) -> IndexedFile | None:
        with self._lock:
            return self._files.get(Path(path))

    def relative_path(self, path: str | Path) -> str:
        """Path relative to its workspace folder; outside all of them, the file name alone
        (a prompt has no use for the user's home folder layout)."""
        absolute = Path(path)
        root = self.root_of(absolute)
        return absolute.relative_to(root).as_posix() if root else absolute.name

    def read(self, path: str | Path) -> str | None:
        """The file's text, read once per mtime; None when not indexed or unreadable."""
        entry = self.get(path)
        if entry is None:
            return None
        absolute = entry.absolute
        cached = self._texts.get(absolute)
        if cached is not None and cached[0] == entry.mtime:
            return cached[1]
        try:
            text = absolute.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        self._texts[absolute] = (entry.mtime, text)
        return text
