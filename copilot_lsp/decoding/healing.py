"""Token healing: the prompt's last word is left out and the model writes it again, under
the constraint that it spells what the user typed.

A prompt that ends inside a word (``ret``) ends on tokens the tokenizer would not have
chosen had the word been finished (``return``): the model never saw ``ret`` followed by
``urn`` and guesses badly. Healing drops that word from the prompt and lets the model pick
the first tokens itself, among those whose text agrees with the dropped text.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


class VocabularyIndex:
    """Token ids by their bytes, to find every token that starts with some text."""

    def __init__(self, pieces: Sequence[bytes]) -> None:
        """``pieces[id]``: the bytes of token ``id``; b"" for special and control tokens."""
        self.pieces = pieces
        order = sorted((piece, token) for token, piece in enumerate(pieces) if piece)
        self._sorted = [piece for piece, _ in order]
        self._ids = np.array([token for _, token in order], dtype=np.int64)
        self._by_piece = {piece: token for piece, token in reversed(order)}

    def agreeing(self, text: bytes) -> np.ndarray:
        """Ids of the tokens that start with ``text`` or are a proper start of it."""
        start = bisect_left(self._sorted, text)
        end = bisect_left(self._sorted, _after_all_starting_with(text), lo=start)
        longer = self._ids[start:end]
        shorter = [
            token
            for length in range(1, len(text))
            if (token := self._by_piece.get(text[:length])) is not None
        ]
        return np.concatenate([longer, np.array(shorter, dtype=np.int64)])


def _after_all_starting_with(text: bytes) -> bytes:
    """The least bytes string above every string that starts with ``text``."""
    stem = text.rstrip(b"\xff")
    if not stem:
        return b"\xff" * (len(text) + 64)  # above any token (tokens are far shorter)
    return stem[:-1] + bytes([stem[-1] + 1])


@dataclass
class Healing:
    """The text a generation must first spell out (the bytes dropped from the prompt), and
    the vocabulary to find the tokens that do."""

    pending: bytes
    vocabulary: VocabularyIndex

    @property
    def active(self) -> bool:
        return bool(self.pending)

    def constrain(self, logits: np.ndarray) -> np.ndarray:
        """``logits`` with every token that disagrees with the pending text ruled out."""
        allowed = self.vocabulary.agreeing(self.pending)
        constrained = np.full_like(logits, -np.inf)
        constrained[allowed] = logits[allowed]
        return constrained

    def consume(self, piece: bytes) -> None:
        """Account for a generated token's bytes."""
        self.pending = b"" if piece.startswith(self.pending) else self.pending[len(piece) :]


_WORD_AT_END = re.compile(rb"(?:[^\w\r\n]|_)?[a-zA-Z\x80-\xff]+\Z")
"""The word the text ends in, with the one character before it that byte-level BPE
tokenizers (GPT-2, Qwen, Llama 3) keep in the same piece: ``.Connection``, `` sqlite``.
(Non-ASCII bytes count as letters.)"""

_LOOK_BACK = 8
"""Tokens looked at for the word the prompt ends in."""


def heal(tokens: list[int], vocabulary: VocabularyIndex) -> tuple[list[int], Healing | None]:
    """The prompt without its last piece of text, and the healing that writes it again.

    The piece is the word the prompt ends in, whole: ``.Connectio`` splits into
    ``.Connect`` ``io``, while the finished word is the one token ``.Connection``, so
    dropping ``io`` alone would still leave the model a split it never saw. A prompt that
    ends in other text drops its last token; one that ends in a special marker is kept.
    """
    start = len(tokens)
    while start > 1 and len(tokens) - start < _LOOK_BACK and vocabulary.pieces[tokens[start - 1]]:
        start -= 1
    if start == len(tokens):
        return tokens, None
    text = b"".join(vocabulary.pieces[token] for token in tokens[start:])
    word = _WORD_AT_END.search(text)
    wanted = len(word.group()) if word else len(vocabulary.pieces[tokens[-1]])
    cut, dropped = len(tokens), b""
    while len(dropped) < wanted:
        cut -= 1
        dropped = vocabulary.pieces[tokens[cut]] + dropped
    return tokens[:cut], Healing(dropped, vocabulary)
