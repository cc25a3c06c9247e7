"""The snippet-provider interface every source of cross-file context implements.

A provider gets a :class:`ContextQuery` (where the cursor is, what is around it, the
engine's views of open documents and the workspace) and returns :class:`Snippet` candidates
with a relevance score in [0, 1]. The engine weighs the scores by provider, ranks, dedups
and budgets; a provider only has to find and score. To add one, implement
:class:`SnippetProvider` and pass it to ``ContextEngine(providers=...)`` or
``engine.add_provider(...)``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from copilot_lsp.context.workspace import WorkspaceIndex
    from copilot_lsp.syntax import ParsedDocument


@dataclass(frozen=True)
class Snippet:
    path: str
    """Workspace-relative path of the file the text comes from (shown to the model)."""
    text: str
    """Code in that file's language (signatures, a window of lines, a whole definition)."""
    source: str
    """The provider that found it (``imports``, ``similar``, ``recent``, ...)."""
    score: float
    """Relevance within its provider, 0..1."""
    start_line: int = 0
    """0-based line of ``text`` in its file, when it is a verbatim slice (else 0)."""
    file: str = ""
    """The file's identity: its absolute path (the URI for a document with none). ``path``
    is only a label: two workspace folders may both have ``src/util.py``. Empty when the
    provider does not know it; ``path`` then stands in."""

    @property
    def origin(self) -> str:
        """What tells this snippet's file from the others."""
        return self.file or self.path

    @property
    def key(self) -> str:
        """Identity across requests: same file and text -> same snippet."""
        text = self.text.encode("utf-8", "surrogatepass")
        digest = hashlib.blake2b(text, digest_size=8).hexdigest()
        return f"{self.origin}#{digest}"


@dataclass
class OpenFile:
    """An open document as providers see it."""

    uri: str
    path: str
    """Workspace-relative (the file name alone outside every workspace folder): a label."""
    language: str | None
    parsed: ParsedDocument
    version: int = 0
    file: str = ""
    """Absolute path (the URI when the document has none): the document's identity."""

    @property
    def text(self) -> str:
        return self.parsed.text


@dataclass
class ContextQuery:
    uri: str
    path: str
    """Absolute path of the current document ("" when it has none)."""
    language: str | None
    text: str
    """The whole current document as the request sees it."""
    cursor: int
    """Code-point offset of the cursor in ``text``."""
    window: str = ""
    """The local window that goes into the prompt (snippets inside it are dropped)."""
    open_files: Mapping[str, OpenFile] = field(default_factory=dict)
    """Other open documents by URI (the current one excluded)."""
    workspace: WorkspaceIndex | None = None
    parsed: ParsedDocument | None = None
    """The current document's syntax tree (None for languages without a grammar)."""
    read: Callable[[Path], str | None] | None = None
    """Text of a file by absolute path: the open document's if open, else the disk's."""

    @property
    def prefix(self) -> str:
        return self.text[: self.cursor]

    @property
    def suffix(self) -> str:
        return self.text[self.cursor :]


class SnippetProvider(Protocol):
    name: str
    weight: float
    """Multiplies this provider's scores when snippets of all providers are ranked."""

    def snippets(self, query: ContextQuery) -> Iterable[Snippet]: ...
