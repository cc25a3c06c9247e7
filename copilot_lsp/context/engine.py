"""The context engine: open documents, workspace index, recent edits, snippet selection.

The server feeds it document and workspace events; a completion asks it for the cursor
analysis and for the cross-file snippets that fit a token budget. Selection:

1. every provider proposes scored snippets (weighted by provider);
2. snippets already inside the local window, empty ones and duplicates are dropped;
3. snippets chosen for the previous request of the same document get a bonus, so the
   block only changes when the user's edit really changes what is relevant;
4. the best ones are taken while they fit the budget;
5. the order is stable: snippets kept from the previous request stay in their order, new
   ones follow (least relevant first, so the most relevant sits nearest the cursor).
   A prompt that starts the same way as the last one lets the backend reuse its KV cache.
"""

from __future__ import annotations

import functools
import logging
import stat
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote, urlparse

from copilot_lsp.context.feature_snippets import DefinitionsUnderTest, SchemaTables
from copilot_lsp.context.imports import ImportedDefinitions
from copilot_lsp.context.recent import RecentEdits
from copilot_lsp.context.similar import SimilarWindows
from copilot_lsp.context.snippets import ContextQuery, OpenFile, Snippet, SnippetProvider
from copilot_lsp.context.workspace import IndexLimits, WorkspaceIndex
from copilot_lsp.syntax import CursorAnalysis, ParsedDocument, analyze, analyze_text, language_of

log = logging.getLogger(__name__)

CountTokens = Callable[[str], int]


@functools.lru_cache(maxsize=4096)
def uri_to_path(uri: str) -> Path | None:
    """The file system path of a ``file:`` URI (None for untitled and other schemes, and
    for a file on another host), resolved like the workspace index's paths: a folder
    opened through a symlink keeps its documents inside it. Cached: resolving costs a
    syscall per path component."""
    parsed = urlparse(uri)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        return None
    return Path(unquote(parsed.path)).resolve()


def _normalized_lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def inside_window(snippet: Snippet, window_lines: set[str], threshold: float = 0.8) -> bool:
    """Whether most of the snippet's lines already appear in the local window."""
    lines = _normalized_lines(snippet.text)
    if not lines:
        return True
    present = sum(line in window_lines for line in lines)
    return present >= threshold * len(lines)


MIN_TRUNCATED_TOKENS = 48
"""A snippet cut to fit must keep at least this many tokens to be worth its place."""


def truncated(snippet: Snippet, tokens: int, count: CountTokens) -> Snippet | None:
    """The snippet's first lines that fit ``tokens`` (with a ``...`` line), or None."""
    if tokens < MIN_TRUNCATED_TOKENS:
        return None
    used = count(f"{snippet.path}\n") + count("...\n") + 2
    kept: list[str] = []
    for line in snippet.text.split("\n"):
        cost = count(line + "\n")
        if used + cost > tokens:
            break
        kept.append(line)
        used += cost
    if used < MIN_TRUNCATED_TOKENS or len(kept) < 2:
        return None
    return replace(snippet, text="\n".join([*kept, "..."]))


@dataclass(frozen=True)
class ContextSettings:
    max_snippets: int = 12
    sticky_bonus: float = 1.3
    """Rank multiplier for snippets chosen for the previous request (stability)."""
    index: IndexLimits = field(default_factory=IndexLimits)


