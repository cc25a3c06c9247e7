"""An index of the workspace folders' source files, built in the background.

It lists the regular files the other providers may read (import resolution), respecting
.gitignore files, skipped folders and size limits, and reads a file's text lazily, caching
it by mtime and size; a read checks the file on disk first, so a deleted or rewritten file
never feeds a prompt its old text. ``didSave`` and ``workspace/didChangeWatchedFiles``
refresh single entries, under the same rules as the scan.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from dataclasses import dataclass, replace
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


def _gitignore_rules(folder: Path, relative_folder: str) -> list[gitignore.Rule]:
    """The rules of ``folder``'s .gitignore (none when it has none or it is unreadable)."""
    try:
        text = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return gitignore.parse(text, relative_folder)


def _admitted(root: Path, relative: str) -> bool:
    """Whether the scan would reach and keep ``relative``: no skipped or gitignored folder
    on its way, and the file not ignored by the .gitignore files of its folders."""
    parts = relative.split("/")
    rules = _gitignore_rules(root, "")
    for depth in range(1, len(parts)):
        folder = "/".join(parts[:depth])
        if parts[depth - 1] in SKIPPED_FOLDERS or gitignore.ignored(rules, folder, is_folder=True):
            return False
        rules += _gitignore_rules(root / folder, folder)
    return not gitignore.ignored(rules, relative, is_folder=False)


class WorkspaceIndex:
    def __init__(self, limits: IndexLimits | None = None) -> None:
        self.limits = limits or IndexLimits()
        self.roots: list[Path] = []
        self._files: dict[Path, IndexedFile] = {}
        self._texts: dict[Path, tuple[tuple[float, int], str]] = {}
        """Text by ``(mtime, size)`` of the file when it was read."""
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
            self._texts = {p: t for p, t in self._texts.items() if p in self._files}
            self.generation += 1

    def wait(self, timeout: float | None = None) -> None:
        """Block until background scans end (tests, the eval harness, benchmarks)."""
        for thread in list(self._threads):
            thread.join(timeout)

    def _scan(self, root: Path) -> None:
        found: dict[Path, IndexedFile] = {}
        rules: list[gitignore.Rule] = []
        for folder, subfolders, names in os.walk(root):
            if root not in self.roots:
                log.info("workspace %s: removed while indexing", root)
                return
            here = Path(folder)
            relative_folder = here.relative_to(root).as_posix()
            relative_folder = "" if relative_folder == "." else relative_folder
            if ".gitignore" in names:
                rules += _gitignore_rules(here, relative_folder)

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
            if root not in self.roots:  # removed (didChangeWorkspaceFolders) meanwhile
                return
            self._files.update(found)
            self.generation += 1
        log.info("workspace %s: %d source files indexed", root, len(found))

    def _stat(self, root: Path, relative: str, language: str) -> IndexedFile | None:
        try:
            info = (root / relative).stat()
        except OSError:
            return None
        if not self._indexable(info):
            return None
        return IndexedFile(root, relative, language, info.st_mtime, info.st_size)

    def _indexable(self, info: os.stat_result) -> bool:
        """A regular file within the size limit: reading a named pipe or a device (a
        ``.py`` symlink to /dev/zero) would block or never end."""
        return stat.S_ISREG(info.st_mode) and info.st_size <= self.limits.max_file_bytes

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
        relative = absolute.relative_to(root).as_posix()
        entry = self._stat(root, relative, language) if _admitted(root, relative) else None
        with self._lock:
            if entry is None:
                self._files.pop(absolute, None)
            else:
                self._files[absolute] = entry
            self._texts.pop(absolute, None)
            self.generation += 1

    def remove(self, path: str | Path) -> None:
        self._drop(Path(path).resolve())

    def _drop(self, absolute: Path) -> None:
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
        """The file's text, read again when its mtime or size changed on disk; None when
        not indexed or unreadable. A file gone from disk, grown past the size limit or no
        longer a regular file leaves the index (one fstat per read)."""
        entry = self.get(path)
        if entry is None:
            return None
        absolute = entry.absolute
        try:
            # O_NONBLOCK: a file replaced by a named pipe must not block the open.
            fd = os.open(absolute, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            self._drop(absolute)
            return None
        with os.fdopen(fd, encoding="utf-8", errors="replace") as file:
            try:
                info = os.fstat(fd)
                if not self._indexable(info):
                    self._drop(absolute)
                    return None
                version = (info.st_mtime, info.st_size)
                if version != (entry.mtime, entry.size):
                    self._update(entry, info)
                with self._lock:
                    cached = self._texts.get(absolute)
                if cached is not None and cached[0] == version:
                    return cached[1]
                text = file.read()
            except OSError:
                return None
        with self._lock:
            self._texts[absolute] = (version, text)
        return text

    def _update(self, entry: IndexedFile, info: os.stat_result) -> None:
        """The file changed on disk since it was indexed: record its new mtime and size."""
        changed = replace(entry, mtime=info.st_mtime, size=info.st_size)
        with self._lock:
            if self._files.get(entry.absolute) is entry:
                self._files[entry.absolute] = changed
                self.generation += 1
