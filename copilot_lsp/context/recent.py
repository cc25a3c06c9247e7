"""Recently edited regions of other files, most recent first."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from copilot_lsp.context.snippets import ContextQuery, Snippet
from copilot_lsp.syntax import common_affixes


def changed_lines(old: str, new: str) -> tuple[int, int] | None:
    """The line span of ``new`` that differs from ``old`` (None when equal)."""
    if old == new:
        return None
    start, end = common_affixes(old, new)
    first = new.count("\n", 0, start)
    last = new.count("\n", 0, len(new) - end)
    return first, max(first, last)


@dataclass
class RecentEdits:
    """A ring of (uri, line) edit locations; rendered from the documents' current text."""

    capacity: int = 16
    context_lines: int = 4
    max_snippets: int = 3
    name: str = "recent"
    weight: float = 0.6
    _edits: deque[tuple[str, int, int]] = field(default_factory=deque, repr=False)

    def record(self, uri: str, old: str, new: str) -> None:
        span = changed_lines(old, new)
        if span is None:
            return
        first, last = span
        # An edit next to the latest one of the same file extends it (typing a line).
        if self._edits and self._edits[0][0] == uri:
            _, top, bottom = self._edits[0]
            if first <= bottom + self.context_lines and last >= top - self.context_lines:
                self._edits[0] = (uri, min(top, first), max(bottom, last))
                return
        self._edits.appendleft((uri, first, last))
        while len(self._edits) > self.capacity:
            self._edits.pop()

    def forget(self, uri: str) -> None:
        self._edits = deque(edit for edit in self._edits if edit[0] != uri)

    def snippets(self, query: ContextQuery) -> Iterable[Snippet]:
        found: list[Snippet] = []
        for rank, (uri, first, last) in enumerate(self._edits):
            document = query.open_files.get(uri)
            if document is None or uri == query.uri:
                continue
            lines = document.text.split("\n")
            start = max(first - self.context_lines, 0)
            text = "\n".join(lines[start : last + self.context_lines + 1])
            if text.strip():
                score = 1.0 / (1 + rank)
                found.append(Snippet(document.path, text, self.name, score, start, document.file))
            if len(found) >= self.max_snippets:
                break
        return found
