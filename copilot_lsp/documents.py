"""Open documents: text, versions, and LSP positions in any negotiated encoding.

LSP positions count lines split only at ``\\n``, ``\\r\\n`` and ``\\r`` and characters in
UTF-16 code units unless the client negotiated UTF-8 or UTF-32; Python strings index
code points. Everything here converts between the two exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class PositionError(ValueError):
    """A position that does not exist in the document."""


def code_units(char: str, encoding: str) -> int:
    point = ord(char)
    if encoding == UTF16:
        return 2 if point > 0xFFFF else 1
    if encoding == UTF8:
        return 1 if point < 0x80 else 2 if point < 0x800 else 3 if point < 0x10000 else 4
    return 1


def units_in(text: str, encoding: str) -> int:
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", errors="surrogatepass"))
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2


def column_to_index(line: str, character: int, encoding: str) -> int:
    """Code-point index in ``line`` for an LSP character offset, clamped to the line.

    An offset that falls inside one character (half a surrogate pair) rounds down.
    """
    if character <= 0:
        return 0
    if encoding == UTF32 or line.isascii():
        return min(character, len(line))
    used = 0
    for index, char in enumerate(line):
        used += code_units(char, encoding)
        if used > character:
            return index
    return len(line)


@dataclass
class Document:
    uri: str
    text: str
    language_id: str = ""
    version: int = 0
    _line_starts: list[int] | None = field(default=None, repr=False)

    @property
    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            self._line_starts = [0] + [m.end() for m in _LINE_BREAK.finditer(self.text)]
        return self._line_starts

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    def line_text(self, line: int) -> str:
        """The text of ``line`` without its line break."""
        starts = self.line_starts
        end = starts[line + 1] if line + 1 < len(starts) else len(self.text)
        return self.text[starts[line] : end].rstrip("\r\n")

    def offset_at(self, line: int, character: int, encoding: str, *, clamp: bool = False) -> int:
        """Code-point offset of an LSP position.

        Characters past the end of a line mean the end of the line (as the spec says);
        a line past the end of the document is an error unless ``clamp`` is set.
        """
        if line < 0 or line >= self.line_count:
            if not clamp:
                raise PositionError(
                    f"line {line} is outside the document ({self.line_count} lines)"
                )
            return 0 if line < 0 else len(self.text)
        column = column_to_index(self.line_text(line), character, encoding)
        return self.line_starts[line] + column

    def position_at(self, offset: int, encoding: str) -> tuple[int, int]:
        """LSP (line, character) of a code-point offset."""
        offset = max(0, min(offset, len(self.text)))
        starts = self.line_starts
        low, high = 0, len(starts) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if starts[middle] <= offset:
                low = middle
            else:
                high = middle - 1
        column_text = self.text[starts[low] : offset]
        return low, units_in(column_text, encoding)

    def apply_change(
        self,
        text: str,
        start: tuple[int, int] | None,
        end: tuple[int, int] | None,
        encoding: str,
    ) -> None:
        """Replace the range ``start``..``end`` (or the whole text when no range is given)."""
        if start is None or end is None:
            self.text = text
        else:
            begin = self.offset_at(*start, encoding, clamp=True)
            finish = self.offset_at(*end, encoding, clamp=True)
            if finish < begin:
                begin, finish = finish, begin
            self.text = self.text[:begin] + text + self.text[finish:]
        self._line_starts = None


class DocumentStore:
    """The documents the editor has open, by URI."""

    def __init__(self) -> None:
        self._documents: dict[str, Document] = {}
        self.encoding = UTF16

    def open(self, uri: str, text: str, language_id: str, version: int) -> Document:
        document = Document(uri, text, language_id, version)
        self._documents[uri] = document
        return document

    def get(self, uri: str) -> Document | None:
        return self._documents.get(uri)

    def close(self, uri: str) -> None:
        self._documents.pop(uri, None)

    def __len__(self) -> int:
        return len(self._documents)