class ContextEngine:
    def __init__(
        self,
        settings: ContextSettings | None = None,
        providers: list[SnippetProvider] | None = None,
    ) -> None:
        self.settings = settings or ContextSettings()
        self.workspace = WorkspaceIndex(self.settings.index)
        self.recent = RecentEdits()
        self.providers: list[SnippetProvider] = (
            providers
            if providers is not None
            else [
                ImportedDefinitions(),
                SimilarWindows(),
                self.recent,
                DefinitionsUnderTest(),
                SchemaTables(),
            ]
        )
        self._open: dict[str, OpenFile] = {}
        self._layout: dict[str, list[str]] = {}
        self._lock = threading.RLock()
        """Documents change on the server's event loop while completions read them in a
        worker thread (tree-sitter edits trees in place)."""

    def add_provider(self, provider: SnippetProvider) -> None:
        """Plug in another source of snippets (an SQL schema, test-file context, ...)."""
        self.providers.append(provider)

    # --- events --------------------------------------------------------------------------

    def add_workspace_folder(self, folder: str, background: bool = True) -> None:
        """A folder path or ``file:`` URI; indexed in a background thread by default."""
        path = uri_to_path(folder) if "://" in folder else Path(folder)
        if path is not None:
            self.workspace.add_folder(path, background)

    def remove_workspace_folder(self, folder: str) -> None:
        path = uri_to_path(folder) if "://" in folder else Path(folder)
        if path is not None:
            self.workspace.remove_folder(path)

    def open(self, uri: str, text: str, language_id: str = "", version: int = 0) -> None:
        path = uri_to_path(uri)
        language = language_of(language_id, str(path or uri))
        parsed = ParsedDocument(text, language) if language else ParsedDocument(text, "")
        file = str(path) if path is not None else uri
        with self._lock:
            self._open[uri] = OpenFile(uri, self.display_path(uri), language, parsed, version, file)

    def change(self, uri: str, text: str, version: int = 0) -> None:
        """The document's new full text (the store applied the incremental edits)."""
        with self._lock:
            document = self._open.get(uri)
            if document is None:
                return
            self.recent.record(uri, document.text, text)
            document.parsed.update(text)
            document.version = version

    def save(self, uri: str) -> None:
        path = uri_to_path(uri)
        if path is not None:
            self.workspace.refresh(path)

    def close(self, uri: str) -> None:
        with self._lock:
            self._open.pop(uri, None)
            self._layout.pop(uri, None)
            self.recent.forget(uri)

    def files_changed(self, changes: Iterable[tuple[str, bool]]) -> None:
        """``(uri, deleted)`` pairs from ``workspace/didChangeWatchedFiles``."""
        for uri, deleted in changes:
            path = uri_to_path(uri)
            if path is None:
                continue
            if deleted:
                self.workspace.remove(path)
            else:
                self.workspace.refresh(path)

    # --- queries -------------------------------------------------------------------------

    def document(self, uri: str) -> OpenFile | None:
        return self._open.get(uri)

    def display_path(self, uri: str) -> str:
        """The path shown to the model: relative to its workspace folder when inside one."""
        path = uri_to_path(uri)
        if path is None:
            return ""
        return self.workspace.relative_path(path)

    def repo_name(self, uri: str) -> str:
        path = uri_to_path(uri)
        root = self.workspace.root_of(path) if path is not None else None
        return root.name if root is not None else ""

    def read(self, path: Path) -> str | None:
        """An open document's text, else the indexed (or, with no folders, the disk's) file."""
        for document in list(self._open.values()):
            if uri_to_path(document.uri) == path:
                return document.text
        if self.workspace.roots:
            return self.workspace.read(path)
        try:
            found = path.stat()
            # A named pipe or a device would block the read (and the engine with it).
            if stat.S_ISREG(found.st_mode) and found.st_size <= self.settings.index.max_file_bytes:
                return path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            pass
        return None

    def analyze(self, uri: str, prefix: str, suffix: str, language: str | None) -> CursorAnalysis:
        """Cursor analysis from the document's incremental tree when the request matches
        the document's text, else from a fresh parse."""
        with self._lock:
            document = self._open.get(uri)
            if (
                document is not None
                and document.parsed.tree is not None
                and len(document.text) == len(prefix) + len(suffix)
                and document.text.startswith(prefix)
                and document.text.endswith(suffix)
            ):
                return analyze(document.parsed, len(prefix))
        return analyze_text(prefix, suffix, language)

    def snippets(
        self,
        uri: str,
        prefix: str,
        suffix: str,
        language: str | None,
        window: str,
        budget_tokens: int,
        count: CountTokens,
    ) -> list[Snippet]:
        """Ranked, deduplicated snippets that fit ``budget_tokens``, in stable order."""
        if budget_tokens <= 0 or not self.providers:
            return []
        text = prefix + suffix
        path = uri_to_path(uri)
        with self._lock:
            document = self._open.get(uri)
            parsed = document.parsed if document is not None else None
            if parsed is None or parsed.text != text:
                parsed = ParsedDocument(text, language or "")
            query = ContextQuery(
                uri=uri,
                path=str(path) if path is not None else "",
                language=language,
                text=text,
                cursor=len(prefix),
                window=window,
                open_files={u: d for u, d in self._open.items() if u != uri},
                workspace=self.workspace,
                parsed=parsed,
                read=self.read,
            )
            candidates: list[tuple[float, Snippet]] = []
            for provider in self.providers:
                try:
                    found = list(provider.snippets(query))
                except Exception:  # one broken provider must not break completion
                    log.exception("context provider %s failed", provider.name)
                    continue
                candidates += [(provider.weight * snippet.score, snippet) for snippet in found]
            return self._select(uri, candidates, window, budget_tokens, count)

    def _identity(self, uri: str) -> Callable[[Snippet], bool]:
        """Whether a snippet comes from the document itself: by absolute path, since two
        workspace folders may share a relative path; by label for a snippet with no file."""
        path = uri_to_path(uri)
        files = {uri} | ({str(path)} if path is not None else set())
        label = self.display_path(uri)
        return lambda snippet: (
            snippet.file in files if snippet.file else bool(label) and snippet.path == label
        )

    def _select(
        self,
        uri: str,
        candidates: list[tuple[float, Snippet]],
        window: str,
        budget_tokens: int,
        count: CountTokens,
    ) -> list[Snippet]:
        previous = self._layout.get(uri, [])
        sticky = set(previous)
        window_lines = set(_normalized_lines(window))
        own = self._identity(uri)
        ranked = sorted(
            candidates,
            key=lambda item: (
                -(item[0] * (self.settings.sticky_bonus if item[1].key in sticky else 1))
            ),
        )
        chosen: list[Snippet] = []
        costs: dict[str, int] = {}
        used = 0
        for _, snippet in ranked:
            if len(chosen) >= self.settings.max_snippets:
                break
            if not snippet.text.strip() or own(snippet):
                continue
            if inside_window(snippet, window_lines):
                continue
            if any(
                other.origin == snippet.origin and snippet.text.strip() in other.text
                for other in chosen
            ):
                continue
            cost = count(f"{snippet.path}\n{snippet.text}\n") + 2
            if used + cost > budget_tokens:
                # A big class summary still helps by its head (fields, constructor, first
                # methods): keep the lines that fit rather than nothing.
                snippet = truncated(snippet, budget_tokens - used, count)
                if snippet is None:
                    continue
                cost = count(f"{snippet.path}\n{snippet.text}\n") + 2
            # A bigger window of the same file that contains an earlier pick replaces it.
            replaced = [
                other
                for other in chosen
                if other.origin == snippet.origin and other.text.strip() in snippet.text
            ]
            chosen = [other for other in chosen if other not in replaced]
            used -= sum(costs.pop(other.key, 0) for other in replaced)
            chosen.append(snippet)
            costs[snippet.key] = cost
            used += cost
        by_key = {snippet.key: snippet for snippet in chosen}
        kept = [by_key[key] for key in previous if key in by_key]
        new = [snippet for snippet in reversed(chosen) if snippet.key not in sticky]
        ordered = kept + new
        self._layout[uri] = [snippet.key for snippet in ordered]
        return ordered
