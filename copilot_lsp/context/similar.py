"""Similar code from other open documents: sliding windows ranked by Jaccard similarity.

As Copilot does with neighboring tabs: the identifiers of the lines just above the cursor
are compared with those of fixed-size windows of every other open document; each
document's best window is a candidate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from copilot_lsp.context.snippets import ContextQuery, Snippet

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COMMON = frozenset(
    {"self", "this", "return", "if", "else", "for", "in", "def", "class", "import", "from",
     "const", "let", "var", "func", "function", "the", "a", "an", "to", "of", "is", "and",
     "or", "not", "none", "null", "true", "false", "new", "int", "str"}
)  # fmt: skip


_FAMILIES = {"javascript": "js", "typescript": "js", "tsx": "js", "c": "c", "cpp": "c"}


def _family(language: str | None) -> str | None:
    """Languages whose code is worth comparing with each other."""
    return _FAMILIES.get(language or "", language)


def tokens(text: str) -> frozenset[str]:
    return frozenset(t for t in _IDENTIFIER.findall(text) if t.lower() not in _COMMON)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass
class SimilarWindows:
    """Provider over the other open documents (their window token sets cached per version)."""

    window_lines: int = 30
    step: int = 10
    min_score: float = 0.08
    name: str = "similar"
    weight: float = 0.7
    _cache: dict[str, tuple[int, str, list[tuple[int, frozenset[str]]]]] = field(
        default_factory=dict, repr=False
    )

    def _windows(self, uri: str, version: int, text: str) -> list[tuple[int, frozenset[str]]]:
        cached = self._cache.get(uri)
        if cached is not None and cached[0] == version and cached[1] is text:
            return cached[2]
        lines = text.split("\n")
        starts = range(0, max(len(lines) - self.window_lines, 0) + 1, self.step)
        windows = [
            (start, tokens("\n".join(lines[start : start + self.window_lines]))) for start in starts
        ]
        self._cache[uri] = (version, text, windows)
        return windows

    def snippets(self, query: ContextQuery) -> Iterable[Snippet]:
        prefix = query.prefix
        start = len(prefix)
        for _ in range(self.window_lines):
            start = prefix.rfind("\n", 0, start)
            if start <= 0:
                start = 0
                break
        wanted = tokens(prefix[start:])
        if not wanted:
            return []
        self._cache = {u: c for u, c in self._cache.items() if u in query.open_files}
        found = []
        for uri, document in query.open_files.items():
            if query.language and _family(document.language) != _family(query.language):
                continue
            best_score, best_start = 0.0, 0
            for start, window in self._windows(uri, document.version, document.text):
                score = jaccard(wanted, window)
                if score > best_score:
                    best_score, best_start = score, start
            if best_score >= self.min_score:
                lines = document.text.split("\n")[best_start : best_start + self.window_lines]
                found.append(
                    Snippet(
                        document.path,
                        "\n".join(lines),
                        self.name,
                        best_score,
                        best_start,
                        document.file,
                    )
                )
        return found
